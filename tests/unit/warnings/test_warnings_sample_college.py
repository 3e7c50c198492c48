"""Acceptance: the demo college's 14 uploads, applied in order under the default policy, give exactly the final
levels and the changes (upload by upload) that expected.json names."""
import json
from collections import Counter
from pathlib import Path

import pytest

from services.warnings.domain.evaluation import diff_standings, evaluate_student
from services.warnings.domain.model import GradeRecord
from services.warnings.domain.policy import load_default_policy

SAMPLE = Path(__file__).resolve().parents[3] / "demo" / "sample_college"

# The file words of files.md; in the running system the grades service resolves these at input.
EXAM_TYPE = {"正常考试": "regular", "补考": "makeup", "重修": "retake", "缓考": "deferred"}
COURSE_TYPE = {"必修": "required", "限选": "restricted", "选修": "elective", "公选": "elective"}


def canonical(row: dict) -> GradeRecord:
    return GradeRecord(
        student_id=str(row["学号"]), semester=row["学年学期"], course_code=row["课程代码"],
        course_name=row["课程名称"], credits=float(row["学分"]), course_type=COURSE_TYPE[row["课程性质"]],
        exam_type=EXAM_TYPE[row["考试性质"]], score=str(row["成绩"]))


@pytest.fixture(scope="module")
def replay():
    """Apply the uploads in order as the service does: store by natural key, re-evaluate the touched students,
    diff against the previous state. Returns (changes per upload, final standings per student)."""
    grades = json.loads((SAMPLE / "all_grades.json").read_text(encoding="utf-8"))
    policy = load_default_policy()
    records: dict[str, dict[tuple, GradeRecord]] = {}
    levels: dict[str, dict[str, str | None]] = {}
    standings: dict[str, dict] = {}
    per_upload = []
    for upload in grades["uploads"]:
        touched = set()
        for row in upload["rows"]:
            record = canonical(row)
            # Natural key: a later upload of the same sitting overwrites the earlier record.
            key = (record.semester, record.course_code, record.exam_type)
            records.setdefault(record.student_id, {})[key] = record
            touched.add(record.student_id)
        changes = []
        for student_id in sorted(touched):
            after = evaluate_student(records[student_id].values(), policy)
            changes += diff_standings(student_id, levels.get(student_id, {}), after)
            levels[student_id] = {semester: s.level for semester, s in after.items()}
            standings[student_id] = after
        per_upload.append(changes)
    return per_upload, standings


@pytest.fixture(scope="module")
def expected():
    return json.loads((SAMPLE / "expected.json").read_text(encoding="utf-8"))


def test_final_levels_match_expected(replay, expected):
    _, standings = replay
    got = {f"{student}|{semester}": {"level": s.level, "rules": sorted(s.rules), "escalated": s.escalated}
           for student, by_semester in standings.items() for semester, s in by_semester.items() if s.level}
    assert got == expected["levels"]


def test_changes_match_expected_upload_by_upload(replay, expected):
    per_upload, _ = replay
    remaining = list(expected["event_list"])
    for number, changes in enumerate(per_upload, start=1):
        got = Counter((c.kind, c.student_id, c.semester, c.old_level, c.new_level) for c in changes)
        # The flat list is in upload order; this upload's changes are the next len(changes) entries.
        want = Counter(tuple(e) for e in remaining[:len(changes)])
        assert got == want, f"upload {number}"
        remaining = remaining[len(changes):]
    assert remaining == []


def test_change_totals_match_expected(replay, expected):
    per_upload, _ = replay
    assert Counter(c.kind for changes in per_upload for c in changes) == \
        Counter({k: v for k, v in expected["events"].items() if v})


def test_reasons_are_event_shaped(replay):
    from contracts.events import ReasonSchema
    _, standings = replay
    reasons = [r for by_semester in standings.values() for s in by_semester.values() for r in s.reasons]
    assert reasons
    assert ReasonSchema(many=True).validate(reasons) == {}
