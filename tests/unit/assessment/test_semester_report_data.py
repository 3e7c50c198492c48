"""The semester report's figures (kpis.md "Semester report") on the small college of college_fixture.py."""
import pytest

from services.assessment.domain.failure_rates import course_failure_rates
from services.assessment.domain.indicators import regular_results
from services.assessment.domain.report import ReportFacts, next_offering, semester_report
from tests.unit.assessment.college_fixture import (AS_OF, FLAGS, LEVELS, OUTCOMES, P, RECORDS, S, TASKS, rec,
                                                   roster)


def facts(**changes):
    base = dict(semester=S, roster=roster(), results=regular_results(RECORDS), levels=LEVELS, flags=FLAGS,
                tasks=TASKS, outcomes=OUTCOMES, evaluated={S: {"a1", "a2", "a3", "a4", "b1", "b2", "c1"}},
                as_of=AS_OF)
    return ReportFacts(**{**base, **changes})


@pytest.fixture(scope="module")
def report():
    return semester_report(facts())


def test_overview(report):
    o = report["overview"]
    assert report["previous_semester"] == P
    assert (o["classes"], o["students"]) == (3, 7)                  # a4 withdrew
    assert o["failure"]["results"] == {"numerator": 4, "denominator": 10, "rate": 0.4}   # 2/6 + 1/3 + 1/1
    assert o["previous_failure"]["results"]["numerator"] == 1 and o["previous_failure"]["results"]["denominator"] == 2
    assert (o["warned"], o["previously_warned"], o["flagged_courses"]) == (3, 4, 1)


def test_grades_by_cohort_and_major(report):
    rows = {(r["cohort"], r["major"]): r for r in report["grades"]["groups"]}
    assert set(rows) == {(2021, "机械"), (2021, "电气"), (2022, "机械")}
    assert list(rows[(2021, "机械")]["distribution"].values()) == [1, 1, 0, 1, 2, 1]
    assert rows[(2021, "电气")]["failure"]["results"]["numerator"] == 1
    assert report["grades"]["by_major"]["机械"]["results"] == {"numerator": 3, "denominator": 7, "rate": 3 / 7}
    assert report["grades"]["by_cohort"]["2021"]["students_failed"] == 3


def test_warnings_by_level_cohort_and_class_with_change(report):
    w = report["warnings"]
    assert w["levels"] == {"yellow": 0, "orange": 2, "red": 1, "dismissal": 0, "total": 3}       # a2 orange, b1 red, c1 orange
    assert w["previous_levels"] == {"yellow": 2, "orange": 1, "red": 1, "dismissal": 0, "total": 4}
    assert w["change"] == {"yellow": -2, "orange": 1, "red": 0, "dismissal": 0, "total": -1}
    by_class = {r["key"]: r for r in w["by_class"]}
    assert by_class["A21"]["now"]["total"] == 1 and by_class["A21"]["change"]["total"] == -1
    assert by_class["B21"]["now"]["red"] == 1 and by_class["B21"]["change"]["yellow"] == -1
    by_cohort = {r["key"]: r for r in w["by_cohort"]}
    assert by_cohort["2022"]["now"]["orange"] == 1 and by_cohort["2022"]["previous"]["red"] == 1


def test_flags_with_review_and_earlier_open_reviews(report):
    [flag] = report["flags"]
    assert flag["course_code"] == "MATH" and flag["review"]["status"] == "done"
    assert report["earlier_open_reviews"] == []         # OLD (2022-2023-1) has no review task at all
    from tests.unit.assessment.college_fixture import task
    late = semester_report(facts(tasks=TASKS + [task("r0", "course_review", "D1", None, "2022-2023-1",
                                                     "2022-11-01", course="OLD")]))
    assert [(f["course_code"], f["review"]["status"]) for f in late["earlier_open_reviews"]] == [("OLD", "overdue")]


def test_duty_compliance_rows(report):
    heads = {h["staff_id"]: h for h in report["duties"]["head_teachers"]}
    assert heads["T1"]["classes"] == ["A21", "A22"]
    assert heads["T1"]["talks"] == {"numerator": 2, "denominator": 2, "rate": 1.0}     # t4 not due yet
    assert heads["T1"]["overdue"] == 1 and heads["T2"]["overdue"] == 1
    others = {o["staff_id"]: o for o in report["duties"]["others"]}
    assert others["C21"]["kinds"]["counselor_talk"]["numerator"] == 1
    assert others["D1"]["kinds"]["course_review"]["numerator"] == 1


def test_graduates_and_intervention(report):
    g = report["graduates"]
    assert g["year"] == 2025 and set(g["by_major"]) == {"机械", "电气"}
    assert g["college"]["graduates"] == 5 and g["college"]["employment"]["numerator"] == 3
    [effect] = report["intervention"]                    # nothing is known of the next semester yet
    assert effect["semester"] == P and effect["on_time"]["rate"] == 1.0


def test_symposium_without_items_is_a_labelled_placeholder(report):
    assert report["symposium"]["available"] is False and "advising" in report["symposium"]["source_en"]


def symposium_item(item_id, status, raised_on, semester=S):
    return {"item_id": item_id, "semester": semester, "topic": "实验课时不足", "course_code": "MATH", "teacher": "王老师",
            "raised_by": "A21 学习委员", "raised_on": raised_on, "status": status, "routed_to": "机械",
            "assignee": "D1", "answer_kind": None}


def test_open_symposium_items_oldest_first_with_days_open():
    items = [symposium_item("i1", "answered", "2025-04-20"), symposium_item("i2", "adopted", "2025-04-18"),
             symposium_item("i3", "raised", "2024-11-01", P), symposium_item("i4", "explained", "2025-04-19"),
             symposium_item("i5", "raised", "2025-07-05")]           # after the as-of day
    section = semester_report(facts(symposium=items))["symposium"]
    assert section["available"] is True
    assert [(i["item_id"], i["days_open"]) for i in section["items"]] == [("i3", 242), ("i1", 72)]
    assert section["this_semester"] == {"answered": 1, "adopted": 1, "explained": 1, "raised": 1}


def test_next_offering_shows_whether_the_rate_fell():
    history = course_failure_rates(RECORDS + [rec("x1", "2025-2026-1", "MATH", "40"),
                                              rec("x2", "2025-2026-1", "MATH", "80")])
    assert next_offering((S, "MATH", "王老师"), history) == ("2025-2026-1", 0.5)
    assert next_offering(("2025-2026-1", "MATH", "王老师"), history) is None
