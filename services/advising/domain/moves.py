"""A roster change moves unfinished tasks to whoever is responsible now (duties.md: a task always has its owner).

``people_for`` says who is responsible for a task's scope after the change — the student's people for a student's
task, the class's head teacher for a class duty, the cohort's counselor, the major's department head — and
``moves`` compares that with each task's assignee. Nothing is moved when the roster does not say (a class the
import did not touch, a student it does not know): an unknown is never a reason to take a task away.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from .duties import COUNSELOR, DEPARTMENT_HEAD, DONE, HEAD_TEACHER, NEXT_UP, VICE_DEAN
from .tasks import NoResponsible, assignee_for


@dataclass(frozen=True)
class Move:
    task_id: str
    old_assignee: str
    new_assignee: str
    holder_role: str
    task: Any


def _get(task, name):
    return task.get(name) if isinstance(task, Mapping) else getattr(task, name, None)


def people_for(task: Any, *, students: Mapping[str, Mapping], class_heads: Mapping[str, str],
               officers: Mapping) -> dict | None:
    """Who holds each role for ``task``'s scope now, or None when the roster did not say.

    students: student id → roster ``responsibles`` answer (fresh); class_heads: class → head teacher, for the
    classes the import changed; officers: roster ``officers``.
    """
    student = _get(task, "student_id")
    if student:
        found = students.get(student)
        return dict(found) if found else None
    counselors = officers.get("counselor_by_cohort") or {}
    heads = officers.get("department_head_by_major") or {}
    people = {COUNSELOR: counselors.get(str(_get(task, "cohort"))), VICE_DEAN: officers.get("vice_dean_id"),
              DEPARTMENT_HEAD: heads.get(_get(task, "major"))}
    if _get(task, "duty_role") == HEAD_TEACHER:
        class_name = _get(task, "class_name")
        if class_name not in class_heads:
            return None
        people[HEAD_TEACHER] = class_heads[class_name]
    return people


def moves(tasks: Iterable[Any], people_by_task: Mapping[str, Mapping | None]) -> list[Move]:
    """The unfinished tasks whose owner is no longer the one responsible, and their new owner."""
    found = []
    for task in tasks:
        if _get(task, "status") == DONE or _get(task, "duty_role") not in NEXT_UP:
            continue        # a teacher's task (symposium reply) is the teacher's whatever the roster says
        people = people_by_task.get(_get(task, "task_id"))
        if people is None:
            continue
        try:
            assignee, holder_role = assignee_for(_get(task, "duty_role"), people)
        except NoResponsible:
            continue
        if assignee != _get(task, "assignee"):
            found.append(Move(_get(task, "task_id"), _get(task, "assignee"), assignee, holder_role, task))
    return found
