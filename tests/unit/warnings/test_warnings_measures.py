"""policy.md §2–§3: best grade wins, unresolved and semester failed credits, GPA — measured per semester."""
from decimal import Decimal

import pytest

from services.warnings.domain.measures import grade_point, semester_views
from services.warnings.domain.model import GradeRecord

S1, S2, S3 = "2021-2022-1", "2021-2022-2", "2022-2023-1"


def rec(semester, course, score, *, exam="regular", credits=4.0, ctype="required", name=None, student="s1"):
    return GradeRecord(student, semester, course, name or f"课程{course}", credits, ctype, exam, str(score))


def views(*records):
    return {view.semester: view for view in semester_views(records)}


def outcome(records, semester, course):
    course_result = views(*records)[semester].courses[course]
    return course_result.score


# --- §2 best grade wins -----------------------------------------------------------------------------------

@pytest.mark.parametrize("scores, best", [
    (["50", "合格"], "合格"),          # a pass beats a fail, even without a number
    (["合格", "70"], "70"),            # among passes a number beats 合格
    (["免修", "61"], "61"),
    (["不合格", "40"], "40"),          # among fails too
    (["缺考", "不合格"], "缺考"),       # 缺考 counts as 0, a number
    (["55", "58"], "58"),
    (["良好", "80"], "良好"),           # 良好 = 85
    (["及格", "66"], "66"),             # 及格 = 65
])
def test_best_result_wins_whatever_the_order_of_sittings(scores, best):
    records = [rec(S1, "C", scores[0]), rec(S1, "C", scores[1], exam="makeup")]
    assert outcome(records, S1, "C") == best
    retaken = [rec(S1, "C", scores[0]), rec(S2, "C", scores[1], exam="retake")]
    assert outcome(retaken, S2, "C") == best


def test_outcome_at_a_semester_only_sees_records_up_to_it():
    records = [rec(S1, "C", "40"), rec(S3, "C", "75", exam="retake")]
    by = views(*records)
    assert by[S1].courses["C"].score == "40"
    assert S2 not in by                                # no record in S2: not a view
    assert by[S3].courses["C"].score == "75"


def test_no_result_records_have_no_outcome_but_make_the_semester_evaluated():
    by = views(rec(S1, "C", "缓考"), rec(S1, "D", ""), rec(S1, "E", "取消"))
    assert set(by) == {S1}
    assert all(course.result is None for course in by[S1].courses.values())
    assert by[S1].unresolved_failed_credits().value == 0
    assert by[S1].semester_failed_credits().value == 0
    assert by[S1].gpa().value is None


def test_a_later_no_result_record_does_not_erase_an_earlier_outcome():
    by = views(rec(S1, "C", "40"), rec(S2, "C", "", exam="retake"))
    assert by[S2].courses["C"].score == "40"
    assert by[S2].unresolved_failed_credits().value == 4


# --- §3 unresolved failed credits ---------------------------------------------------------------------------

def test_unresolved_failed_credits_count_required_and_restricted_fails_only():
    by = views(rec(S1, "A", "50", credits=4), rec(S1, "B", "缺考", credits=3, ctype="restricted"),
               rec(S1, "C", "作弊", credits=2, ctype="elective"), rec(S1, "D", "不合格", credits=1.5),
               rec(S1, "E", "90", credits=5))
    measured = by[S1].unresolved_failed_credits()
    assert measured.value == Decimal("8.5")
    assert sorted(c.course_code for c in measured.courses) == ["A", "B", "D"]


def test_a_retake_pass_resolves_the_course_from_its_semester_on():
    by = views(rec(S1, "A", "50", credits=10), rec(S3, "A", "60", exam="retake", credits=10), rec(S2, "B", "80"))
    assert by[S1].unresolved_failed_credits().value == 10
    assert by[S2].unresolved_failed_credits().value == 10
    assert by[S3].unresolved_failed_credits().value == 0


def test_credits_and_type_come_from_the_latest_record_up_to_the_semester():
    by = views(rec(S1, "A", "50", credits=3), rec(S3, "A", "40", exam="retake", credits=4, ctype="elective"),
               rec(S2, "B", "80"))
    assert by[S2].unresolved_failed_credits().value == 3
    assert by[S3].unresolved_failed_credits().value == 0     # now an elective: not counted
    assert by[S3].gpa().graded_credits == 8                   # GPA counts all types, with the latest credits


def test_credit_sums_are_exact_decimals():
    by = views(*(rec(S1, f"C{i}", "50", credits=0.1) for i in range(100)))
    assert by[S1].unresolved_failed_credits().value == 10


# --- §3 semester failed credits ------------------------------------------------------------------------------

def test_a_make_up_pass_repairs_the_semester():
    by = views(rec(S1, "A", "50"), rec(S1, "A", "60", exam="makeup"), rec(S1, "B", "40"),
               rec(S1, "B", "45", exam="makeup"))
    measured = by[S1].semester_failed_credits()
    assert measured.value == 4
    assert [(c.course_code, c.score) for c in measured.courses] == [("B", "45")]


def test_a_later_retake_does_not_change_the_semester_figure():
    by = views(rec(S1, "A", "50"), rec(S2, "A", "80", exam="retake"))
    assert by[S1].semester_failed_credits().value == 4
    assert by[S2].semester_failed_credits().value == 0     # a retake is not a regular-exam record of S2
    assert by[S2].unresolved_failed_credits().value == 0


def test_a_retake_in_the_semester_does_not_repair_its_regular_exam():
    by = views(rec(S2, "A", "50"), rec(S2, "B", "45", exam="retake"), rec(S2, "A", "90", exam="retake"))
    assert by[S2].semester_failed_credits().value == 4    # only regular / deferred / make-up of S2 count
    assert by[S2].unresolved_failed_credits().value == 4  # B failed; A passed by the retake


def test_a_deferred_exam_is_a_regular_exam():
    by = views(rec(S1, "A", "缓考"), rec(S1, "A", "30", exam="deferred"),
               rec(S1, "B", "缓考"), rec(S1, "B", "70", exam="deferred"))
    assert by[S1].semester_failed_credits().value == 4
    assert by[S1].unresolved_failed_credits().value == 4


def test_a_regular_record_without_result_still_makes_the_course_sat_in_the_semester():
    by = views(rec(S1, "A", "缓考"), rec(S1, "A", "不及格", exam="makeup"))
    assert by[S1].semester_failed_credits().value == 4


def test_courses_without_a_regular_record_or_without_result_are_not_counted():
    by = views(rec(S1, "A", "40", exam="makeup"), rec(S1, "B", "缓考"), rec(S1, "C", "作弊", ctype="elective"),
               rec(S1, "D", "缺考", credits=2, ctype="restricted"))
    measured = by[S1].semester_failed_credits()
    assert measured.value == 2
    assert [c.course_code for c in measured.courses] == ["D"]


# --- §3 GPA ----------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("number, point", [
    ("100", "4"), ("90", "4"), ("89.5", "3.95"), ("75", "2.5"), ("60", "1"), ("59.9", "0"), ("0", "0"),
])
def test_grade_point(number, point):
    assert grade_point(Decimal(number)) == Decimal(point)


def test_gpa_is_credit_weighted_over_numeric_outcomes_of_all_course_types():
    by = views(rec(S1, "A", "90", credits=4), rec(S1, "B", "70", credits=2, ctype="elective"),
               rec(S1, "C", "合格", credits=10), rec(S1, "D", "优秀", credits=2))
    gpa = by[S1].gpa()
    assert gpa.graded_credits == 8
    assert gpa.value == Decimal("3.5")      # (4*4 + 2*2 + 4*2) / 8
    assert sorted(c.course_code for c in gpa.courses) == ["A", "B", "D"]


def test_gpa_leaves_out_a_course_whose_outcome_has_no_number_even_with_numeric_records():
    by = views(rec(S1, "A", "50"), rec(S1, "A", "合格", exam="makeup"), rec(S1, "B", "80"))
    gpa = by[S1].gpa()
    assert gpa.graded_credits == 4
    assert gpa.value == 3


def test_gpa_is_not_rounded_and_exact():
    # 69 and 71 average to exactly 2.0; binary floats would give 1.9999999999999998.
    by = views(rec(S1, "A", "69", credits=2.5), rec(S1, "B", "71", credits=2.5))
    assert by[S1].gpa().value == 2
