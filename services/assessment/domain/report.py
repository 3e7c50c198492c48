"""The semester report (kpis.md "Semester report", policy art. 2) as data: every figure the vice dean presents.
services/assessment/report renders it as HTML and PDF; nothing here draws or formats.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from typing import Mapping

from shared.academic.scores import Result
from shared.academic.semesters import previous_code, sort_key
from shared.academic.vocabulary import LEVELS, level_rank

from .facts import Outcome, Ratio, Roster, Task, academic_year_end, next_semester
from .failure_rates import CourseRate
from .indicators import (BANDS, all_class_indicators, average_metrics, department_indicators, duty_compliance,
                         failure_count, grade_distribution, graduate_figures, review_status, tasks_by_kind)
from .intervention import intervention_effect

SYMPOSIUM_SOURCE = ("期中教学座谈会的反馈事项由 advising 服务记录，经 advising.symposium_changed 事件送达本服务；尚未收到任何事项。",
                    "Mid-term symposium feedback items are recorded by the advising service and reach assessment as "
                    "advising.symposium_changed events; none has arrived yet.")
CLOSED_SYMPOSIUM = ("adopted", "explained")     # duties.md: tracked until adopted or explained


def symposium_section(items: list[dict] | None, semester: str, as_of: date) -> dict:
    """The items still open (raised, routed or answered but not adopted / explained), oldest first, with how long
    they have been open; and this semester's items by status."""
    items = items or []
    open_items = []
    for item in items:
        if item["status"] in CLOSED_SYMPOSIUM or date.fromisoformat(item["raised_on"][:10]) > as_of:
            continue
        open_items.append({**item, "days_open": (as_of - date.fromisoformat(item["raised_on"][:10])).days})
    open_items.sort(key=lambda i: (i["raised_on"], i["item_id"]))
    return {"available": bool(items), "items": open_items,
            "this_semester": dict(Counter(i["status"] for i in items if i["semester"] == semester)),
            "source_zh": SYMPOSIUM_SOURCE[0], "source_en": SYMPOSIUM_SOURCE[1]}


@dataclass
class ReportFacts:
    semester: str
    roster: Roster
    results: Mapping[tuple[str, str, str], Result]       # regular results of this and the previous semester
    levels: Mapping[tuple[str, str], str]                 # (student, semester) -> current warning level
    flags: list[dict]                                     # course flags (assessment's own)
    tasks: list[Task]
    outcomes: list[Outcome]
    evaluated: Mapping[str, set[str]]                     # semester -> students with a record in it
    as_of: date
    course_history: Mapping[tuple[str, str, str], CourseRate] = field(default_factory=dict)
    symposium: list[dict] | None = None                   # advising's symposium items (all semesters)


def _groups(roster: Roster):
    """(cohort, major) pairs that have classes, and their members."""
    out = {}
    for c in roster.classes_where():
        out.setdefault((c.cohort, c.major), []).extend(roster.members(c.class_name))
    return out


def _level_counts(levels, semester, students) -> dict[str, int]:
    wanted = set(students)
    counts = Counter(level for (sid, sem), level in levels.items()
                     if sem == semester and sid in wanted and level_rank(level) > 0)
    return {level: counts.get(level, 0) for level in LEVELS} | {"total": sum(counts.values())}


def _change(now: dict, before: dict | None) -> dict:
    return {k: now[k] - (before or {}).get(k, 0) for k in now}


def next_offering(key: tuple[str, str, str], history: Mapping[tuple[str, str, str], CourseRate]):
    """(semester, rate) of the first later offering of the course (the review's check: did the rate fall?)."""
    semester, course_code, teacher = key
    later = [r for (sem, code, _), r in history.items()
             if code == course_code and r.total > 0 and sort_key(sem) > sort_key(semester)]
    if not later:
        return None
    first = min(sort_key(r.semester) for r in later)
    then = [r for r in later if sort_key(r.semester) == first]
    own = [r for r in then if r.teacher == teacher] or then
    return own[0].semester, sum(r.failed for r in own) / sum(r.total for r in own)


def semester_report(f: ReportFacts) -> dict:
    s, roster = f.semester, f.roster
    prev = previous_code(s)
    nxt = next_semester(s)
    groups = _groups(roster)
    everyone = sorted({sid for members in groups.values() for sid in members})
    tracked = {t.kind for t in f.tasks}

    # 1. grades: distribution and failure rates by cohort and major
    grade_rows = []
    for (cohort, major), members in sorted(groups.items()):
        now = failure_count(f.results, s, members)
        before = failure_count(f.results, prev, members) if prev else None
        grade_rows.append({"cohort": cohort, "major": major, "students": len(members),
                           "distribution": grade_distribution(f.results, s, members),
                           "failure": now.to_dict(), "previous_failure": before.to_dict() if before else None})
    by_cohort = {str(c): failure_count(f.results, s, [sid for (k, _), m in groups.items() if k == c for sid in m])
                 .to_dict() for c in roster.cohorts}
    by_major = {m: failure_count(f.results, s, [sid for (_, k), ms in groups.items() if k == m for sid in ms])
                .to_dict() for m in roster.majors}
    college = failure_count(f.results, s, everyone)
    college_prev = failure_count(f.results, prev, everyone) if prev else None

    # 2. warnings by level, cohort and class, with the change from the previous semester
    def warning_rows(key_of):
        rows = []
        for key, members in key_of:
            now = _level_counts(f.levels, s, members)
            before = _level_counts(f.levels, prev, members) if prev else None
            rows.append({"key": key, "students": len(members), "now": now, "previous": before,
                         "change": _change(now, before)})
        return rows

    cohort_members = [(str(c), [sid for (k, _), m in groups.items() if k == c for sid in m]) for c in roster.cohorts]
    class_members = [(c.class_name, roster.members(c.class_name)) for c in roster.classes_where()]
    warnings_now = _level_counts(f.levels, s, everyone)
    warnings_prev = _level_counts(f.levels, prev, everyone) if prev else None

    # 3. flagged courses and their reviews
    flags = []
    for flag in sorted((x for x in f.flags if x["semester"] == s and x.get("flagged", True)),
                       key=lambda x: (-x["rate"], x["course_code"], x["teacher"])):
        later = next_offering((flag["semester"], flag["course_code"], flag["teacher"]), f.course_history)
        flags.append({**flag, "review": review_status(flag, f.tasks, f.as_of),
                      "next_semester": later[0] if later else None, "next_rate": later[1] if later else None})
    earlier_open = []
    for flag in f.flags:
        if sort_key(flag["semester"]) < sort_key(s) and flag.get("flagged", True):
            review = review_status(flag, f.tasks, f.as_of)
            if review["status"] in ("open", "overdue"):
                earlier_open.append({**flag, "review": review})
    earlier_open.sort(key=lambda x: (sort_key(x["semester"]), x["course_code"]))

    # 4. duty compliance of head teachers and counselors (and anyone else with tasks this semester)
    head_teachers = []
    for staff_id in sorted({c.head_teacher_id for c in roster.classes.values()}):
        classes = roster.classes_of_head_teacher(staff_id)
        members = [sid for c in classes for sid in roster.members(c.class_name)]
        duty = duty_compliance(f.tasks, staff_id, s, f.as_of, members, tracked)
        head_teachers.append({"staff_id": staff_id, "name": roster.staff_name(staff_id),
                              "classes": [c.class_name for c in classes], **duty.to_dict()})
    head_ids = {h["staff_id"] for h in head_teachers}
    others = []
    for staff_id in sorted({t.assignee for t in f.tasks if t.semester == s} - head_ids):
        roles = sorted({st.role for st in roster.staff if st.staff_id == staff_id})
        others.append({"staff_id": staff_id, "name": roster.staff_name(staff_id), "roles": roles,
                       "kinds": tasks_by_kind(f.tasks, staff_id, s, f.as_of)})

    # 5. graduates of the academic year
    year = academic_year_end(s)
    graduates = {m: graduate_figures(f.outcomes, roster.graduates(year, major=m)).to_dict() for m in roster.majors}
    graduates = {m: g for m, g in graduates.items() if g["graduates"]}
    all_grads = graduate_figures(f.outcomes, roster.graduates(year)).to_dict() if graduates else None
    # The academic year's intake is the one at its start (autumn of year - 1).
    departments = {m: department_indicators(roster, m, year, f.outcomes, f.flags, f.tasks, f.as_of,
                                            intake_year=year - 1) for m in roster.majors}

    # 6. does the intervention work?
    intervention = []
    if prev:
        intervention.append(intervention_effect(prev, s, f.levels, f.evaluated.get(s, set()), f.tasks))
    if f.evaluated.get(nxt):
        intervention.append(intervention_effect(s, nxt, f.levels, f.evaluated[nxt], f.tasks))

    classes = all_class_indicators(roster, s, f.results, f.outcomes, f.tasks, f.as_of, tracked)
    return {
        "semester": s,
        "previous_semester": prev,
        "as_of": f.as_of.isoformat(),
        "overview": {
            "classes": len(roster.classes), "students": len(everyone),
            "results": college.results.denominator,
            "failure": college.to_dict(), "previous_failure": college_prev.to_dict() if college_prev else None,
            "warned": warnings_now["total"], "previously_warned": (warnings_prev or {}).get("total"),
            "flagged_courses": len(flags),
        },
        "bands": list(BANDS),
        "grades": {"groups": grade_rows, "by_cohort": by_cohort, "by_major": by_major},
        "warnings": {"levels": warnings_now, "previous_levels": warnings_prev,
                     "change": _change(warnings_now, warnings_prev),
                     "by_cohort": warning_rows(cohort_members), "by_class": warning_rows(class_members)},
        "flags": flags,
        "earlier_open_reviews": earlier_open,
        "duties": {"head_teachers": head_teachers, "others": others,
                   "tracked_kinds": sorted(tracked)},
        "classes": [c.to_dict() for c in classes],
        "class_average": average_metrics(classes),
        "graduates": {"year": year, "by_major": graduates, "college": all_grads},
        "departments": departments,
        "intervention": intervention,
        "staff_names": {st.staff_id: st.name for st in roster.staff},
        "symposium": symposium_section(f.symposium, s, f.as_of),
    }


__all__ = ["ReportFacts", "semester_report", "next_offering", "Ratio"]
