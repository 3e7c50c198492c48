"""Notices not acknowledged (回执) in time become the head teacher's follow-up (docs/notifications.md
"Acknowledgements"): contact the family, find out whether the notice arrived, and record the contact.

Pure: ``follow_up_tasks`` turns the entries of ``notification.acknowledgement_overdue`` into TaskSpecs — one task
per warning change, whoever is missing (the student, the guardian, or both), so a family is called once.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime

from .duties import ACKNOWLEDGEMENT_FOLLOW_UP, ACKNOWLEDGEMENT_FOLLOW_UP_DUTY
from .tasks import NoResponsible, Responsibles, TaskSpec, make_task


def follow_up_cause(change_id: str) -> str:
    return f"{ACKNOWLEDGEMENT_FOLLOW_UP}:{change_id}"


def follow_up_tasks(entries: Iterable[Mapping], people: Mapping[str, Responsibles],
                    occurred_at: datetime) -> list[TaskSpec]:
    """One head-teacher task per warning change with a missing acknowledgement (``OverdueAcknowledgementSchema``
    entries). A student the roster does not know raises ``NoResponsible``: the task must not be lost."""
    by_change: dict[str, list[Mapping]] = {}
    for entry in entries:
        by_change.setdefault(entry["change_id"], []).append(entry)
    tasks = []
    for change_id, group in by_change.items():
        first = group[0]
        who = people.get(first["student_id"])
        if who is None:
            raise NoResponsible(f"student {first['student_id']} is not in the roster")
        detail = {
            "change_id": change_id,
            "level": first["level"],
            "missing": sorted({e["recipient_kind"] for e in group}),        # guardian, student
            "opened": sorted({e["recipient_kind"] for e in group if e["opened"]}),   # opened the link, did not sign
            "requested_at": min(e["requested_at"] for e in group),
            "reminded": any(e.get("reminded_at") for e in group),
        }
        tasks.append(make_task(ACKNOWLEDGEMENT_FOLLOW_UP_DUTY, who, occurred_at, student_id=first["student_id"],
                               course_code=None, semester=first["semester"], cause=follow_up_cause(change_id),
                               detail=detail))
    return tasks
