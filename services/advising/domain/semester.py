"""The recurring duties of a semester (duties.md), as tasks for the people the roster names.

``semester_tasks`` reads ``RECURRING_DUTIES`` (duties.py) and the roster's classes and officers, and says which
tasks the semester asks for. Causes are ``<kind>:<semester>:<class|cohort|major>:<n>``, so opening a semester
twice, or again after the roster gained a class, never duplicates a task.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from .calendar import SemesterDates
from .duties import COUNSELOR, DEPARTMENT_HEAD, HEAD_TEACHER, RECURRING_DUTIES, VICE_DEAN, Duty, RecurringDuty
from .tasks import NoResponsible, TaskSpec, make_task


@dataclass(frozen=True)
class ClassInfo:
    class_name: str
    major: str
    cohort: str
    head_teacher_id: str | None
    enrolled: int | None = None     # students enrolled now; a class without any has no duties


def classes_from(rows: Iterable[Mapping]) -> list[ClassInfo]:
    """The roster's classes (RPC ``roster.classes``) that have students enrolled (or whose count is unknown)."""
    found = []
    for row in rows:
        enrolled = row.get("enrolled")
        if enrolled is not None and int(enrolled) == 0:
            continue
        found.append(ClassInfo(row["class_name"], row["major"], str(row["cohort"]), row.get("head_teacher_id"),
                               enrolled))
    return sorted(found, key=lambda c: c.class_name)


def recurring_cause(kind: str, semester: str, scope: str, number: int) -> str:
    return f"{kind}:{semester}:{scope}:{number}"


def _scopes(duty: RecurringDuty, classes: list[ClassInfo], officers: Mapping) -> list[tuple[str, dict, dict]]:
    """(scope key, people, scope columns) for each class, cohort or major the duty applies to."""
    counselors = officers.get("counselor_by_cohort") or {}
    heads = officers.get("department_head_by_major") or {}
    vice_dean = officers.get("vice_dean_id")
    if duty.per == "class":
        return [(c.class_name,
                 {HEAD_TEACHER: c.head_teacher_id, COUNSELOR: counselors.get(c.cohort), VICE_DEAN: vice_dean},
                 {"class_name": c.class_name, "major": c.major, "cohort": c.cohort}) for c in classes]
    if duty.per == "cohort":
        cohorts = sorted({c.cohort for c in classes})
        return [(cohort, {COUNSELOR: counselors.get(cohort), VICE_DEAN: vice_dean},
                 {"class_name": None, "major": None, "cohort": cohort}) for cohort in cohorts]
    if duty.per == "major":
        majors = sorted({c.major for c in classes})
        return [(major, {DEPARTMENT_HEAD: heads.get(major), VICE_DEAN: vice_dean},
                 {"class_name": None, "major": major, "cohort": None}) for major in majors]
    raise ValueError(f"unknown duty scope {duty.per!r}")


def semester_tasks(dates: SemesterDates, classes: Iterable[ClassInfo], officers: Mapping,
                   duties: Iterable[RecurringDuty] = RECURRING_DUTIES) -> tuple[list[TaskSpec], list[str]]:
    """(tasks, problems): the semester's recurring tasks, and what could not be assigned (nobody in the role
    nor above it), which the caller reports instead of failing the whole semester."""
    classes = list(classes)
    specs, problems = [], []
    for duty in duties:
        if dates.term not in duty.terms:
            continue
        for scope_key, people, scope in _scopes(duty, classes, officers):
            for number, week in enumerate(duty.weeks, start=1):
                detail = {"number": number, "of": len(duty.weeks), "week": week, "per": duty.per,
                          "scope": scope_key}
                try:
                    specs.append(make_task(Duty(duty.kind, duty.role, 0), {**people, "student_id": None}, None,
                                       student_id=None, course_code=None, semester=dates.semester,
                                       cause=recurring_cause(duty.kind, dates.semester, scope_key, number),
                                       detail=detail, due=dates.week_end(week), scope=scope))
                except NoResponsible:
                    problems.append(f"{duty.kind} for {duty.per} {scope_key}: nobody holds {duty.role} "
                                    "or any role above it")
                    break
    return specs, problems
