"""duties.md: integrity conversations after 作弊, course reviews after a failure-rate flag."""
from datetime import date, datetime

import pytest

from services.advising.domain.duties import COURSE_REVIEW, INTEGRITY_TALK
from services.advising.domain.tasks import NoResponsible, Responsibles, integrity_tasks, tasks_for_course_flag

AT = datetime(2024, 3, 1, 9, 30)
PEOPLE = {
    "s1": Responsibles("s1", head_teacher_id="T1001", counselor_id="C2021", vice_dean_id="V0001"),
    "s2": Responsibles("s2", counselor_id="C2022", vice_dean_id="V0001"),
}


def rec(student="s1", score="作弊", exam_type="regular", course="MATH01"):
    return {"student_id": student, "semester": "2023-2024-1", "course_code": course, "course_name": "高等数学",
            "credits": 4.0, "course_type": "required", "exam_type": exam_type, "score": score,
            "teacher": "张三", "offering_college": "数学学院"}


def test_cheating_record_gives_head_teacher_integrity_talk_in_14_days():
    [task] = integrity_tasks([rec(), rec(score="45"), rec(score="缺考", course="ENG01")], PEOPLE, AT)
    assert (task.kind, task.assignee, task.due) == (INTEGRITY_TALK, "T1001", date(2024, 3, 15))
    assert (task.student_id, task.course_code, task.semester) == ("s1", "MATH01", "2023-2024-1")
    assert task.cause == "integrity_talk:s1:2023-2024-1:MATH01:regular"
    assert task.detail["exam_type"] == "regular"


def test_one_task_per_sitting_and_never_twice_in_one_batch():
    tasks = integrity_tasks([rec(), rec(), rec(exam_type="makeup"), rec(score=" 作弊 ", course="ENG01")], PEOPLE, AT)
    assert [t.cause for t in tasks] == ["integrity_talk:s1:2023-2024-1:MATH01:regular",
                                        "integrity_talk:s1:2023-2024-1:MATH01:makeup",
                                        "integrity_talk:s1:2023-2024-1:ENG01:regular"]


def test_integrity_talk_without_head_teacher_goes_to_counselor():
    [task] = integrity_tasks([rec("s2")], PEOPLE, AT)
    assert task.assignee == "C2022" and task.detail["covering_for"] == "head_teacher_id"


def test_integrity_talk_for_student_unknown_to_roster_is_an_error():
    with pytest.raises(NoResponsible):
        integrity_tasks([rec("s9")], PEOPLE, AT)
    assert integrity_tasks([rec("s9", score="80")], PEOPLE, AT) == []


HEADS = {"机械设计制造及其自动化": "D机械", "机器人工程": "D机器人"}


def flag(change="flagged", external=False, majors=("机器人工程", "机械设计制造及其自动化"), college=""):
    return {"semester": "2023-2024-1", "course_code": "机器人01A", "course_name": "机器人基础", "teacher": "余建明",
            "offering_college": college, "external": external, "majors": list(majors), "rate": 0.2,
            "failed": 6, "total": 30, "threshold": 0.15, "previous_rate": 0.1, "previous_semester": "2022-2023-1",
            "change": change}


def test_flagged_course_review_for_department_head_of_first_major_in_4_weeks():
    [task] = tasks_for_course_flag(flag(), HEADS, "V0001", AT)
    assert (task.kind, task.assignee, task.due) == (COURSE_REVIEW, "D机器人", date(2024, 3, 29))
    assert (task.student_id, task.course_code, task.semester) == (None, "机器人01A", "2023-2024-1")
    assert task.cause == "course_review:2023-2024-1:机器人01A:余建明"
    assert task.detail["rate"] == 0.2 and task.detail["previous_rate"] == 0.1 and task.detail["major"] == "机器人工程"


def test_external_course_review_goes_to_vice_dean():
    [task] = tasks_for_course_flag(flag(external=True, college="数学学院"), HEADS, "V0001", AT)
    assert task.assignee == "V0001" and "covering_for" not in task.detail


@pytest.mark.parametrize("majors", [(), ("材料工程",)])
def test_course_without_a_department_head_goes_to_vice_dean(majors):
    [task] = tasks_for_course_flag(flag(majors=majors), HEADS, "V0001", AT)
    assert task.assignee == "V0001" and task.detail["covering_for"] == "department_head_id"


@pytest.mark.parametrize("change", ["updated", "unflagged"])
def test_only_a_new_flag_asks_for_a_review(change):
    assert tasks_for_course_flag(flag(change=change), HEADS, "V0001", AT) == []


def test_review_cause_is_stable():
    first = tasks_for_course_flag(flag(), HEADS, "V0001", AT)[0]
    later = tasks_for_course_flag({**flag(), "rate": 0.3}, HEADS, "V0001", datetime(2024, 4, 1))[0]
    assert first.cause == later.cause


def test_external_review_without_vice_dean_is_an_error():
    with pytest.raises(NoResponsible):
        tasks_for_course_flag(flag(external=True), HEADS, None, AT)
