"""Who is told what (policy.md §6), as data: change the audience of a notice HERE and nowhere else.

The functions below only read these tables. They turn a warning change (``WarningChangeSchema``) or a course flag
(``CourseFlagSchema``) into NoticeSpecs: one per recipient, each naming the template that words it and the context
the template needs. Wording lives in the templates; which channels carry a notice in channels_by_recipient.

A staff role may be vacant in the roster. Then the notice goes to the next responsible up (``NEXT_UP``, the same
chain advising uses for tasks), so a notice meant for staff always reaches somebody who can act on it.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Mapping

# Recipient kinds.
STUDENT = "student"
GUARDIAN = "guardian"                # parent / guardian (家长); addressed as "guardian:<student_id>"
HEAD_TEACHER = "head_teacher"        # 班主任, per class
COUNSELOR = "counselor"              # 辅导员, per cohort
DEPARTMENT_HEAD = "department_head"  # 系主任, per major
VICE_DEAN = "vice_dean"              # 教学副院长, the college
RECIPIENT_KINDS = (STUDENT, GUARDIAN, HEAD_TEACHER, COUNSELOR, DEPARTMENT_HEAD, VICE_DEAN)
STAFF_KINDS = (HEAD_TEACHER, COUNSELOR, DEPARTMENT_HEAD, VICE_DEAN)
STAFF = "staff"                      # a staff member told of their tasks (a task names its assignee, not the role)

# Who covers when a staff role is vacant: a class without a head teacher is its cohort counselor's; counselors and
# department heads answer to the vice dean; above the vice dean there is nobody.
NEXT_UP: dict[str, str | None] = {
    HEAD_TEACHER: COUNSELOR,
    COUNSELOR: VICE_DEAN,
    DEPARTMENT_HEAD: VICE_DEAN,
    VICE_DEAN: None,
}

# Notice kinds (what the notice is about).
WARNING_ISSUED = "warning_issued"
WARNING_ESCALATED = "warning_escalated"
WARNING_FORMAL = "warning_formal"          # 学业预警通知书 to the guardian, asks for a 回执
WARNING_DOWNGRADED = "warning_downgraded"
WARNING_LIFTED = "warning_lifted"          # 解除预警
COURSE_FLAGGED = "course_flagged"
TASK_DIGEST = "task_digest"                # a staff member's tasks and reminders of the day, in one notice
TASK_URGENT = "task_urgent"                # tasks of a red warning: told at once, not in the digest


@dataclass(frozen=True)
class Tell:
    """One line of the audience table: tell this recipient, with this template."""
    recipient_kind: str
    template: str
    formal: bool = False       # the formal notice that asks for an acknowledgement (回执)


# policy.md §6: an ISSUED or ESCALATED warning, by the level reached.
TOLD_OF_WARNING: dict[str, tuple[Tell, ...]] = {
    "yellow": (
        Tell(STUDENT, "warning_student"),
        Tell(GUARDIAN, "warning_guardian"),
    ),
    "orange": (
        Tell(STUDENT, "warning_student"),
        Tell(GUARDIAN, "warning_formal", formal=True),
        Tell(COUNSELOR, "warning_staff"),
    ),
    "red": (
        Tell(STUDENT, "warning_student"),
        Tell(GUARDIAN, "warning_formal", formal=True),
        Tell(DEPARTMENT_HEAD, "warning_staff"),
    ),
    # 退学警示 (dismissal risk, given only by the escalation-chain rules): everyone red tells, and the vice dean,
    # because a dismissal is decided by the college, not the department.
    "dismissal": (
        Tell(STUDENT, "warning_student"),
        Tell(GUARDIAN, "warning_formal", formal=True),
        Tell(DEPARTMENT_HEAD, "warning_staff"),
        Tell(VICE_DEAN, "warning_staff"),
    ),
}

# policy.md §6: DOWNGRADED and LIFTED warnings are told to the student, the parent and the head teacher.
TOLD_OF_DOWNGRADE: tuple[Tell, ...] = (
    Tell(STUDENT, "warning_student"),
    Tell(GUARDIAN, "warning_guardian"),
    Tell(HEAD_TEACHER, "warning_staff"),
)
TOLD_OF_LIFT: tuple[Tell, ...] = (
    Tell(STUDENT, "warning_lifted"),
    Tell(GUARDIAN, "warning_lifted"),
    Tell(HEAD_TEACHER, "warning_lifted"),
)

# duties.md: a flagged course of this college goes to the department head of its major; a course taught by another
# college goes to the vice dean, who raises it with that college.
TOLD_OF_FLAG = Tell(DEPARTMENT_HEAD, "course_flagged")
TOLD_OF_EXTERNAL_FLAG = Tell(VICE_DEAN, "course_flagged")


@dataclass(frozen=True)
class FollowUp:
    """What happens next at a level (policy.md §6), in days. Advising creates these tasks; a notice only says so."""
    talk_days: int                      # head teacher's one-on-one talk (一对一面谈)
    parent_contact_days: int | None     # head teacher contacts the parents; None: by the end of the semester
    counselor_talk_days: int | None     # counselor's joint talk; None: no joint talk at this level


FOLLOW_UP: dict[str, FollowUp] = {
    "yellow": FollowUp(talk_days=14, parent_contact_days=None, counselor_talk_days=None),
    "orange": FollowUp(talk_days=7, parent_contact_days=14, counselor_talk_days=None),
    "red": FollowUp(talk_days=7, parent_contact_days=7, counselor_talk_days=7),
    "dismissal": FollowUp(talk_days=7, parent_contact_days=7, counselor_talk_days=7),   # as red (advising duties)
}

# duties.md: the analysis of a flagged course (causes, improvement measures) is due 4 weeks after the flag.
COURSE_REVIEW_DAYS = 28


@dataclass(frozen=True)
class People:
    """Who the notices of one student (or one course's major) concern, as the roster answers; any may be None."""
    student_id: str | None = None
    student_name: str | None = None
    class_name: str | None = None
    major: str | None = None
    head_teacher_id: str | None = None
    counselor_id: str | None = None
    department_head_id: str | None = None
    vice_dean_id: str | None = None

    def staff(self, kind: str) -> str | None:
        return getattr(self, f"{kind}_id")


@dataclass(frozen=True)
class NoticeSpec:
    kind: str
    recipient_kind: str
    recipient_id: str        # staff id, student id, or "guardian:<student_id>"
    cause: str               # stable: the change_id, or "flag:<semester>:<course_code>:<teacher>"
    template: str
    context: dict[str, Any] = field(default_factory=dict)
    requires_acknowledgement: bool = False


def guardian_id(student_id: str) -> str:
    return f"guardian:{student_id}"


def flag_cause(flag: Mapping[str, Any]) -> str:
    return f"flag:{flag['semester']}:{flag['course_code']}:{flag['teacher']}"


def flag_major(flag: Mapping[str, Any]) -> str | None:
    """The major whose department head answers for a flagged course: the one most of its students are in."""
    return flag["majors"][0] if flag.get("majors") else None


def notices_for_warning_change(change: Mapping[str, Any], people: People) -> list[NoticeSpec]:
    """The notices one warning change gives, one per recipient, in the order of the audience table."""
    kind = change["kind"]
    if kind in ("issued", "escalated"):
        audience = TOLD_OF_WARNING[change["new_level"]]
    elif kind == "downgraded":
        audience = TOLD_OF_DOWNGRADE
    elif kind == "lifted":
        audience = TOLD_OF_LIFT
    else:
        raise ValueError(f"unknown warning change kind {kind!r}")

    student_id = change["student_id"]     # the change, not the roster, says whose warning this is
    specs: list[NoticeSpec] = []
    for tell in audience:
        recipient = _resolve(tell.recipient_kind, student_id, people)
        if recipient is None:
            continue                      # nobody in the role nor above it: there is no one to tell
        recipient_kind, recipient_id = recipient
        specs.append(NoticeSpec(
            kind=_warning_notice_kind(kind, tell),
            recipient_kind=recipient_kind,
            recipient_id=recipient_id,
            cause=str(change["change_id"]),
            template=tell.template,
            context=_warning_context(change, people, tell, recipient_kind),
            requires_acknowledgement=tell.formal,
        ))
    return _one_per_recipient(specs)


def notices_for_course_flag(flag: Mapping[str, Any], people: People) -> list[NoticeSpec]:
    """The notice a course flag gives: only a NEW flag is told (updates and unflagging are advising's business).

    ``people`` holds the department head of ``flag_major(flag)`` and the vice dean.
    """
    if flag["change"] != "flagged":
        return []
    major = flag_major(flag)
    # Without a major there is no department to answer for the course; the vice dean takes it, as for a course
    # of another college.
    tell = TOLD_OF_EXTERNAL_FLAG if flag["external"] or major is None else TOLD_OF_FLAG
    recipient = _resolve(tell.recipient_kind, None, people)
    if recipient is None:
        return []
    recipient_kind, recipient_id = recipient
    context = {
        "audience": recipient_kind,
        "covering_for": tell.recipient_kind if recipient_kind != tell.recipient_kind else None,
        "course": {key: flag[key] for key in ("course_code", "course_name", "teacher", "offering_college")},
        "semester": flag["semester"],
        "external": bool(flag["external"]),
        "major": major,
        "rate": flag["rate"], "failed": flag["failed"], "total": flag["total"], "threshold": flag["threshold"],
        "previous_rate": flag.get("previous_rate"), "previous_semester": flag.get("previous_semester"),
        "review_days": COURSE_REVIEW_DAYS,
    }
    return [NoticeSpec(COURSE_FLAGGED, recipient_kind, recipient_id, flag_cause(flag), tell.template, context)]


def _resolve(kind: str, student_id: str | None, people: People) -> tuple[str, str] | None:
    """(recipient kind, recipient id) for a role, walking up NEXT_UP while the role is vacant."""
    if kind == STUDENT:
        return (STUDENT, student_id) if student_id else None
    if kind == GUARDIAN:
        return (GUARDIAN, guardian_id(student_id)) if student_id else None
    role: str | None = kind
    while role is not None:
        staff_id = people.staff(role)
        if staff_id:
            return role, staff_id
        role = NEXT_UP[role]
    return None


def _warning_notice_kind(change_kind: str, tell: Tell) -> str:
    if tell.formal:
        return WARNING_FORMAL
    return {"issued": WARNING_ISSUED, "escalated": WARNING_ESCALATED,
            "downgraded": WARNING_DOWNGRADED, "lifted": WARNING_LIFTED}[change_kind]


def _warning_context(change: Mapping[str, Any], people: People, tell: Tell, recipient_kind: str) -> dict[str, Any]:
    """Everything the templates may say, about THIS student only (a guardian's notice carries nobody else's data)."""
    level = change["new_level"]
    follow_up = FOLLOW_UP.get(level)
    return {
        "audience": recipient_kind,
        "covering_for": tell.recipient_kind if recipient_kind != tell.recipient_kind else None,
        "change": change["kind"],
        "student": {"id": change["student_id"], "name": people.student_name,
                    "class_name": people.class_name, "major": people.major},
        "semester": change["semester"],
        "old_level": change["old_level"],
        "new_level": level,
        "escalated": bool(change["escalated"]),
        "reasons": [_reason(reason) for reason in change.get("reasons", [])],
        "follow_up": asdict(follow_up) if follow_up else None,
        "formal": tell.formal,
        "policy_version": change.get("policy_version"),
    }


def _reason(reason: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "rule": reason["rule"], "level": reason["level"], "measure": reason["measure"],
        "threshold": reason["threshold"], "comparison": reason["comparison"],
        "courses": [{key: course[key] for key in ("course_code", "course_name", "credits", "result")}
                    for course in reason.get("courses", [])],
    }


def _one_per_recipient(specs: list[NoticeSpec]) -> list[NoticeSpec]:
    # One person may hold two roles (a counselor covering as head teacher…): they get one notice per cause.
    seen: set[str] = set()
    unique = []
    for spec in specs:
        if spec.recipient_id not in seen:
            seen.add(spec.recipient_id)
            unique.append(spec)
    return unique
