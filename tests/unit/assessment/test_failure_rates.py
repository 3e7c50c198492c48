"""Course failure rates (kpis.md): who counts, once, under which teacher."""
import pytest

from services.assessment.domain.failure_rates import course_failure_rates, offering_label


def rec(student, score, *, exam_type="regular", semester="2023-2024-1", course="MATH01", teacher="张三",
        college="数学学院", name="高等数学"):
    return {"student_id": student, "semester": semester, "course_code": course, "course_name": name,
            "credits": 4.0, "course_type": "required", "exam_type": exam_type, "score": str(score),
            "teacher": teacher, "offering_college": college}


KEY = ("2023-2024-1", "MATH01", "张三")


def test_rate_is_failed_students_over_students_with_a_result():
    rates = course_failure_rates([rec("s1", 50), rec("s2", 70), rec("s3", "缺考"), rec("s4", "良好")])
    rate = rates[KEY]
    assert (rate.failed, rate.total) == (2, 4)
    assert rate.rate == 0.5
    assert rate.failed_students == ("s1", "s3")
    assert rate.students == ("s1", "s2", "s3", "s4")
    assert (rate.course_name, rate.offering_college) == ("高等数学", "数学学院")


@pytest.mark.parametrize("score", ["作弊", "旷考", "不及格", "不合格", "0", "59.5"])
def test_every_failing_result_is_a_fail(score):
    assert course_failure_rates([rec("s1", score)])[KEY].failed == 1


@pytest.mark.parametrize("score", ["60", "及格", "合格", "免修"])
def test_every_passing_result_is_a_pass(score):
    assert course_failure_rates([rec("s1", score)])[KEY].failed == 0


@pytest.mark.parametrize("score", ["", "缓考", "取消"])
def test_no_result_records_are_left_out(score):
    rates = course_failure_rates([rec("s1", score), rec("s2", 40)])
    assert (rates[KEY].failed, rates[KEY].total) == (1, 1)


def test_offering_without_any_result_is_listed_with_rate_zero():
    rates = course_failure_rates([rec("s1", "缓考")])
    assert (rates[KEY].total, rates[KEY].rate) == (0, 0.0)


def test_makeup_and_retake_do_not_count():
    rates = course_failure_rates([
        rec("s1", 40), rec("s1", 80, exam_type="makeup"),
        rec("s2", 40, exam_type="retake"),
    ])
    assert (rates[KEY].failed, rates[KEY].total) == (1, 1)


def test_deferred_sitting_replaces_the_excused_regular_one():
    rates = course_failure_rates([rec("s1", "缓考"), rec("s1", 45, exam_type="deferred")])
    assert (rates[KEY].failed, rates[KEY].total) == (1, 1)


def test_student_counted_once_with_best_regular_or_deferred_result():
    rates = course_failure_rates([rec("s1", 40), rec("s1", 75, exam_type="deferred")])
    assert (rates[KEY].failed, rates[KEY].total) == (0, 1)


def test_student_counted_under_the_teacher_of_the_best_record():
    rates = course_failure_rates([rec("s1", 40, teacher="张三"), rec("s1", 75, exam_type="deferred", teacher="李四")])
    assert rates[("2023-2024-1", "MATH01", "李四")].total == 1
    assert rates[KEY].total == 0


def test_equal_results_go_to_the_same_teacher_whatever_the_order():
    a = rec("s1", 70, teacher="张三")
    b = rec("s1", 70, exam_type="deferred", teacher="李四")
    assert course_failure_rates([a, b]) == course_failure_rates([b, a])


def test_offerings_are_split_by_semester_course_and_teacher():
    rates = course_failure_rates([
        rec("s1", 40), rec("s2", 40, teacher="李四"), rec("s3", 40, course="ENG01"),
        rec("s4", 40, semester="2023-2024-2"),
    ])
    assert set(rates) == {KEY, ("2023-2024-1", "MATH01", "李四"), ("2023-2024-1", "ENG01", "张三"),
                          ("2023-2024-2", "MATH01", "张三")}
    assert all(rate.total == 1 for rate in rates.values())


def test_offering_label():
    assert offering_label(KEY) == "2023-2024-1|MATH01|张三"
