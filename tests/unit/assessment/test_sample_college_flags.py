"""Acceptance: the demo college's 14 uploads, applied in order, flag exactly the offerings expected.json names."""
import json
from pathlib import Path

import pytest

from services.assessment.domain.failure_rates import course_failure_rates, offering_label
from services.assessment.domain.flags import flag_decisions

SAMPLE = Path(__file__).resolve().parents[3] / "demo" / "sample_college"

# The file words of files.md; in the running system the grades service resolves these at input.
EXAM_TYPE = {"正常考试": "regular", "补考": "makeup", "重修": "retake", "缓考": "deferred"}
COURSE_TYPE = {"必修": "required", "限选": "restricted", "选修": "elective", "公选": "elective"}


def canonical(row: dict) -> dict:
    return {
        "student_id": str(row["学号"]),
        "semester": row["学年学期"],
        "course_code": row["课程代码"],
        "course_name": row["课程名称"],
        "credits": float(row["学分"]),
        "course_type": COURSE_TYPE[row["课程性质"]],
        "exam_type": EXAM_TYPE[row["考试性质"]],
        "score": str(row["成绩"]),
        "teacher": row["任课教师"],
        "offering_college": row["开课学院"] or "",
    }


@pytest.fixture(scope="module")
def sample():
    grades = json.loads((SAMPLE / "all_grades.json").read_text(encoding="utf-8"))
    expected = json.loads((SAMPLE / "expected.json").read_text(encoding="utf-8"))
    return grades, set(expected["flags"])


def test_flags_after_all_uploads_match_expected(sample):
    grades, expected = sample
    store: dict[tuple, dict] = {}
    flags: dict[tuple, dict] = {}
    changes = []
    for upload in grades["uploads"]:
        touched, deferred = set(), set()
        for row in upload["rows"]:
            record = canonical(row)
            # Natural key: a later upload of the same sitting overwrites the earlier record.
            store[(record["student_id"], record["semester"], record["course_code"], record["exam_type"])] = record
            touched.add((record["semester"], record["course_code"]))
            if record["exam_type"] == "deferred":
                deferred.add((record["semester"], record["course_code"], record["teacher"]))
        rates = course_failure_rates(store.values())
        recomputed = {key: rate for key, rate in rates.items() if key[:2] in touched}
        for flag in flag_decisions(recomputed, flags, history=rates, home_college="机电工程学院"):
            changes.append(flag)
            key = (flag["semester"], flag["course_code"], flag["teacher"])
            if flag["change"] == "updated":
                # Only a deferred sitting can move a flagged rate here: make-ups never count.
                assert upload["kind"] == "makeup" and key in deferred
            if flag["change"] == "unflagged":
                del flags[key]
            else:
                flags[key] = flag
    assert {offering_label(key) for key in flags} == expected
    assert {flag["change"] for flag in changes} == {"flagged", "updated"}
    assert any(flag["external"] for flag in changes) and not all(flag["external"] for flag in changes)
    assert any(flag["previous_rate"] is not None for flag in changes)
