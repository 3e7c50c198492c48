"""Class, head-teacher and department indicators (kpis.md) against figures worked out by hand on the small
college of college_fixture.py."""
from fractions import Fraction as F

import pytest

from services.assessment.domain.facts import Ratio, semester_window
from services.assessment.domain.indicators import (
    all_class_indicators, awards_by_level, cet_rate, class_indicators, department_indicators, duty_compliance,
    failure_count, grade_distribution, graduate_figures, head_teacher_scorecard, regular_results, review_status,
)
from tests.unit.assessment.college_fixture import AS_OF, FLAGS, OUTCOMES, P, RECORDS, S, TASKS, roster

TRACKED = {t.kind for t in TASKS}


@pytest.fixture
def results():
    return regular_results(RECORDS)


def exact(ratio):
    return (ratio.numerator, ratio.denominator)


def test_regular_results_take_regular_and_deferred_sittings_and_skip_pending_and_makeups(results):
    assert results[(S, "a1", "MATH")].numeric == 55          # the make-up 70 does not count
    assert results[(S, "a3", "MATH")].numeric == 65          # 缓考 pending, the deferred sitting counts
    assert results[(S, "a2", "MATH")].is_fail                # 缺考 is a fail


def test_class_failure_rate_counts_results_and_students_of_members_only(results):
    r = roster()
    # A21: a1 MATH F, a1 PHYS P, a2 MATH F, a2 PHYS P, a3 MATH P (deferred 65), a3 PHYS P (合格); a4 withdrew
    a21 = failure_count(results, S, r.members("A21"))
    assert exact(a21.results) == (2, 6) and a21.students_failed == 2 and a21.students_sat == 3
    b21 = failure_count(results, S, r.members("B21"))      # b1 MATH P, b1 PHYS 不合格 F, b2 MATH P
    assert exact(b21.results) == (1, 3) and b21.students_failed == 1
    assert exact(failure_count(results, S, r.members("A22")).results) == (1, 1)
    assert exact(failure_count(results, P, r.members("A21")).results) == (1, 1)


def test_grade_distribution_bands(results):
    dist = grade_distribution(results, S, roster().members("A21"))
    # a1: 55 fail, 80; a2: 缺考 fail, 优秀 95; a3: 65, 合格
    assert list(dist.values()) == [1, 1, 0, 1, 2, 1]


def test_cet_pass_rate_is_ever_passed_by_the_end_of_the_semester():
    members = roster().members("A21")                 # a1 a2 a3
    _, end_of_s = semester_window(S)
    _, end_of_p = semester_window(P)
    assert exact(cet_rate(OUTCOMES, "cet4", members, end_of_s)) == (2, 3)   # a1 430; a2 426 in June 2025
    assert exact(cet_rate(OUTCOMES, "cet4", members, end_of_p)) == (1, 3)   # a2 had only 400 by Feb 2025
    assert exact(cet_rate(OUTCOMES, "cet6", members, end_of_s)) == (1, 3)   # 425 is a pass
    assert exact(cet_rate(OUTCOMES, "cet4", roster().members("B21"))) == (1, 2)  # 424 is not


def test_graduate_figures_of_a_class():
    a21 = graduate_figures(OUTCOMES, roster().graduates(2025, class_name="A21"))
    assert a21.graduates == 3                                      # a4 withdrew
    assert exact(a21.further_study) == (1, 3)                       # a1 升学
    assert exact(a21.postgraduate) == (1, 3)
    assert exact(a21.employment) == (2, 3)                          # a1 升学 + a2 就业; a3 待就业
    assert exact(a21.dual_certificate) == (1, 3)                    # a2 has no degree, a3 nothing
    b21 = graduate_figures(OUTCOMES, roster().graduates(2025, class_name="B21"))
    assert exact(b21.further_study) == (1, 2)                       # b1 出国
    assert exact(b21.postgraduate) == (0, 2)
    assert exact(b21.employment) == (1, 2)                          # b2 has no destination recorded
    assert exact(b21.dual_certificate) == (2, 2)
    assert b21.destinations == {"abroad": 1, "unrecorded": 1}


def test_awards_of_school_level_or_above_in_the_semester():
    start, end = semester_window(S)
    assert awards_by_level(OUTCOMES, roster().members("A21"), start, end) == {
        "school": 1, "provincial": 1, "national": 0, "international": 0}      # 院级 not counted
    assert sum(awards_by_level(OUTCOMES, ["b1"], start, end).values()) == 0  # b1's award is of November 2024


def test_duty_compliance_of_a_head_teacher_per_class():
    r = roster()
    a21 = duty_compliance(TASKS, "T1", S, AS_OF, r.members("A21"), TRACKED)
    assert exact(a21.talks) == (2, 2) and a21.talks_on_time == 1      # t1 on time, t2 late
    assert exact(a21.parent_contacts) == (0, 1) and a21.overdue == 1   # t3 open since 1 April
    assert exact(a21.class_meetings) == (1, 3)                         # t6
    assert a21.observations is None                                    # advising records none yet
    a22 = duty_compliance(TASKS, "T1", S, AS_OF, r.members("A22"), TRACKED)
    assert exact(a22.talks) == (0, 0) and a22.talks.rate is None and a22.overdue == 0   # t4 due 10 July
    b21 = duty_compliance(TASKS, "T2", S, AS_OF, r.members("B21"), TRACKED)
    assert exact(b21.talks) == (0, 1) and b21.overdue == 1 and exact(b21.class_meetings) == (0, 3)


def test_class_indicators_put_it_together(results):
    a21 = class_indicators(roster(), "A21", S, results, OUTCOMES, TASKS, AS_OF, TRACKED)
    assert a21.students == 3 and a21.failure.results.exact == F(1, 3)
    assert a21.graduates is not None and a21.graduates.employment.exact == F(2, 3)
    a22 = class_indicators(roster(), "A22", S, results, OUTCOMES, TASKS, AS_OF, TRACKED)
    assert a22.graduates is None                                         # graduates in 2026
    assert a22.to_dict()["metrics"]["failure_rate"] == 1.0


def test_head_teacher_scorecard_beside_cohort_and_college_averages(results):
    everyone = all_class_indicators(roster(), S, results, OUTCOMES, TASKS, AS_OF, TRACKED)
    card = head_teacher_scorecard(roster(), "T1", S, everyone)
    assert [c["class_name"] for c in card["classes"]] == ["A21", "A22"] and card["name"] == "蒋涛"
    c21, c22, college = card["cohort_average"]["2021"], card["cohort_average"]["2022"], card["college_average"]
    assert c21["failure_rate"] == pytest.approx((1 / 3 + 1 / 3) / 2)          # A21 2/6, B21 1/3
    assert c22["failure_rate"] == pytest.approx(1.0)                          # A22 alone
    assert college["failure_rate"] == pytest.approx((1 / 3 + 1 / 3 + 1) / 3)
    assert c21["employment_rate"] == pytest.approx((2 / 3 + 1 / 2) / 2)
    assert college["employment_rate"] == pytest.approx((2 / 3 + 1 / 2) / 2)   # A22 has no graduates yet
    assert college["talks_done_rate"] == pytest.approx(0.5)                   # A21 1.0, B21 0.0, A22 none due
    assert college["overdue_tasks"] == pytest.approx(2 / 3)                   # 1 + 1 + 0
    assert c21["cet4_pass_rate"] == pytest.approx((2 / 3 + 1 / 2) / 2)
    assert card["class_count"] == {"college": 3, "2021": 2, "2022": 1}


def test_department_indicators_per_major_per_year():
    d = department_indicators(roster(), "机械", 2025, OUTCOMES, FLAGS, TASKS, AS_OF)
    assert d["enrolment"] == {"numerator": 57, "denominator": 60, "rate": 0.95}
    assert department_indicators(roster(), "机械", 2025, OUTCOMES, FLAGS, TASKS, AS_OF, intake_year=2024)[
        "enrolment"] == {"numerator": 45, "denominator": 50, "rate": 0.9}
    assert d["graduates"]["graduates"] == 3                                   # A21 only; A22 graduates in 2026
    assert d["postgraduate_rate"] == pytest.approx(1 / 3)
    assert d["employment_rate"] == pytest.approx(2 / 3)
    assert d["dual_certificate_rate"] == pytest.approx(1 / 3)
    assert d["cet4_pass_rate"] == pytest.approx(2 / 3) and d["cet6_pass_rate"] == pytest.approx(1 / 3)
    assert [f["course_code"] for f in d["flagged_courses"]] == ["MATH"]       # OLD is of 2022-2023
    assert d["flagged_courses"][0]["review"]["status"] == "done" and d["reviews"] == {"done": 1}
    other = department_indicators(roster(), "电气", 2025, OUTCOMES, FLAGS, TASKS, AS_OF)
    assert other["enrolment"] is None and other["flagged_courses"] == []      # MATH belongs to 机械 first
    assert other["postgraduate_rate"] == 0.0 and other["employment_rate"] == 0.5


def test_review_status_open_overdue_and_missing():
    flag = {"semester": S, "course_code": "PHYS"}
    assert review_status(flag, TASKS, AS_OF)["status"] == "none"
    from tests.unit.assessment.college_fixture import task
    open_review = [task("r", "course_review", "D1", None, S, "2025-08-01", course="PHYS")]
    assert review_status(flag, open_review, AS_OF)["status"] == "open"
    assert review_status(flag, open_review, AS_OF.replace(month=9))["status"] == "overdue"


def test_ratio_is_undefined_without_a_denominator():
    assert Ratio(0, 0).rate is None and Ratio(1, 4).rate == 0.25
