"""policy.md §6: the tasks a warning change creates, to whom, by when; fallbacks; lifted warnings."""
from datetime import date, datetime

import pytest

from services.advising.domain.duties import (
    COUNSELOR_TALK, OPEN, PARENT_CONTACT, TALK, TASK_KINDS, WARNING_DUTIES,
)
from services.advising.domain.tasks import (
    NoResponsible, Responsibles, assignee_for, tasks_for_warning_change, tasks_marked_by_lift,
)

AT = datetime(2024, 3, 1, 9, 30)
PEOPLE = Responsibles("s1", "机械2101", "机械设计制造及其自动化", 2021,
                      head_teacher_id="T1001", counselor_id="C2021", department_head_id="D机械",
                      vice_dean_id="V0001")


def change(kind="issued", new="yellow", old="none", change_id="chg-1", semester="2023-2024-1"):
    return {"change_id": change_id, "student_id": "s1", "semester": semester, "kind": kind,
            "old_level": old, "new_level": new, "escalated": False,
            "reasons": [{"rule": "gpa", "level": new, "measure": 1.7, "threshold": 1.8, "comparison": "<",
                         "courses": []}] if new != "none" else [],
            "policy_version": "default-1"}


def summary(tasks):
    return [(t.kind, t.assignee, t.due) for t in tasks]


def test_task_kinds():
    assert TASK_KINDS == ("talk", "parent_contact", "counselor_talk", "integrity_talk", "course_review")


def test_yellow_head_teacher_talk_within_14_days():
    assert summary(tasks_for_warning_change(change(new="yellow"), PEOPLE, AT)) == [
        (TALK, "T1001", date(2024, 3, 15))]


def test_orange_talk_7_days_and_parent_contact_14_days():
    assert summary(tasks_for_warning_change(change(new="orange"), PEOPLE, AT)) == [
        (TALK, "T1001", date(2024, 3, 8)), (PARENT_CONTACT, "T1001", date(2024, 3, 15))]


def test_red_talk_parent_contact_and_counselor_joint_talk_all_7_days():
    assert summary(tasks_for_warning_change(change(new="red"), PEOPLE, AT)) == [
        (TALK, "T1001", date(2024, 3, 8)), (PARENT_CONTACT, "T1001", date(2024, 3, 8)),
        (COUNSELOR_TALK, "C2021", date(2024, 3, 8))]


@pytest.mark.parametrize("old,new", [("yellow", "orange"), ("yellow", "red"), ("orange", "red")])
def test_escalated_gives_the_duties_of_the_level_reached(old, new):
    tasks = tasks_for_warning_change(change(kind="escalated", old=old, new=new), PEOPLE, AT)
    assert [t.kind for t in tasks] == [d.kind for d in WARNING_DUTIES[new]]


@pytest.mark.parametrize("kind,old,new", [("downgraded", "red", "yellow"), ("downgraded", "orange", "yellow"),
                                          ("lifted", "yellow", "none"), ("lifted", "red", "none")])
def test_downgraded_and_lifted_create_no_tasks(kind, old, new):
    assert tasks_for_warning_change(change(kind=kind, old=old, new=new), PEOPLE, AT) == []


def test_task_fields_and_stable_causes():
    tasks = tasks_for_warning_change(change(new="red", change_id="abc"), PEOPLE, AT)
    assert [t.cause for t in tasks] == ["talk:abc", "parent_contact:abc", "counselor_talk:abc"]
    assert all((t.student_id, t.course_code, t.semester) == ("s1", None, "2023-2024-1") for t in tasks)
    assert tasks[0].detail["level"] == "red" and tasks[0].detail["rules"] == ["gpa"]
    again = tasks_for_warning_change(change(new="red", change_id="abc"), PEOPLE, datetime(2024, 3, 2))
    assert [t.cause for t in again] == [t.cause for t in tasks]


def test_due_counts_calendar_days_from_the_date_of_the_change():
    [task] = tasks_for_warning_change(change(), PEOPLE, datetime(2024, 2, 20, 23, 59))
    assert task.due == date(2024, 3, 5)          # across a leap day


def test_missing_head_teacher_goes_to_counselor_then_vice_dean():
    no_head = Responsibles("s1", counselor_id="C2021", vice_dean_id="V0001")
    [task] = tasks_for_warning_change(change(), no_head, AT)
    assert task.assignee == "C2021" and task.detail["covering_for"] == "head_teacher_id"
    only_dean = Responsibles("s1", vice_dean_id="V0001")
    assert {t.assignee for t in tasks_for_warning_change(change(new="red"), only_dean, AT)} == {"V0001"}


def test_missing_counselor_goes_to_vice_dean():
    people = Responsibles("s1", head_teacher_id="T1001", department_head_id="D机械", vice_dean_id="V0001")
    tasks = tasks_for_warning_change(change(new="red"), people, AT)
    assert summary(tasks)[2] == (COUNSELOR_TALK, "V0001", date(2024, 3, 8))
    assert "covering_for" not in tasks[0].detail


def test_nobody_at_all_is_an_error():
    with pytest.raises(NoResponsible):
        tasks_for_warning_change(change(), Responsibles("s1"), AT)


def test_assignee_for_reads_mappings_too():
    assert assignee_for("department_head_id", {"vice_dean_id": "V1"}) == ("V1", "vice_dean_id")
    assert assignee_for("counselor_id", PEOPLE) == ("C2021", "counselor_id")


OPEN_TASKS = [
    {"task_id": "1", "kind": TALK, "student_id": "s1", "semester": "2023-2024-1", "status": OPEN},
    {"task_id": "2", "kind": PARENT_CONTACT, "student_id": "s1", "semester": "2023-2024-1", "status": OPEN},
    {"task_id": "3", "kind": COUNSELOR_TALK, "student_id": "s1", "semester": "2023-2024-1", "status": OPEN},
    {"task_id": "4", "kind": "integrity_talk", "student_id": "s1", "semester": "2023-2024-1", "status": OPEN},
    {"task_id": "5", "kind": TALK, "student_id": "s1", "semester": "2023-2024-1", "status": "done"},
    {"task_id": "6", "kind": TALK, "student_id": "s1", "semester": "2022-2023-2", "status": OPEN},
    {"task_id": "7", "kind": TALK, "student_id": "s2", "semester": "2023-2024-1", "status": OPEN},
]


def test_lifted_marks_the_open_warning_tasks_of_that_student_and_semester():
    marked = tasks_marked_by_lift(change(kind="lifted", old="red", new="none"), OPEN_TASKS)
    assert [t["task_id"] for t in marked] == ["1", "2", "3"]


def test_only_lifted_marks():
    assert tasks_marked_by_lift(change(kind="downgraded", old="red", new="yellow"), OPEN_TASKS) == []


def test_lift_accepts_task_objects():
    class Task:
        kind, student_id, semester, status = TALK, "s1", "2023-2024-1", OPEN
    task = Task()
    assert tasks_marked_by_lift(change(kind="lifted", old="yellow", new="none"), [task]) == [task]
