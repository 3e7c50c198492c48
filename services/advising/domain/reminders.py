"""Reminders before a task's due date and after it, and escalation of overdue tasks (duties.md).

Pure: ``reminders_due`` says which reminders a list of unfinished tasks asks for on ``today``. Each reminder has
a stable ``key``, and the service sends a key once, so running this every minute (a timer) or after a pause
sends each reminder exactly once:

* ``due_soon``   once, from ``days_before`` days before the due date until the due date;
* ``overdue``    the day after the due date, then every ``overdue_repeat_days`` (one key per period);
* ``escalated``  once, ``grace_days`` after the due date: the holder's superior (``ESCALATES_TO``) is told,
  and the task records who and when. A vacant superior is skipped; with nobody above, nothing is escalated.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from .duties import (
    COUNSELOR,
    DEPARTMENT_HEAD,
    DONE,
    ESCALATES_TO,
    ESCALATION_GRACE_DAYS,
    HEAD_TEACHER,
    OVERDUE_REPEAT_DAYS,
    REMIND_DAYS_BEFORE,
    VICE_DEAN,
)

DUE_SOON = "due_soon"
OVERDUE = "overdue"
ESCALATED = "escalated"


@dataclass(frozen=True)
class ReminderSettings:
    days_before: int = REMIND_DAYS_BEFORE
    overdue_repeat_days: int = OVERDUE_REPEAT_DAYS
    grace_days: int = ESCALATION_GRACE_DAYS

    def __post_init__(self):
        if self.days_before < 0 or self.overdue_repeat_days < 1 or self.grace_days < 0:
            raise ValueError("reminder settings: days_before ≥ 0, overdue_repeat_days ≥ 1, grace_days ≥ 0")


@dataclass(frozen=True)
class Reminder:
    key: str
    task_id: str
    reminder: str            # due_soon | overdue | escalated
    overdue_days: int        # negative: days left before the due date
    task: Any


def _get(task, name):
    return task.get(name) if isinstance(task, Mapping) else getattr(task, name, None)


def _as_date(value) -> date:
    return date.fromisoformat(value) if isinstance(value, str) else value


def reminders_due(tasks: Iterable[Any], today: date, settings: ReminderSettings = ReminderSettings()) -> list[Reminder]:
    """The reminders ``tasks`` (unfinished: open, or submitted and waiting for review) ask for on ``today``.
    Tasks are dicts or objects with task_id, status, due and escalated_at."""
    found = []
    for task in tasks:
        if _get(task, "status") == DONE:
            continue
        task_id = _get(task, "task_id")
        overdue = (today - _as_date(_get(task, "due"))).days
        if -settings.days_before <= overdue <= 0:
            found.append(Reminder(f"{task_id}:{DUE_SOON}", task_id, DUE_SOON, overdue, task))
        elif overdue >= 1:
            period = (overdue - 1) // settings.overdue_repeat_days
            found.append(Reminder(f"{task_id}:{OVERDUE}:{period}", task_id, OVERDUE, overdue, task))
        if overdue >= max(settings.grace_days, 1) and not _get(task, "escalated_at"):
            found.append(Reminder(f"{task_id}:{ESCALATED}", task_id, ESCALATED, overdue, task))
    return found


def escalation_target(task: Any, officers: Mapping) -> tuple[str, str] | None:
    """(staff id, role) of the superior who hears about an overdue ``task``: above the role holding it, by the
    task's cohort and major (roster officers: counselor_by_cohort, department_head_by_major, vice_dean_id).
    None when there is nobody above."""
    role = _get(task, "holder_role") or _get(task, "duty_role") or HEAD_TEACHER
    assignee = _get(task, "assignee")
    holders = {
        COUNSELOR: (officers.get("counselor_by_cohort") or {}).get(str(_get(task, "cohort"))),
        DEPARTMENT_HEAD: (officers.get("department_head_by_major") or {}).get(_get(task, "major")),
        VICE_DEAN: officers.get("vice_dean_id"),
    }
    current = ESCALATES_TO.get(role)
    while current is not None:
        person = holders.get(current)
        if person and person != assignee:
            return person, current
        current = ESCALATES_TO.get(current)
    return None
