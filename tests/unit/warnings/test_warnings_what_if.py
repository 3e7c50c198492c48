"""What-if (services/warnings/domain/whatif.py): a candidate policy against today's, on the same records."""
import json
from collections import Counter

import pytest

from services.warnings.domain.model import GradeRecord
from services.warnings.domain.policy import DEFAULT_POLICY_PATH, Policy, load_default_policy
from services.warnings.domain.whatif import NOT_IN_ROSTER, answer, compare, report
from tests.unit.warnings.test_warnings_sample_college import SAMPLE, canonical

A21, S22, A22 = "2021-2022-1", "2021-2022-2", "2022-2023-1"

# The default policy with the unresolved-credit thresholds lowered (yellow 10 -> 8, orange 15 -> 12) and no GPA rule.
CANDIDATE = """
version: "lower-unresolved"
rules:
  unresolved_failed_credits:
    thresholds: {yellow: 8, orange: 12, red: 25}
  semester_failed_credits:
    thresholds: {yellow: 8, orange: 12}
"""


def rec(student, semester, course, score, credits):
    return GradeRecord(student, semester, course, f"课程{course}", float(credits), "required", "regular", score)


# The hand-checked case. Today = the default policy (unresolved ≥10/15/25, semester ≥8/12, GPA <2.0/1.8 from 20
# graded credits); the candidate = CANDIDATE.
HISTORIES = {
    # A21: 5 failed (15 graded credits: GPA not judged). S22: 9 unresolved, GPA 80/29 = 2.76. A22: 9 unresolved.
    # Today nothing; candidate: S22 yellow (9 ≥ 8), A22 yellow escalated after S22 -> orange.
    "s1": [rec("s1", A21, "F1", "40", 5), rec("s1", A21, "P1", "90", 10),
           rec("s1", S22, "F2", "40", 4), rec("s1", S22, "P2", "90", 10),
           rec("s1", A22, "P3", "90", 10)],
    # A21: 6 unresolved. S22: 12 unresolved, semester 6, GPA 80/32 = 2.5. Today S22 yellow; candidate orange.
    "s2": [rec("s2", A21, "F1", "40", 6), rec("s2", A21, "P1", "90", 10),
           rec("s2", S22, "F2", "40", 6), rec("s2", S22, "P2", "90", 10)],
    # 20 credits at 65: GPA 1.5 -> orange today; the candidate has no GPA rule: lifted.
    "s3": [rec("s3", A21, "P1", "65", 10), rec("s3", A21, "P2", "65", 10)],
    # 8 failed + 12 at 65: semester 8 -> yellow, GPA 18/20 = 0.9 -> orange today; candidate yellow: downgraded.
    "s4": [rec("s4", A21, "F1", "50", 8), rec("s4", A21, "P1", "65", 12)],
    # All well under both.
    "s5": [rec("s5", A21, "P1", "85", 20)],
}
PEOPLE = {"s1": {"name": "甲", "cohort": 2021, "class_name": "A"},
          "s2": {"name": "乙", "cohort": 2021, "class_name": "A"},
          "s3": {"name": "丙", "cohort": 2022, "class_name": "B"},
          "s5": {"name": "戊", "cohort": 2022, "class_name": "B"}}


def roster(asked):
    def responsibles(student_ids):
        asked.append(list(student_ids))
        return {sid: PEOPLE[sid] for sid in student_ids if sid in PEOPLE}
    return responsibles


def test_the_hand_checked_case():
    asked = []
    got = answer(HISTORIES, load_default_policy(), CANDIDATE, None, roster(asked))
    assert got["status"] == "ok"
    assert (got["current_policy"], got["candidate_policy"], got["students"]) == ("default-1", "lower-unresolved", 5)
    assert [(c["student_id"], c["semester"], c["kind"], c["old_level"], c["new_level"]) for c in got["changes"]] == [
        ("s3", A21, "lifted", "orange", "none"),
        ("s4", A21, "downgraded", "orange", "yellow"),
        ("s1", S22, "issued", "none", "yellow"),
        ("s2", S22, "escalated", "yellow", "orange"),
        ("s1", A22, "issued", "none", "orange"),
    ]
    by_student = {(c["student_id"], c["semester"]): c for c in got["changes"]}
    assert by_student[("s1", A22)]["rules"] == ["unresolved_failed_credits"]
    assert by_student[("s3", A21)]["rules"] == []
    assert by_student[("s1", S22)]["cohort"] == "2021" and by_student[("s1", S22)]["class_name"] == "A"
    assert by_student[("s4", A21)]["cohort"] == NOT_IN_ROSTER
    assert got["by_kind"] == {"issued": 2, "escalated": 1, "downgraded": 1, "lifted": 1, "total": 5}
    assert got["by_level"] == {
        "yellow": {"today": 1, "candidate": 2, "difference": 1},
        "orange": {"today": 2, "candidate": 2, "difference": 0},
        "red": {"today": 0, "candidate": 0, "difference": 0},
        "dismissal": {"today": 0, "candidate": 0, "difference": 0}}
    none = {"issued": 0, "escalated": 0, "downgraded": 0, "lifted": 0}
    assert got["by_cohort"] == {
        NOT_IN_ROSTER: {**none, "downgraded": 1, "total": 1},
        "2021": {**none, "issued": 2, "escalated": 1, "total": 3},
        "2022": {**none, "lifted": 1, "total": 1}}
    assert got["by_class"] == {
        NOT_IN_ROSTER: {**none, "downgraded": 1, "total": 1},
        "A": {**none, "issued": 2, "escalated": 1, "total": 3},
        "B": {**none, "lifted": 1, "total": 1}}
    assert asked == [["s1", "s2", "s3", "s4"]]       # the roster is asked only about students who would change
    json.dumps(got)                                   # the RPC answer travels as JSON


def test_one_semester_is_reported_but_the_whole_history_is_evaluated():
    got = answer(HISTORIES, load_default_policy(), CANDIDATE, A22, roster([]))
    # s1's A22 is orange only because S22, not reported, is now warned.
    assert [(c["student_id"], c["kind"], c["new_level"]) for c in got["changes"]] == [("s1", "issued", "orange")]
    assert got["by_level"]["orange"] == {"today": 0, "candidate": 1, "difference": 1}
    assert got["semester"] == A22
    s22 = answer(HISTORIES, load_default_policy(), CANDIDATE, S22, roster([]))
    assert s22["by_kind"]["total"] == 2 and s22["by_level"]["yellow"] == {"today": 1, "candidate": 1, "difference": 0}


def test_the_running_policy_itself_changes_nothing_and_nobody_is_looked_up():
    asked = []
    got = answer(HISTORIES, load_default_policy(), DEFAULT_POLICY_PATH.read_text(encoding="utf-8"), None,
                 roster(asked))
    assert got["changes"] == [] and got["by_kind"]["total"] == 0
    assert all(counts["difference"] == 0 for counts in got["by_level"].values())
    assert asked == []


@pytest.mark.parametrize("text, semester, message", [
    ("version: x\nrules: {gpa: {thresholds: {amber: 1}}}\n", None, "mine.yml: rule gpa: unknown level 'amber'"),
    ("version: [unclosed\n", None, "mine.yml: not valid YAML"),
    ("rules: {}", None, "mine.yml: version must be a non-empty string"),
    (CANDIDATE, "2023-autumn", "not a semester code: '2023-autumn' (a semester is written like 2023-2024-1"),
    ("", None, "bad request: policy_text: the policy file must hold 1 to 200000 characters"),
    (None, None, "bad request: policy_text: Field may not be null."),
    (CANDIDATE, 20231, "bad request: semester: Not a valid string."),
])
def test_a_policy_or_semester_that_cannot_be_used_is_answered_plainly(text, semester, message):
    got = answer(HISTORIES, load_default_policy(), text, semester, roster([]), source="mine.yml")
    assert got["status"] == "invalid" and got["error"].startswith(message)


@pytest.fixture(scope="module")
def sample_histories():
    grades = json.loads((SAMPLE / "all_grades.json").read_text(encoding="utf-8"))
    latest = {}
    for upload in grades["uploads"]:
        for row in upload["rows"]:
            record = canonical(row)
            latest[(record.student_id, record.semester, record.course_code, record.exam_type)] = record
    histories = {}
    for record in latest.values():
        histories.setdefault(record.student_id, []).append(record)
    return histories


def test_the_default_policy_on_the_sample_college_changes_nothing_and_today_is_the_expected_levels(sample_histories):
    policy = load_default_policy()
    comparison = compare(sample_histories, policy, policy)
    assert comparison.changes == ()
    expected = json.loads((SAMPLE / "expected.json").read_text(encoding="utf-8"))["levels"]
    assert comparison.today == Counter(v["level"] for v in expected.values())


def test_rules_added_to_a_policy_only_ever_raise_levels(sample_histories):
    with_dismissal = (DEFAULT_POLICY_PATH.parent / "with-dismissal.yml").read_text(encoding="utf-8")
    got = report(compare(sample_histories, load_default_policy(), Policy.from_text(with_dismissal)), {})
    assert got["by_kind"]["issued"] > 0 and got["by_level"]["dismissal"]["candidate"] > 0
    assert got["by_kind"]["downgraded"] == got["by_kind"]["lifted"] == 0
