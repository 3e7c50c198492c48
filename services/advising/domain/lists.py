"""Counselor lists (policy art. 4, duties.md "Counselor"): after each upload, per cohort, the students with a warning
and the students with any failed course, sent to the cohort's counselor, the head teachers of the classes concerned
and the department heads of the majors concerned; the counselor confirms the list.

Pure functions: which students are on a semester's lists, grouped by cohort; who receives which part; whether a
list differs from the last one issued; and the tasks a list asks for (the counselor's confirmation, and the head
teacher's contact with the parents of every student with academic problems, duties.md "Head teacher").

A FAILED COURSE of semester S is a course whose best result among the student's records of S (regular, deferred,
make-up and retake alike, policy.md §2) is a fail: a make-up pass repairs it. Every course type counts ("any failed
course"), and a course with no result yet does not.
"""
from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime

from shared.academic.scores import better, read_score

from .duties import (
    COUNSELOR,
    COUNSELOR_LIST_DUTY,
    DEPARTMENT_HEAD,
    HEAD_TEACHER,
    PROBLEM_PARENT_CONTACT_DUTY,
    VICE_DEAN,
)
from .tasks import NoResponsible, TaskSpec, assignee_for, due_on, make_task

# Recipient roles on a list, most-seeing first: a counselor sees the whole cohort, a department head the students
# of their major, a head teacher the students of their class; the vice dean receives a part only for a vacant post.
PRECEDENCE = (COUNSELOR, DEPARTMENT_HEAD, HEAD_TEACHER, VICE_DEAN)
ROLE_NAMES = {COUNSELOR: "counselor", DEPARTMENT_HEAD: "department_head", HEAD_TEACHER: "head_teacher",
              VICE_DEAN: "vice_dean"}

# A semester's parent contacts are due by the end of its last teaching week, unless that leaves less than this
# many days (grades often arrive when the semester is over): then this many days after the list.
MIN_PARENT_CONTACT_DAYS = PROBLEM_PARENT_CONTACT_DUTY.days


def failed_courses(rows: Iterable[Mapping]) -> dict[str, list[dict]]:
    """student id -> the failed courses of one semester, from that semester's records (dicts with student_id,
    course_code, course_name, credits, course_type, score). A pass among a course's records repairs it."""
    best: dict[tuple[str, str], tuple] = {}
    for row in rows:
        result = read_score(row["score"])
        if not result.has_result:
            continue
        key = (row["student_id"], row["course_code"])
        held = best.get(key)
        if held is None or better(held[0], result) is result:
            best[key] = (result, row)
    found: dict[str, list[dict]] = {}
    for (student_id, course_code), (result, row) in sorted(best.items()):
        if result.is_fail:
            found.setdefault(student_id, []).append({
                "course_code": course_code, "course_name": row["course_name"], "credits": float(row["credits"]),
                "course_type": row["course_type"], "result": row["score"]})
    return found


def _cohort(person: Mapping) -> str | None:
    cohort = person.get("cohort")
    return None if cohort in (None, "") else str(cohort)


def entries_by_cohort(failed: Mapping[str, list[dict]], warned: Mapping[str, Mapping],
                      people: Mapping[str, Mapping]) -> tuple[dict[str, list[dict]], list[str]]:
    """(cohort -> list entries sorted by class and student, students the roster cannot place in a cohort).

    ``warned``: student id -> the warning at the semester (level, escalated, reasons); ``people``: the roster's
    ``responsibles`` answer (name, class_name, major, cohort, status, staff ids)."""
    lists: dict[str, list[dict]] = {}
    unplaced = []
    for student_id in sorted(set(failed) | set(warned)):
        person = people.get(student_id)
        cohort = _cohort(person) if person else None
        if cohort is None:
            unplaced.append(student_id)
            continue
        warning = warned.get(student_id) or {}
        courses = failed.get(student_id, [])
        lists.setdefault(cohort, []).append({
            "student_id": student_id, "name": person.get("name"), "class_name": person.get("class_name"),
            "major": person.get("major"), "status": person.get("status"),
            "level": warning.get("level"), "escalated": bool(warning.get("escalated")),
            "reasons": [_reason(r) for r in warning.get("reasons") or ()],
            "failed_courses": courses, "failed_credits": round(sum(c["credits"] for c in courses), 2),
        })
    for entries in lists.values():
        entries.sort(key=lambda e: (e["class_name"] or "", e["student_id"]))
    return lists, unplaced


def _reason(reason: Mapping) -> dict:
    # The courses behind a warning reason are in the notices and the history; the list says which rule fired.
    return {k: reason.get(k) for k in ("rule", "level", "measure", "threshold", "comparison")}


def same_entries(before: Iterable[Mapping] | None, after: Iterable[Mapping]) -> bool:
    def canonical(entries):
        return json.dumps(sorted(entries or (), key=lambda e: e["student_id"]), sort_keys=True, ensure_ascii=False)
    return canonical(before) == canonical(after)


def changes(before: Iterable[Mapping] | None, after: Iterable[Mapping]) -> dict[str, list[str]]:
    """Students added to and removed from the list since the previous version."""
    old = {e["student_id"] for e in before or ()}
    new = {e["student_id"] for e in after}
    return {"added": sorted(new - old), "removed": sorted(old - new)}


@dataclass(frozen=True)
class Recipient:
    staff_id: str
    role: str                  # the highest role this person holds among those the list asked for
    covering_for: str | None   # a vacant role this person receives the list for, if any
    scope: tuple[str, ...]     # the cohort, or the classes / majors whose students this person sees
    student_ids: tuple[str, ...]

    def as_dict(self) -> dict:
        return {"staff_id": self.staff_id, "role": self.role, "covering_for": self.covering_for,
                "scope": list(self.scope), "student_ids": list(self.student_ids)}


def recipients(cohort: str, entries: list[Mapping], people: Mapping[str, Mapping],
               previous: Iterable[Mapping] = ()) -> list[Recipient]:
    """Who receives the list and which students each sees: the cohort's counselor all of them, each head teacher
    the students of their class, each department head those of their major. A vacant role falls to the next
    responsible up (head teacher -> counselor -> vice dean; department head -> vice dean), who then sees that part.
    One person holding several roles is one recipient. Whoever received the previous version (``previous``) and
    has nobody on this one still hears of it, so they know their students are off the list."""
    held: dict[str, dict] = {}

    def add(role: str, person: Mapping, scope: str, student_ids: list[str]) -> None:
        try:
            staff_id, holder = assignee_for(role, {**person, "student_id": None})
        except NoResponsible:
            return
        h = held.setdefault(staff_id, {"asked": set(), "holds": set(), "scope": set(), "students": set()})
        h["asked"].add(role)
        h["holds"].add(holder)
        h["scope"].add(scope)
        h["students"].update(student_ids)

    by_class: dict[str, list[str]] = {}
    by_major: dict[str, list[str]] = {}
    for entry in entries:
        by_class.setdefault(entry["class_name"] or "", []).append(entry["student_id"])
        by_major.setdefault(entry["major"] or "", []).append(entry["student_id"])
    everyone = [e["student_id"] for e in entries]
    if entries:
        add(COUNSELOR, people.get(everyone[0]) or {}, cohort, everyone)
    for class_name, ids in sorted(by_class.items()):
        add(HEAD_TEACHER, people.get(ids[0]) or {}, class_name, ids)
    for major, ids in sorted(by_major.items()):
        add(DEPARTMENT_HEAD, people.get(ids[0]) or {}, major, ids)

    found = []
    for staff_id, h in held.items():
        role = next(r for r in PRECEDENCE if r in h["holds"])
        vacant = [r for r in PRECEDENCE if r in h["asked"] and r not in h["holds"]]
        if COUNSELOR in h["asked"]:
            scope, students = (cohort,), tuple(everyone)
        else:
            scope, students = tuple(sorted(h["scope"])), tuple(s for s in everyone if s in h["students"])
        found.append(Recipient(staff_id, ROLE_NAMES[role], ROLE_NAMES[vacant[0]] if vacant else None, scope,
                               students))
    for old in previous:
        if old["staff_id"] not in held:
            found.append(Recipient(old["staff_id"], old["role"], old.get("covering_for"),
                                   tuple(old.get("scope") or ()), ()))
    rank = {ROLE_NAMES[r]: i for i, r in enumerate(PRECEDENCE)}
    found.sort(key=lambda r: (rank.get(r.role, len(rank)), r.staff_id))
    return found


def confirmer(cohort_people: Mapping) -> tuple[str, str]:
    """(staff id, role) of who confirms a cohort's list: its counselor, or whoever covers the vacant post."""
    return assignee_for(COUNSELOR, cohort_people)


def confirmation_task(list_row: Mapping, cohort_people: Mapping, occurred_at: datetime) -> TaskSpec:
    """The counselor's task to confirm a list (reminded and escalated like every duty)."""
    detail = {"list_id": list_row["list_id"], "version": list_row["version"], "students": list_row["students"],
              "scope": f"{list_row['cohort']} {list_row['semester']} v{list_row['version']}"}
    return make_task(COUNSELOR_LIST_DUTY, cohort_people, occurred_at, student_id=None, course_code=None,
                     semester=list_row["semester"], cause=f"{COUNSELOR_LIST_DUTY.kind}:{list_row['list_id']}",
                     detail=detail, scope={"class_name": None, "major": None, "cohort": str(list_row["cohort"])})


def semester_parent_contact_cause(semester: str, student_id: str) -> str:
    return f"{PROBLEM_PARENT_CONTACT_DUTY.kind}:{semester}:{student_id}"


def parent_contact_due(occurred_at: datetime | date, semester_end: date | None) -> date:
    """By the end of the semester's last teaching week when that is still at least MIN_PARENT_CONTACT_DAYS away;
    otherwise (the semester is over, or the calendar does not know it) MIN_PARENT_CONTACT_DAYS after the list."""
    earliest = due_on(occurred_at, MIN_PARENT_CONTACT_DAYS)
    return semester_end if semester_end is not None and semester_end >= earliest else earliest


def parent_contacts(semester: str, entries: Iterable[Mapping], people: Mapping[str, Mapping],
                    occurred_at: datetime, semester_end: date | None,
                    already_contacting: set[str]) -> list[TaskSpec]:
    """duties.md: the head teacher contacts the parents of every student with academic problems (warned or any
    failed course) by the last week of the semester. A student who already has a parent-contact task this
    semester (an orange or red warning asks for one sooner, policy.md §6) gets no second one."""
    due = parent_contact_due(occurred_at, semester_end)
    specs = []
    for entry in entries:
        student_id = entry["student_id"]
        person = people.get(student_id)
        if student_id in already_contacting or person is None:
            continue
        detail = {"reason": "academic_problems", "level": entry.get("level"),
                  "failed_courses": [c["course_code"] for c in entry.get("failed_courses", ())]}
        try:
            specs.append(make_task(PROBLEM_PARENT_CONTACT_DUTY, person, occurred_at, student_id=student_id,
                                   course_code=None, semester=semester,
                                   cause=semester_parent_contact_cause(semester, student_id), detail=detail,
                                   due=due))
        except NoResponsible:
            continue     # no head teacher, counselor nor vice dean in the roster: nobody could hold it
    return specs


def cohort_people(entries: list[Mapping], people: Mapping[str, Mapping], fallback: Mapping | None = None) -> dict:
    """The roles of a cohort (counselor, vice dean) as ``assignee_for`` reads them, from any student of it, or the
    fallback (the previous version's confirmer) when the list became empty."""
    for entry in entries:
        person = people.get(entry["student_id"])
        if person:
            return {COUNSELOR: person.get(COUNSELOR), "vice_dean_id": person.get("vice_dean_id"),
                    "student_id": None}
    return dict(fallback or {"student_id": None})
