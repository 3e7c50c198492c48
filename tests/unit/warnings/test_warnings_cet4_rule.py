"""cet4_not_passed: CET-4 not passed by the end of the third year (degree risk), from grade records of CET-4."""
from decimal import Decimal

import pytest

from contracts.events import ReasonSchema
from services.warnings.domain.evaluation import evaluate_student
from services.warnings.domain.model import GradeRecord
from services.warnings.domain.policy import Policy, PolicyError
from services.warnings.domain.rules.cet4_not_passed import study_years

# A student who entered in autumn 2021: the third year ends with 2023-2024-2.
Y1A, Y1S, Y2A, Y2S, Y3A, Y3S, Y3U, Y4A = ("2021-2022-1", "2021-2022-2", "2022-2023-1", "2022-2023-2",
                                          "2023-2024-1", "2023-2024-2", "2023-2024-3", "2024-2025-1")


def rec(semester, course, score, *, exam="regular", credits=1.0, ctype="required"):
    return GradeRecord("s1", semester, course, f"课程{course}", credits, ctype, exam, str(score))


def cet(semester, score, code="CET4"):
    return rec(semester, code, score, credits=0.5, ctype="elective")


def enrolled(*semesters):
    """A passed ordinary course in each semester, so the student is evaluated there."""
    return [rec(s, f"C-{s}", "85") for s in semesters]


def policy(**options):
    return Policy.from_dict({"version": "cet", "escalation": False, "rules": {
        "cet4_not_passed": {"thresholds": {"yellow": 3, "orange": 3.5}, **options}}})


def levels(records, p=None):
    return {s: standing.level for s, standing in evaluate_student(records, p or policy()).items()}


@pytest.mark.parametrize("semester, years", [(Y1A, "0.5"), (Y1S, "1"), (Y3A, "2.5"), (Y3S, "3"), (Y3U, "3"),
                                             (Y4A, "3.5"), ("2025-2026-2", "5")])
def test_study_years_count_half_a_year_for_an_autumn_term(semester, years):
    assert study_years(Y1A, semester) == Decimal(years)


def test_not_passed_warns_at_the_end_of_the_third_year_and_more_a_semester_later():
    records = enrolled(Y1A, Y1S, Y2A, Y2S, Y3A, Y3S, Y4A) + [cet(Y1S, "不合格"), cet(Y2A, "不合格")]
    assert levels(records) == {Y1A: None, Y1S: None, Y2A: None, Y2S: None, Y3A: None, Y3S: "yellow", Y4A: "orange"}
    reason = evaluate_student(records, policy())[Y3S].reasons[0]
    assert reason["rule"] == "cet4_not_passed" and reason["measure"] == 3.0 and reason["threshold"] == 3.0
    assert [c["course_code"] for c in reason["courses"]] == ["CET4"]     # the failed sittings behind it
    assert ReasonSchema().validate(reason) == {}


def test_one_passing_sitting_is_enough_from_its_semester_on():
    records = enrolled(Y1A, Y3S, Y4A) + [cet(Y1A, "不合格"), cet(Y4A, "合格")]
    assert levels(records) == {Y1A: None, Y3S: "yellow", Y4A: None}


def test_never_sat_counts_as_not_passed():
    records = enrolled(Y1A, Y3S)
    standing = evaluate_student(records, policy())[Y3S]
    assert standing.level == "yellow" and standing.reasons[0]["courses"] == []


def test_the_entry_year_is_the_year_of_the_first_record():
    # First record in 2022-2023: at 2023-2024-2 the student has completed two years only.
    records = enrolled(Y2A, Y3S, "2024-2025-2")
    assert levels(records) == {Y2A: None, Y3S: None, "2024-2025-2": "yellow"}


def test_the_course_codes_are_an_option():
    records = enrolled(Y1A, Y3S) + [cet(Y1S, "合格", code="ENG-CET4")]
    assert levels(records)[Y3S] == "yellow"                                   # CET4 not found
    assert levels(records, policy(course_codes=["ENG-CET4", "CET4"]))[Y3S] is None


@pytest.mark.parametrize("value", [[], "CET4", [""], [4]])
def test_bad_course_codes_say_what_is_wrong(value):
    with pytest.raises(PolicyError, match="rule cet4_not_passed: option course_codes must be a non-empty list"):
        policy(course_codes=value)
