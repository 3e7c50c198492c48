"""Staff are told of their tasks without being flooded: what a task change means for its assignee, which tasks are
urgent, and the notice that gathers them (duties.md; advising announces tasks as ``advising.tasks_changed``).

* A task that is new to its assignee (open, or moved to them) is an ASSIGNMENT; a task announced with any other
  status that is not closed (``due_soon``, ``overdue``, ``reminder``…) is a REMINDER. A task announced done /
  closed / cancelled needs no notice (and drops out of a digest not sent yet).
* Each (task, assignee, status, due date) is told once: announcing the same task again (a redelivery, or a note
  such as "warning lifted") tells nobody anything new.
* Tasks of a RED (or dismissal-risk) warning are urgent: told at once. Every other item waits for the assignee's
  next digest.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any, Iterable, Mapping

from services.notification.domain.recipients import STAFF, TASK_DIGEST, TASK_URGENT, NoticeSpec
from shared.academic.vocabulary import level_rank

ASSIGNED = "assigned"
REMINDER = "reminder"
ESCALATED = "escalated"     # a task of someone else, overdue past the grace period, told to their superior
CLOSED_STATUSES = frozenset({"done", "closed", "cancelled", "canceled"})
OPEN = "open"

# What each task kind asks, in the order a digest lists them (unknown kinds come last, by name).
TASK_ORDER = ("counselor_talk", "talk", "parent_contact", "integrity_talk", "course_review")


@dataclass(frozen=True)
class TaskItem:
    key: str              # (task, assignee, status, due): told once
    task_id: str
    assignee: str
    item_kind: str        # assigned | reminder
    change_ref: str       # what caused the task, after its kind: a warning change id for warning tasks
    task: dict


def item_for(task: Mapping[str, Any]) -> TaskItem | None:
    """The digest item a task change gives its assignee, or None when it needs no notice."""
    status = str(task["status"])
    if status in CLOSED_STATUSES:
        return None
    kind = ASSIGNED if status == OPEN else REMINDER
    fields = ("task_id", "kind", "assignee", "student_id", "course_code", "semester", "due", "status", "cause")
    return TaskItem(
        key=f"{task['task_id']}:{task['assignee']}:{status}:{task['due']}",
        task_id=str(task["task_id"]), assignee=str(task["assignee"]), item_kind=kind,
        change_ref=change_ref(str(task["cause"])), task={f: task.get(f) for f in fields})


def items_for_reminder(reminder: Mapping[str, Any]) -> list[TaskItem]:
    """The digest item an ``advising.reminders_due`` reminder gives: to the holder (due_soon, overdue) or, escalated,
    to the superior (the holder was reminded before)."""
    kind = str(reminder["reminder"])
    if kind == "escalated":
        recipient = reminder.get("escalate_to")
        if not recipient:
            return []
        item_kind = ESCALATED
    else:
        recipient, item_kind = reminder["assignee"], REMINDER
    task = {"task_id": reminder["task_id"], "kind": reminder["task_kind"], "assignee": reminder["assignee"],
            "student_id": reminder.get("student_id"), "course_code": reminder.get("course_code"),
            "semester": reminder["semester"], "due": reminder["due"], "status": kind,
            "overdue_days": reminder.get("overdue_days"), "class_name": reminder.get("class_name"), "cause": ""}
    key = f"reminder:{reminder['task_id']}:{recipient}:{kind}:{reminder.get('overdue_days')}"
    return [TaskItem(key=key, task_id=str(reminder["task_id"]), assignee=str(recipient), item_kind=item_kind,
                     change_ref="", task=task)]


def change_ref(cause: str) -> str:
    """``talk:<change_id>`` -> ``<change_id>`` (a warning task's cause names its warning change)."""
    return cause.partition(":")[2] or cause


def is_urgent_change(change: Mapping[str, Any]) -> bool:
    """A red or dismissal-risk warning (issued, or escalated to it): its tasks are told at once."""
    return change["kind"] in ("issued", "escalated") and level_rank(change["new_level"]) >= level_rank("red")


def closed_task_ids(tasks: Iterable[Mapping[str, Any]]) -> list[str]:
    return [str(t["task_id"]) for t in tasks if str(t["status"]) in CLOSED_STATUSES]


def _order(task: Mapping[str, Any]) -> tuple:
    kind = task.get("kind") or ""
    rank = TASK_ORDER.index(kind) if kind in TASK_ORDER else len(TASK_ORDER)
    return (task.get("due") or "", rank, kind, task.get("student_id") or "", task.get("course_code") or "",
            task.get("task_id") or "")


def digest_spec(assignee: str, cause: str, items: Iterable[Mapping[str, Any]], urgent: bool,
                today: date) -> NoticeSpec:
    """The one notice that tells ``assignee`` about ``items`` (dicts with ``item_kind`` and ``task``)."""
    tasks = sorted(({**item["task"], "item_kind": item["item_kind"]} for item in items), key=_order)
    assigned = [t for t in tasks if t["item_kind"] == ASSIGNED]
    reminders = [t for t in tasks if t["item_kind"] in (REMINDER, ESCALATED)]
    overdue = [t for t in tasks if t.get("due") and t["due"] < today.isoformat()]
    context = {"audience": STAFF, "covering_for": None, "urgent": urgent, "tasks": tasks,
               "assigned": len(assigned), "reminders": len(reminders), "overdue": len(overdue),
               "today": today.isoformat()}
    return NoticeSpec(kind=TASK_URGENT if urgent else TASK_DIGEST, recipient_kind=STAFF, recipient_id=assignee,
                      cause=cause, template=TASK_URGENT if urgent else TASK_DIGEST, context=context)
