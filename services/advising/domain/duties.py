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
TEACHER = "teacher_id"                   # a course's teacher (symposium items routed to a teacher)

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
    # 退学警示 (dismissal risk, from the escalation-chain rules): the policy sets no duties of its own, so at least
    # everything red asks, by the same dates (notification also tells the vice dean).
    "dismissal": (
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

# duties.md "Counselor": the list of students with academic problems (warned, or any failed course) goes out after
# each upload and the counselor confirms it (domain/lists.py). The policy gives no delay: 7 days is the college's.
COUNSELOR_LIST = "counselor_list"
COUNSELOR_LIST_DUTY = Duty(COUNSELOR_LIST, COUNSELOR, 7)

# duties.md "Head teacher": contact the parents of every student with academic problems (warned or any failed
# course) by the last week of the semester; when the semester is over or its dates are unknown, 14 days (the
# longest parent-contact delay of policy.md §6). See lists.parent_contact_due.
PROBLEM_PARENT_CONTACT_DUTY = Duty(PARENT_CONTACT, HEAD_TEACHER, 14)

# docs/notifications.md "Acknowledgements": a notice that asked the student or the guardian for a 回执 and got none
# after the reminder (notification.acknowledgement_overdue): the head teacher contacts the family, within 3 days
# (the college's choice). Closed with a parent-contact record.
ACKNOWLEDGEMENT_FOLLOW_UP = "acknowledgement_follow_up"
ACKNOWLEDGEMENT_FOLLOW_UP_DUTY = Duty(ACKNOWLEDGEMENT_FOLLOW_UP, HEAD_TEACHER, 3)

# Task statuses the advising service keeps; a lifted warning leaves its tasks OPEN and marks them.
OPEN = "open"
WARNING_LIFTED = "warning lifted"


# --- duties.md, the rest of the handbook ---------------------------------------------------------------------------

CLASS_MEETING = "class_meeting"            # 专题班会 (study experience, study methods): date, topic, attendance
OBSERVATION = "observation"                # 随堂听课: date, course, teacher, notes
STUDY_PLAN = "study_plan"                  # 班级学业辅导计划, the class study-support plan
FOLLOW_UP = "follow_up"                    # progress on one student's support plan (agreed in a talk)
COUNSELOR_MEETING = "counselor_meeting"    # the counselor's meeting with the cohort's head teachers
PEER_TUTORING = "peer_tutoring"            # 助学小课堂, organised by the counselor
REVIEW_MEETING = "review_meeting"          # 学业问题研讨会, the department head's semester academic review meeting
SYMPOSIUM_REPLY = "symposium_reply"        # the answer to one mid-term symposium (期中教学座谈会) item

ALL_TASK_KINDS = TASK_KINDS + (CLASS_MEETING, OBSERVATION, STUDY_PLAN, FOLLOW_UP, COUNSELOR_MEETING,
                               PEER_TUTORING, REVIEW_MEETING, SYMPOSIUM_REPLY, COUNSELOR_LIST,
                               ACKNOWLEDGEMENT_FOLLOW_UP)

# Statuses. A course review closes in two steps: the teacher or course group SUBMITS the analysis, the department
# head reviews it (approved → done; returned → open again). Every other task is closed at once with its record.
SUBMITTED = "submitted"
DONE = "done"
STATUSES = (OPEN, SUBMITTED, DONE)
TWO_STEP_KINDS = frozenset({COURSE_REVIEW})


@dataclass(frozen=True)
class RecurringDuty:
    """A duty every semester: one task per week in ``weeks`` (so ``len(weeks)`` is the number the policy asks
    for), due at the end of that teaching week, for every class, cohort or major (``per``)."""
    kind: str
    role: str
    per: str                      # "class" | "cohort" | "major"
    weeks: tuple[int, ...]
    terms: tuple[int, ...] = (1, 2)   # autumn and spring; a summer term has no handbook duties


# duties.md, per semester. The weeks are the college's choice of when each one is due; the counts are the policy's.
RECURRING_DUTIES: tuple[RecurringDuty, ...] = (
    RecurringDuty(STUDY_PLAN, HEAD_TEACHER, "class", (4,)),                  # a class study-support plan
    RecurringDuty(CLASS_MEETING, HEAD_TEACHER, "class", (6, 11, 16)),        # at least 3 themed class meetings
    RecurringDuty(OBSERVATION, HEAD_TEACHER, "class", (6, 11, 16)),          # at least 3 classroom observations
    RecurringDuty(COUNSELOR_MEETING, COUNSELOR, "cohort", (8, 16)),          # at least 2 meetings with head teachers
    RecurringDuty(PEER_TUTORING, COUNSELOR, "cohort", (9, 15)),              # peer tutoring sessions organised
    RecurringDuty(REVIEW_MEETING, DEPARTMENT_HEAD, "major", (2,)),           # at the start of each semester
)

# A follow-up of a student's support plan is due on the date the talk agreed; it is the talk owner's duty.
FOLLOW_UP_ROLE = HEAD_TEACHER

# A symposium item routed to a department or a teacher must be answered within this many days.
SYMPOSIUM_REPLY_DAYS = 14

# Who hears about an overdue task after the grace period: the holder's superior. A vacant superior is skipped
# (the next one up hears), like ``NEXT_UP``.
ESCALATES_TO = {
    TEACHER: DEPARTMENT_HEAD,
    HEAD_TEACHER: COUNSELOR,
    COUNSELOR: DEPARTMENT_HEAD,
    DEPARTMENT_HEAD: VICE_DEAN,
    VICE_DEAN: None,
}

# Reminder defaults (config.yml overrides them): a reminder this many days before the due date, an overdue reminder
# the day after it and every ``OVERDUE_REPEAT_DAYS`` after that, and escalation ``ESCALATION_GRACE_DAYS`` after it.
REMIND_DAYS_BEFORE = 3
OVERDUE_REPEAT_DAYS = 7
ESCALATION_GRACE_DAYS = 7
