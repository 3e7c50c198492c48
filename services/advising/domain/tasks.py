"""Tasks for staff, decided from warning changes, grade records and course flags (policy.md §6, duties.md).

Pure functions: they say WHICH tasks a cause asks for; the service stores them, and never stores a task twice
for one ``cause`` (the cause key is stable: the same input always gives the same key).

Due dates are calendar days after ``occurred_at`` (when the warning, the record or the flag was announced). The
service passes ``occurred_at`` in the college's own time zone, so "within 7 days" counts the college's days.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from shared.academic.scores import read_score

from .duties import (
    COURSE_REVIEW_DUTY,
    DEPARTMENT_HEAD,
    EXTERNAL_COURSE_REVIEW_DUTY,
    FOLLOW_UP,
    FOLLOW_UP_ROLE,
    INTEGRITY_DUTY,
    NEXT_UP,
    OPEN,
    PARENT_CONTACT,
    TALK,
    TASK_CREATING_CHANGES,
    VICE_DEAN,
    WARNING_DUTIES,
    WARNING_TASK_KINDS,
    Duty,
)


class NoResponsible(LookupError):
    """Nobody holds the role, nor any role above it: the roster must be completed before the task can exist."""


@dataclass(frozen=True)
class Responsibles:
    """Who is responsible for one student (from the roster). Any of them may be missing."""
    student_id: str
    class_name: str | None = None
    major: str | None = None
    cohort: int | str | None = None
    head_teacher_id: str | None = None
    counselor_id: str | None = None
    department_head_id: str | None = None
    vice_dean_id: str | None = None


@dataclass(frozen=True)
class TaskSpec:
    kind: str
    assignee: str             # staff id
    student_id: str | None    # None for a course review
    course_code: str | None   # None for warning tasks
    semester: str
    due: date
    cause: str                # stable key: one task per cause, ever
    detail: dict = field(default_factory=dict, compare=False, hash=False)
    duty_role: str | None = None      # whose duty it is (duties.py roles)
    holder_role: str | None = None    # the role of the assignee: the duty's, or the one covering for it
    class_name: str | None = None     # scope of the task, for moving it when the roster changes and escalating it
    major: str | None = None
    cohort: str | None = None


def due_on(occurred_at: datetime | date, days: int) -> date:
    day = occurred_at.date() if isinstance(occurred_at, datetime) else occurred_at
    return day + timedelta(days=days)


def assignee_for(role: str, people: Responsibles | Mapping[str, str | None]) -> tuple[str, str]:
    """(staff id, role actually holding the task): the role's holder, or the next responsible up (``NEXT_UP``)."""
    current: str | None = role
    while current is not None:
        holder = people.get(current) if isinstance(people, Mapping) else getattr(people, current, None)
        if holder:
            return holder, current
        current = NEXT_UP[current]
    who = people.get("student_id") if isinstance(people, Mapping) else people.student_id
    raise NoResponsible(f"nobody holds {role} or any role above it (student {who})")


def scope_of(people: Responsibles | Mapping | None) -> dict:
    """class_name, major and cohort of whoever ``people`` describes (missing ones None; cohort as text)."""
    get = (lambda k: people.get(k)) if isinstance(people, Mapping) else (lambda k: getattr(people, k, None))
    cohort = get("cohort") if people is not None else None
    return {"class_name": get("class_name") if people is not None else None,
            "major": get("major") if people is not None else None,
            "cohort": None if cohort in (None, "") else str(cohort)}


def make_task(duty: Duty, people, occurred_at, *, student_id, course_code, semester, cause, detail,
          due: date | None = None, scope: dict | None = None) -> TaskSpec:
    assignee, holding_role = assignee_for(duty.role, people)
    if holding_role != duty.role:
        # Say whose duty this really is, so the covering person (and the compliance count) knows.
        detail = {**detail, "covering_for": duty.role}
    return TaskSpec(duty.kind, assignee, student_id, course_code, semester,
                    due if due is not None else due_on(occurred_at, duty.days), cause, detail,
                    duty_role=duty.role, holder_role=holding_role, **(scope or scope_of(people)))


def warning_cause(kind: str, change_id: str) -> str:
    return f"{kind}:{change_id}"


def tasks_for_warning_change(change: Mapping, people: Responsibles, occurred_at: datetime) -> list[TaskSpec]:
    """The tasks a warning change (``WarningChangeSchema``) creates: the duties of the level reached when a
    warning is issued or escalated. Downgraded and lifted warnings create none — they are told to the student,
    parent and head teacher (notification); a lifted warning marks its open tasks (``tasks_marked_by_lift``)."""
    if change["kind"] not in TASK_CREATING_CHANGES:
        return []
    level = change["new_level"]
    detail = {
        "change_id": change["change_id"],
        "change": change["kind"],
        "level": level,
        "old_level": change["old_level"],
        "escalated": change.get("escalated", False),
        "rules": [reason["rule"] for reason in change.get("reasons", ())],
    }
    return [
        make_task(duty, people, occurred_at,
              student_id=change["student_id"], course_code=None, semester=change["semester"],
              cause=warning_cause(duty.kind, change["change_id"]), detail=detail)
        for duty in WARNING_DUTIES.get(level, ())
    ]


def _field(task: Any, name: str) -> Any:
    return task.get(name) if isinstance(task, Mapping) else getattr(task, name, None)


def tasks_marked_by_lift(change: Mapping, open_tasks: Iterable[Any]) -> list[Any]:
    """Which of ``open_tasks`` a LIFTED warning marks "warning lifted" (they stay open: policy.md §6).

    The warning tasks (talk, parent contact, counselor talk) of the same student and semester that are still
    open. Integrity talks and course reviews have other causes and are untouched. Tasks are dicts or objects
    with kind, student_id, semester and status.
    """
    if change["kind"] != "lifted":
        return []
    # The semester's contact with the parents of a student with academic problems (lists.py) stays unmarked: a
    # failed course is still a problem after the warning is lifted.
    problems_contact = f"{PARENT_CONTACT}:{change['semester']}:{change['student_id']}"
    return [
        task for task in open_tasks
        if _field(task, "status") == OPEN
        and _field(task, "kind") in WARNING_TASK_KINDS
        and _field(task, "student_id") == change["student_id"]
        and _field(task, "semester") == change["semester"]
        and _field(task, "cause") != problems_contact
    ]


def integrity_cause(record: Mapping) -> str:
    return (f"{INTEGRITY_DUTY.kind}:{record['student_id']}:{record['semester']}:"
            f"{record['course_code']}:{record['exam_type']}")


def integrity_tasks(records: Iterable[Mapping], people_by_student: Mapping[str, Responsibles],
                    occurred_at: datetime) -> list[TaskSpec]:
    """An integrity conversation for every 作弊 (cheating) record, owned by the student's head teacher.

    One task per record (student, semester, course, exam type): cheating at a make-up is a new case. A student the
    roster does not know raises ``NoResponsible`` — the task must not be lost, so the event waits for the roster.
    """
    tasks: dict[str, TaskSpec] = {}
    for record in records:
        if read_score(record["score"]).kind != "cheating":
            continue
        cause = integrity_cause(record)
        if cause in tasks:
            continue
        people = people_by_student.get(record["student_id"])
        if people is None:
            raise NoResponsible(f"student {record['student_id']} is not in the roster")
        tasks[cause] = make_task(
            INTEGRITY_DUTY, people, occurred_at,
            student_id=record["student_id"], course_code=record["course_code"], semester=record["semester"],
            cause=cause,
            detail={"course_name": record.get("course_name"), "exam_type": record["exam_type"],
                    "score": record["score"]},
        )
    return list(tasks.values())


def course_review_cause(flag: Mapping) -> str:
    return f"{COURSE_REVIEW_DUTY.kind}:{flag['semester']}:{flag['course_code']}:{flag['teacher']}"


def tasks_for_course_flag(flag: Mapping, department_heads: Mapping[str, str], vice_dean_id: str | None,
                          occurred_at: datetime) -> list[TaskSpec]:
    """A course review for a newly flagged course (``CourseFlagSchema`` with change "flagged"), due 4 weeks later.

    Owned by the department head of the course's major — the first of ``flag["majors"]``, the major most of its
    students are in. A course of another college (``external``) goes to the vice dean, who raises it with that
    college; so does a course whose major has no department head. "updated" and "unflagged" create nothing: the
    review already asked for stays the one review of that offering.
    """
    if flag["change"] != "flagged":
        return []
    majors = list(flag.get("majors") or ())
    if flag.get("external"):
        duty = EXTERNAL_COURSE_REVIEW_DUTY
        people = {VICE_DEAN: vice_dean_id}
    else:
        duty = COURSE_REVIEW_DUTY
        people = {DEPARTMENT_HEAD: department_heads.get(majors[0]) if majors else None, VICE_DEAN: vice_dean_id}
    detail = {key: flag.get(key) for key in (
        "course_name", "teacher", "offering_college", "external", "rate", "failed", "total", "threshold",
        "previous_rate", "previous_semester")}
    detail["major"] = majors[0] if majors else None
    return [make_task(duty, {**people, "student_id": None}, occurred_at,
                  student_id=None, course_code=flag["course_code"], semester=flag["semester"],
                  cause=course_review_cause(flag), detail=detail,
                  scope={"class_name": None, "major": detail["major"], "cohort": None})]



def follow_up_cause(task_id: str) -> str:
    return f"{FOLLOW_UP}:{task_id}"


def follow_up_for(task: Mapping, record: Mapping) -> TaskSpec | None:
    """The follow-up a closed talk (or follow-up) asks for: the student's support plan is checked on the
    follow-up date the record names, by whoever holds the talk. One per closed task, so never twice."""
    if task["kind"] not in (TALK, FOLLOW_UP) or not record.get("follow_up"):
        return None
    due = record["follow_up"]
    due = date.fromisoformat(due) if isinstance(due, str) else due
    plan = record.get("support_plan") or (task.get("detail") or {}).get("support_plan")
    detail = {"after": task["task_id"], "after_kind": task["kind"], "support_plan": plan}
    return TaskSpec(FOLLOW_UP, task["assignee"], task["student_id"], None, task["semester"], due,
                    follow_up_cause(task["task_id"]), detail, duty_role=FOLLOW_UP_ROLE,
                    holder_role=task.get("holder_role") or FOLLOW_UP_ROLE, class_name=task.get("class_name"),
                    major=task.get("major"), cohort=task.get("cohort"))
