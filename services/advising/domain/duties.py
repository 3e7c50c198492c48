"""The duties the policy gives people, as data (policy.md §6, duties.md).

Change who does what, and by when, HERE; the functions in ``tasks.py`` only read these tables.

A duty names the ROLE that owns it. When the roster has nobody in that role for the student (a class without a
head teacher, a cohort without a counselor…), the task goes to the next responsible up (``NEXT_UP``), so no
task is ever left without an owner.
"""
from __future__ import annotations

from dataclasses import dataclass

# Task kinds.
TALK = "talk"                      # 一对一面谈, recorded in the head-teacher handbook
PARENT_CONTACT = "parent_contact"  # contact with the parents / guardian
COUNSELOR_TALK = "counselor_talk"  # the counselor's joint talk (red warnings)
INTEGRITY_TALK = "integrity_talk"  # integrity conversation after a 作弊 record
COURSE_REVIEW = "course_review"    # analysis of causes and improvement measures for a flagged course
TASK_KINDS = (TALK, PARENT_CONTACT, COUNSELOR_TALK, INTEGRITY_TALK, COURSE_REVIEW)

# Tasks that exist because of a warning: a lifted warning marks exactly these.
WARNING_TASK_KINDS = frozenset({TALK, PARENT_CONTACT, COUNSELOR_TALK})

# Roles (the attribute of ``Responsibles`` that holds the staff id).
HEAD_TEACHER = "head_teacher_id"         # 班主任, per class
COUNSELOR = "counselor_id"               # 辅导员, per cohort
DEPARTMENT_HEAD = "department_head_id"   # 系主任, per major
VICE_DEAN = "vice_dean_id"               # 教学副院长, the college

# Who covers when a role is vacant. A head teacher's students are the cohort counselor's students; counselors
# and department heads both answer to the vice dean; above the vice dean there is nobody.
NEXT_UP = {
    HEAD_TEACHER: COUNSELOR,
    COUNSELOR: VICE_DEAN,
    DEPARTMENT_HEAD: VICE_DEAN,
    VICE_DEAN: None,
}


@dataclass(frozen=True)
class Duty:
    kind: str
    role: str
    days: int      # due this many days after the cause (the warning, the record, the flag)


# policy.md §6: what a warning at each level asks of staff. Issued and escalated warnings alike: the duties
# follow the level reached. Student and parent notices are notification's business, not tasks.
WARNING_DUTIES: dict[str, tuple[Duty, ...]] = {
    "yellow": (
        Duty(TALK, HEAD_TEACHER, 14),
    ),
    "orange": (
        Duty(TALK, HEAD_TEACHER, 7),
        Duty(PARENT_CONTACT, HEAD_TEACHER, 14),
    ),
    "red": (
        Duty(TALK, HEAD_TEACHER, 7),
        Duty(PARENT_CONTACT, HEAD_TEACHER, 7),
        Duty(COUNSELOR_TALK, COUNSELOR, 7),
    ),
}

# Warning changes that create tasks. A downgraded or lifted warning is TOLD to the student, the parent and the
# head teacher (policy.md §6) — notices, not new work; a lifted warning only marks its open tasks.
TASK_CREATING_CHANGES = frozenset({"issued", "escalated"})

# duties.md: an integrity conversation with any student with a 作弊 record (14 days, like a yellow-warning talk).
INTEGRITY_DUTY = Duty(INTEGRITY_TALK, HEAD_TEACHER, 14)

# duties.md: a flagged course's analysis, reviewed by the department head of the course's major, 4 weeks after
# the flag. A course of another college goes to the vice dean instead, who raises it with that college.
COURSE_REVIEW_DUTY = Duty(COURSE_REVIEW, DEPARTMENT_HEAD, 28)
EXTERNAL_COURSE_REVIEW_DUTY = Duty(COURSE_REVIEW, VICE_DEAN, 28)

# Task statuses the advising service keeps; a lifted warning leaves its tasks OPEN and marks them.
OPEN = "open"
WARNING_LIFTED = "warning lifted"
