"""semester_earned_credits: fewer credits earned in a semester than the minimum."""
import pytest

from services.warnings.domain.evaluation import evaluate_student
from services.warnings.domain.model import GradeRecord
from services.warnings.domain.policy import Policy, PolicyError

A21, S22, U22, A22 = "2021-2022-1", "2021-2022-2", "2021-2022-3", "2022-2023-1"


def rec(semester, course, score, *, exam="regular", credits=1.0, ctype="required"):
    return GradeRecord("s1", semester, course, f"课程{course}", credits, ctype, exam, str(score))


def policy(**options):
    return Policy.from_dict({"version": "earned", "escalation": False, "rules": {
        "semester_earned_credits": {"thresholds": {"yellow": 10, "orange": 6}, **options}}})


def earned(records, semester, p=None):
    standing = evaluate_student(records, p or policy())[semester]
    reasons = [r for r in standing.reasons if r["rule"] == "semester_earned_credits"]
    return (standing.level, reasons[0]["measure"] if reasons else None,
            sorted(c["course_code"] for c in reasons[0]["courses"]) if reasons else [])


def test_credits_of_every_course_type_passed_this_semester_count():
    records = [rec(A21, "R", "70", credits=4), rec(A21, "E", "合格", credits=1.5, ctype="elective"),
               rec(A21, "X", "40", credits=5), rec(A21, "L", "缺考", credits=3, ctype="restricted")]
    assert earned(records, A21) == ("orange", 5.5, ["E", "R"])      # < 6
    assert earned(records + [rec(A21, "M", "60", credits=0.5)], A21) == ("yellow", 6.0, ["E", "M", "R"])


def test_enough_credits_give_no_warning():
    records = [rec(A21, "R", "70", credits=6), rec(A21, "Q", "95", credits=4), rec(A21, "X", "40", credits=5)]
    assert earned(records, A21) == (None, None, [])


def test_a_make_up_pass_counts_in_its_semester_and_a_retake_pass_in_the_retake_semester():
    records = [rec(A21, "R", "70", credits=6), rec(A21, "X", "40", credits=3), rec(A21, "X", "60", exam="makeup",
                                                                                    credits=3),
               rec(A21, "Y", "30", credits=4),
               rec(S22, "Z", "80", credits=5), rec(S22, "Y", "66", exam="retake", credits=4)]
    assert earned(records, A21) == ("yellow", 9.0, ["R", "X"])
    assert earned(records, S22) == ("yellow", 9.0, ["Y", "Z"])


def test_retaking_a_passed_course_earns_nothing_new():
    records = [rec(A21, "R", "62", credits=10), rec(S22, "R", "90", exam="retake", credits=10),
               rec(S22, "N", "80", credits=8)]
    assert earned(records, S22) == ("yellow", 8.0, ["N"])


def test_a_semester_with_no_regular_exam_or_a_summer_term_is_not_judged():
    records = [rec(A21, "R", "70", credits=12), rec(S22, "R2", "50", exam="retake", credits=2),
               rec(U22, "P", "80", credits=2)]
    standings = evaluate_student(records, policy())
    assert standings[S22].level is None and standings[U22].level is None
    assert earned(records, U22, policy(summer_terms=True)) == ("orange", 2.0, ["P"])


def test_course_types_narrow_what_counts():
    records = [rec(A21, "R", "70", credits=8), rec(A21, "E", "90", credits=4, ctype="elective")]
    assert earned(records, A21) == (None, None, [])
    assert earned(records, A21, policy(course_types=["required", "restricted"])) == ("yellow", 8.0, ["R"])


@pytest.mark.parametrize("options, message", [
    ({"summer_terms": "no"}, "option summer_terms must be true or false, not 'no'"),
    ({"course_types": ["core"]}, "option course_types must be a non-empty list"),
])
def test_bad_options_say_what_is_wrong(options, message):
    with pytest.raises(PolicyError, match=f"rule semester_earned_credits: {message}"):
        policy(**options)
