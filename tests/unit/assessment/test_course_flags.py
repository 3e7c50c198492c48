"""Flag decisions (kpis.md): threshold, changes, external courses, majors, previous offering."""
from contracts.events import CourseFlagSchema
from services.assessment.domain.failure_rates import CourseRate
from services.assessment.domain.flags import (
    above_threshold, flag_decisions, is_external, majors_most_first, previous_offering,
)


def offering(failed, total, *, semester="2023-2024-1", course="MATH01", teacher="张三", college=""):
    return CourseRate(semester, course, "高等数学", teacher, college,
                      failed_students=tuple(f"f{i}" for i in range(failed)),
                      passed_students=tuple(f"p{i}" for i in range(total - failed)))


def by_key(*rates):
    return {rate.key: rate for rate in rates}


def test_threshold_is_strictly_above_and_exact():
    assert not above_threshold(3, 20)            # exactly 15%
    assert above_threshold(4, 20)
    assert not above_threshold(0, 0)
    assert not above_threshold(1, 5, threshold=0.2)
    assert above_threshold(1, 5, threshold=0.19)


def test_new_offering_above_threshold_is_flagged_with_the_schema_shape():
    [flag] = flag_decisions(by_key(offering(4, 20)), {})
    assert flag["change"] == "flagged"
    assert (flag["failed"], flag["total"], flag["rate"], flag["threshold"]) == (4, 20, 0.2, 0.15)
    assert flag["previous_rate"] is None and flag["previous_semester"] is None
    assert CourseFlagSchema().validate(flag) == {}


def test_below_or_at_threshold_and_never_flagged_gives_nothing():
    assert flag_decisions(by_key(offering(3, 20)), {}) == []


def test_flagged_offering_whose_counts_change_is_updated():
    rate = offering(5, 20)
    [flag] = flag_decisions(by_key(rate), {rate.key: {"rate": 0.2, "failed": 4, "total": 20}})
    assert flag["change"] == "updated" and flag["failed"] == 5


def test_flagged_offering_unchanged_gives_nothing():
    rate = offering(4, 20)
    assert flag_decisions(by_key(rate), {rate.key: {"rate": 0.2, "failed": 4, "total": 20}}) == []
    assert flag_decisions(by_key(rate), {rate.key: 0.2}) == []
    assert flag_decisions(by_key(rate), {rate.key: rate}) == []


def test_flagged_offering_falling_to_threshold_is_unflagged():
    rate = offering(3, 20)
    [flag] = flag_decisions(by_key(rate), {rate.key: 0.2})
    assert flag["change"] == "unflagged" and flag["rate"] == 0.15


def test_configurable_threshold():
    [flag] = flag_decisions(by_key(offering(3, 20)), {}, threshold=0.1)
    assert flag["threshold"] == 0.1


def test_flags_not_recomputed_are_left_alone():
    other = offering(9, 10, course="ENG01")
    assert flag_decisions(by_key(offering(1, 20)), {other.key: 0.9}) == []


def test_external_means_another_college():
    assert not is_external("")
    assert not is_external("  ")
    assert is_external("数学学院")
    assert is_external("数学学院", home_college="机电工程学院")
    assert not is_external("机电工程学院", home_college="机电工程学院")
    [flag] = flag_decisions(by_key(offering(4, 20, college="数学学院")), {}, home_college="机电工程学院")
    assert flag["external"] is True and flag["offering_college"] == "数学学院"
    [flag] = flag_decisions(by_key(offering(4, 20, college="机电工程学院")), {}, home_college="机电工程学院")
    assert flag["external"] is False


def test_majors_most_first_ties_by_name_unknown_left_out():
    majors = {"a": "机械", "b": "电气", "c": "电气", "d": "机器人", "e": "机械", "f": "机械"}
    assert majors_most_first(["a", "b", "c", "d", "e", "f", "x"], majors) == ["机械", "电气", "机器人"]
    tied = majors_most_first(["a", "b"], majors)
    assert tied == sorted(["机械", "电气"]) == majors_most_first(["b", "a"], majors)


def test_flag_names_majors_of_everyone_counted():
    rate = offering(4, 20)
    majors = {s: ("机器人工程" if s.startswith("f") else "机械设计制造及其自动化") for s in rate.students}
    [flag] = flag_decisions(by_key(rate), {}, majors_of=majors)
    assert flag["majors"] == ["机械设计制造及其自动化", "机器人工程"]


def test_previous_offering_same_teacher_in_latest_earlier_semester():
    now = offering(4, 20, semester="2023-2024-1")
    history = by_key(
        offering(1, 10, semester="2022-2023-1"),
        offering(2, 10, semester="2022-2023-2"),
        offering(5, 10, semester="2022-2023-2", teacher="李四"),
        offering(9, 10, semester="2024-2025-1"),           # later: never "previous"
        offering(9, 10, semester="2022-2023-2", course="ENG01"),
    )
    assert previous_offering(now.key, history) == ("2022-2023-2", 0.2)
    [flag] = flag_decisions(by_key(now), {}, history=history)
    assert (flag["previous_semester"], flag["previous_rate"]) == ("2022-2023-2", 0.2)


def test_previous_offering_whole_course_when_teacher_did_not_teach_it_then():
    now = offering(4, 20, semester="2023-2024-1", teacher="王五")
    history = by_key(
        offering(1, 10, semester="2022-2023-2"),
        offering(5, 10, semester="2022-2023-2", teacher="李四"),
        offering(0, 10, semester="2021-2022-1", teacher="王五"),   # older: the latest semester wins
    )
    assert previous_offering(now.key, history) == ("2022-2023-2", 0.3)


def test_previous_offering_skips_offerings_without_results_and_summer_counts():
    now = offering(4, 20, semester="2023-2024-1")
    history = by_key(offering(0, 0, semester="2023-2024-1", teacher="李四"),
                     offering(0, 0, semester="2022-2023-3"),
                     offering(1, 4, semester="2022-2023-2"))
    assert previous_offering(now.key, history) == ("2022-2023-2", 0.25)
    history[("2022-2023-3", "MATH01", "李四")] = offering(1, 2, semester="2022-2023-3", teacher="李四")
    assert previous_offering(now.key, history) == ("2022-2023-3", 0.5)


def test_previous_offering_looks_in_the_recomputed_rates_too():
    earlier, now = offering(1, 10, semester="2022-2023-2"), offering(4, 20, semester="2023-2024-1")
    flags = flag_decisions(by_key(earlier, now), {})
    assert [(f["semester"], f["previous_rate"]) for f in flags] == [("2023-2024-1", 0.1)]


def test_decisions_in_semester_order():
    rates = by_key(offering(5, 10, semester="2023-2024-2"), offering(5, 10, semester="2022-2023-1"),
                   offering(5, 10, semester="2023-2024-1", course="ENG01"))
    assert [(f["semester"], f["course_code"]) for f in flag_decisions(rates, {})] == [
        ("2022-2023-1", "MATH01"), ("2023-2024-1", "ENG01"), ("2023-2024-2", "MATH01")]
