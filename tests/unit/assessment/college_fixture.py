"""A small college whose every indicator is worked out by hand in the tests (the comments say how).

Semester S = 2024-2025-2 (spring 2025), previous P = 2024-2025-1. The 2021 cohort graduates in 2025.

classes   A21 (机械, 2021, head T1)   B21 (电气, 2021, head T2)   A22 (机械, 2022, head T1 too)
students  A21: a1 a2 a3, a4 (withdrew)   B21: b1 b2   A22: c1 c2
"""
from __future__ import annotations

from datetime import date

from services.assessment.domain.facts import ClassInfo, Outcome, Roster, StaffInfo, StudentInfo, Task

S, P = "2024-2025-2", "2024-2025-1"
AS_OF = date(2025, 7, 1)


def roster() -> Roster:
    r = Roster()
    for c in (ClassInfo("A21", "机械", 2021, "T1"), ClassInfo("B21", "电气", 2021, "T2"),
              ClassInfo("A22", "机械", 2022, "T1")):
        r.classes[c.class_name] = c
    for sid, cls, status in (("a1", "A21", "enrolled"), ("a2", "A21", "enrolled"), ("a3", "A21", "enrolled"),
                             ("a4", "A21", "withdrawn"), ("b1", "B21", "enrolled"), ("b2", "B21", "enrolled"),
                             ("c1", "A22", "enrolled"), ("c2", "A22", "enrolled")):
        r.students[sid] = StudentInfo(sid, "学生" + sid, cls, status)
    r.staff = [StaffInfo("T1", "蒋涛", "head_teacher", ("A21", "A22")), StaffInfo("T2", "郑辉", "head_teacher", ("B21",)),
               StaffInfo("C21", "余丽", "counselor", ("2021",)), StaffInfo("D1", "李建", "department_head", ("机械",))]
    return r


def rec(sid, semester, course, score, exam_type="regular", teacher="王老师"):
    return {"student_id": sid, "semester": semester, "course_code": course, "course_name": course, "credits": 3.0,
            "course_type": "required", "exam_type": exam_type, "score": score, "teacher": teacher,
            "offering_college": ""}


RECORDS = [
    # S
    rec("a1", S, "MATH", "55"), rec("a1", S, "MATH", "70", "makeup"), rec("a1", S, "PHYS", "80"),
    rec("a2", S, "MATH", "缺考"), rec("a2", S, "PHYS", "优秀"),
    rec("a3", S, "MATH", "缓考"), rec("a3", S, "MATH", "65", "deferred"), rec("a3", S, "PHYS", "合格"),
    rec("a4", S, "MATH", "30"),
    rec("b1", S, "MATH", "90"), rec("b1", S, "PHYS", "不合格"),
    rec("b2", S, "MATH", "72"),
    rec("c1", S, "MATH", "59"),
    # P
    rec("a1", P, "MATH0", "50"), rec("c2", P, "MATH0", "88"),
]


def outcome(kind, sid, day, value, level=""):
    return Outcome(kind, sid, date.fromisoformat(day) if day else None, value, level)


OUTCOMES = [
    outcome("cet4", "a1", "2023-06-15", "430"),
    outcome("cet4", "a2", "2023-06-15", "400"), outcome("cet4", "a2", "2025-06-14", "426"),
    outcome("cet6", "a1", "2024-12-14", "425"),
    outcome("cet4", "b1", "2022-12-17", "425"), outcome("cet4", "b2", "2022-12-17", "424"),
    outcome("destination", "a1", None, "further_study"), outcome("destination", "a2", None, "employed"),
    outcome("destination", "a3", None, "unplaced"), outcome("destination", "b1", None, "abroad"),
    outcome("graduation", "a1", "2025-06-30", ""), outcome("degree", "a1", "2025-06-30", ""),
    outcome("graduation", "a2", "2025-06-30", ""),
    outcome("graduation", "b1", "2025-06-30", ""), outcome("degree", "b1", "2025-06-30", ""),
    outcome("graduation", "b2", "2025-06-30", ""), outcome("degree", "b2", "2025-06-30", ""),
    outcome("award", "a1", "2025-05-20", "数学建模竞赛", "provincial"),
    outcome("award", "a2", "2025-04-01", "程序设计竞赛", "school"),
    outcome("award", "a2", "2025-04-02", "院运动会", "college"),
    outcome("award", "b1", "2024-11-11", "机器人大赛", "national"),
    outcome("enrolment", "", "2025-09-01", "机械:60:57"), outcome("enrolment", "", "2024-09-01", "机械:50:45"),
]


def task(tid, kind, assignee, sid, semester, due, done_on=None, course=None):
    return Task(tid, kind, assignee, sid, course, semester, date.fromisoformat(due),
                "done" if done_on else "open", date.fromisoformat(done_on) if done_on else None)


TASKS = [
    task("t1", "talk", "T1", "a1", S, "2025-03-20", "2025-03-18"),
    task("t2", "talk", "T1", "a2", S, "2025-03-20", "2025-03-25"),
    task("t3", "parent_contact", "T1", "a2", S, "2025-04-01"),
    task("t4", "talk", "T1", "c1", S, "2025-07-10"),
    task("t5", "talk", "T2", "b1", S, "2025-03-10"),
    task("t6", "class_meeting", "T1", None, S, "2025-06-30", "2025-05-01"),
    task("t7", "course_review", "D1", None, S, "2025-04-30", "2025-04-20", course="MATH"),
    task("t8", "counselor_talk", "C21", "a2", S, "2025-03-20", "2025-03-19"),
    task("p1", "talk", "T1", "a1", P, "2024-10-10", "2024-10-09"),
    task("p2", "talk", "T1", "a2", P, "2024-10-10", "2024-10-20"),
    task("p3", "talk", "T2", "b1", P, "2024-10-10"),
]

LEVELS = {
    ("a1", P): "yellow", ("a2", P): "orange", ("b1", P): "yellow", ("c1", P): "red",
    ("a1", S): "none", ("a2", S): "orange", ("b1", S): "red", ("c1", S): "orange",
}

FLAGS = [{"semester": S, "course_code": "MATH", "course_name": "MATH", "teacher": "王老师", "offering_college": "",
          "external": False, "majors": ["机械", "电气"], "rate": 4 / 7, "failed": 4, "total": 7, "threshold": 0.15,
          "previous_rate": None, "previous_semester": None, "flagged": True, "upload_id": "U-1"},
         {"semester": "2022-2023-1", "course_code": "OLD", "course_name": "OLD", "teacher": "赵", "offering_college": "",
          "external": False, "majors": ["机械"], "rate": 0.3, "failed": 3, "total": 10, "threshold": 0.15,
          "previous_rate": None, "previous_semester": None, "flagged": True, "upload_id": "U-0"}]
