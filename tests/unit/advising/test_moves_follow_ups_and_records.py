"""A roster change moves unfinished tasks; a talk's follow-up date asks for a follow-up; records are complete."""
from datetime import date

import pytest

from services.advising.domain.moves import moves, people_for
from services.advising.domain.records import ValidationError, check_decision, check_record
from services.advising.domain.tasks import follow_up_for

OFFICERS = {"counselor_by_cohort": {"2024": "C2024"}, "department_head_by_major": {"机械": "D机械"},
            "vice_dean_id": "V0001"}


def task(task_id, assignee="T1010", duty_role="head_teacher_id", status="open", student_id=None, **scope):
    return {"task_id": task_id, "kind": "talk", "assignee": assignee, "duty_role": duty_role, "status": status,
            "student_id": student_id, "class_name": scope.get("class_name", "机械2401"),
            "cohort": scope.get("cohort", "2024"), "major": scope.get("major", "机械")}


def move_list(tasks, students=None, class_heads=None, officers=OFFICERS):
    people = {t["task_id"]: people_for(t, students=students or {}, class_heads=class_heads or {}, officers=officers)
              for t in tasks}
    return [(m.task_id, m.old_assignee, m.new_assignee, m.holder_role) for m in moves(tasks, people)]


def test_a_class_with_a_new_head_teacher_takes_its_unfinished_tasks_along():
    tasks = [task("class"), task("done", status="done"), task("review", status="submitted"),
             task("other-class", class_name="电气2401", assignee="T1011")]
    assert move_list(tasks, class_heads={"机械2401": "T2000"}) == [
        ("class", "T1010", "T2000", "head_teacher_id"), ("review", "T1010", "T2000", "head_teacher_id")]


def test_a_student_who_changed_class_follows_the_roster_answer():
    students = {"s1": {"student_id": "s1", "head_teacher_id": "T1011", "counselor_id": "C2024"}}
    tasks = [task("talk", student_id="s1"), task("unknown", student_id="s9"),
             task("counselor", student_id="s1", duty_role="counselor_id", assignee="C2024")]
    assert move_list(tasks, students=students) == [("talk", "T1010", "T1011", "head_teacher_id")]


def test_a_new_counselor_or_department_head_takes_over_and_a_vacancy_falls_to_the_next_up():
    tasks = [task("meeting", duty_role="counselor_id", assignee="C2024", class_name=None),
             task("review", duty_role="department_head_id", assignee="D机械", class_name=None, cohort=None)]
    officers = {"counselor_by_cohort": {"2024": "C9999"}, "department_head_by_major": {}, "vice_dean_id": "V0001"}
    assert move_list(tasks, officers=officers) == [("meeting", "C2024", "C9999", "counselor_id"),
                                                   ("review", "D机械", "V0001", "vice_dean_id")]


def test_nothing_moves_when_the_roster_does_not_say_or_nobody_holds_any_role():
    assert move_list([task("class")]) == []                              # class not in the import
    assert move_list([task("teacher", duty_role="teacher_id")], class_heads={"机械2401": "T2000"}) == []
    officers = {"counselor_by_cohort": {}, "department_head_by_major": {}, "vice_dean_id": None}
    assert move_list([task("m", duty_role="counselor_id", assignee="C2024")], officers=officers) == []


TALK = {"task_id": "T-1", "kind": "talk", "assignee": "T1010", "student_id": "s1", "semester": "2024-2025-1",
        "holder_role": "head_teacher_id", "class_name": "机械2401", "major": "机械", "cohort": "2024", "detail": {}}


def test_a_talk_with_a_follow_up_date_asks_for_a_follow_up_on_that_date():
    record = check_record("talk", {"date": "2024-10-08", "place": "办公室", "discussion": "挂科原因",
                                   "support_plan": "每周答疑", "follow_up": "2024-11-05"})
    spec = follow_up_for(TALK, record)
    assert (spec.kind, spec.assignee, spec.student_id, spec.due) == ("follow_up", "T1010", "s1", date(2024, 11, 5))
    assert spec.cause == "follow_up:T-1" and spec.detail["support_plan"] == "每周答疑"
    assert spec.class_name == "机械2401" and spec.duty_role == "head_teacher_id"
    assert follow_up_for(TALK, {**record, "follow_up": None}) is None
    assert follow_up_for({**TALK, "kind": "parent_contact"}, record) is None
    nxt = follow_up_for({**TALK, "kind": "follow_up", "task_id": "T-2"},
                        {"date": "2024-11-05", "progress": "好转", "follow_up": "2024-12-03"})
    assert nxt.cause == "follow_up:T-2" and nxt.due == date(2024, 12, 3)


@pytest.mark.parametrize("kind, record, field", [
    ("talk", {"date": "2024-10-08", "place": "办公室", "discussion": "x", "support_plan": "y",
              "follow_up": "2024-10-01"}, "follow_up"),
    ("class_meeting", {"date": "2024-10-08", "topic": "学习方法", "attendance": -1}, "attendance"),
    ("class_meeting", {"date": "2024-10-08", "attendance": 30}, "topic"),
    ("observation", {"date": "2024-10-08", "course": "高等数学", "teacher": "杨英"}, "notes"),
    ("counselor_meeting", {"date": "2024-10-08", "attendees": [], "minutes": "x"}, "attendees"),
    ("peer_tutoring", {"date": "2024-10-08", "subject": "高数", "tutor": "张三"}, "attendees"),
    ("symposium_reply", {"date": "2024-10-08", "answer_kind": "maybe", "answer": "x"}, "answer_kind"),
    ("course_review", {"analysis": "x", "causes": "y"}, "measures"),
])
def test_an_incomplete_record_names_the_field(kind, record, field):
    with pytest.raises(ValidationError) as error:
        check_record(kind, record)
    assert field in str(error.value.messages)


def test_records_are_stored_as_json_ready_values():
    stored = check_record("class_meeting", {"date": "2024-10-08", "topic": "学习经验交流", "attendance": "31"})
    assert stored == {"date": "2024-10-08", "topic": "学习经验交流", "attendance": 31, "summary": None}
    stored = check_record("counselor_meeting", {"date": "2024-10-08", "attendees": ["T1010", "T1011"],
                                                "minutes": "期中学业情况"})
    assert stored["attendees"] == ["T1010", "T1011"]


def test_returning_a_review_says_why():
    assert check_decision({"decision": "approve"})["decision"] == "approve"
    with pytest.raises(ValidationError, match="comment"):
        check_decision({"decision": "return", "comment": " "})
