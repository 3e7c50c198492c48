"""Read-side of the assessment service: flags, and the facts the indicators are computed from."""
from __future__ import annotations

import json
from datetime import date

from sqlalchemy import func, select

from services.assessment import tables
from services.assessment.domain.facts import (ClassInfo, Outcome, Roster, StaffInfo, StudentInfo, Task,
                                              next_semester, outcome_from_row, task_from_row)
from services.assessment.domain.failure_rates import course_failure_rates
from services.assessment.domain.indicators import (all_class_indicators, department_indicators,
                                                   head_teacher_scorecard, regular_results)
from services.assessment.domain.report import ReportFacts, semester_report
from shared.academic.semesters import previous_code, sort_key
from shared.academic.vocabulary import REGULAR_SITTINGS


def list_flags(conn, semester: str | None = None, include_unflagged: bool = False) -> list[dict]:
    f = tables.course_flags
    query = select(f)
    if semester:
        query = query.where(f.c.semester == semester)
    if not include_unflagged:
        query = query.where(f.c.flagged.is_(True))
    rows = []
    for row in conn.execute(query).mappings():
        item = {k: row[k] for k in ("semester", "course_code", "course_name", "teacher", "offering_college",
                                    "external", "rate", "failed", "total", "threshold", "previous_rate",
                                    "previous_semester", "flagged", "upload_id")}
        item["majors"] = json.loads(row["majors"])
        rows.append(item)
    rows.sort(key=lambda r: (sort_key(r["semester"]), r["course_code"], r["teacher"]))
    return rows


def flags_for(conn, upload_id: str) -> list[dict]:
    f = tables.course_flags
    return [{"semester": r.semester, "course_code": r.course_code, "teacher": r.teacher, "rate": r.rate}
            for r in conn.execute(select(f.c.semester, f.c.course_code, f.c.teacher, f.c.rate)
                                  .where(f.c.upload_id == upload_id))]


# --- facts for the indicators (services/assessment/domain/facts.py) ---------------------------------------------------
def load_roster(conn) -> Roster:
    roster = Roster()
    for r in conn.execute(select(tables.roster_classes)).mappings():
        roster.classes[r["class_name"]] = ClassInfo(r["class_name"], r["major"], int(r["cohort"]), r["head_teacher_id"])
    for r in conn.execute(select(tables.roster_students)).mappings():
        roster.students[r["student_id"]] = StudentInfo(r["student_id"], r["name"], r["class_name"], r["status"])
    for r in conn.execute(select(tables.roster_staff)).mappings():
        roster.staff.append(StaffInfo(r["staff_id"], r["name"], r["role"], tuple(json.loads(r["scope"]))))
    return roster


def load_tasks(conn) -> list[Task]:
    return [task_from_row(r) for r in conn.execute(select(tables.duty_tasks)).mappings()]


def load_outcomes(conn) -> list[Outcome]:
    return [outcome_from_row(r) for r in conn.execute(select(tables.outcomes)).mappings()]


def load_levels(conn, semesters=None) -> dict[tuple[str, str], str]:
    w = tables.warning_levels
    query = select(w.c.student_id, w.c.semester, w.c.level)
    if semesters is not None:
        query = query.where(w.c.semester.in_(sorted(set(semesters))))
    return {(r.student_id, r.semester): r.level for r in conn.execute(query)}


def load_regular_records(conn, semesters) -> list[dict]:
    g = tables.grade_records
    query = select(g).where(g.c.semester.in_(sorted(set(semesters))), g.c.exam_type.in_(sorted(REGULAR_SITTINGS)))
    return [dict(r) for r in conn.execute(query).mappings()]


def load_course_history(conn, course_codes) -> list[dict]:
    g = tables.grade_records
    codes = sorted(set(course_codes))
    found = []
    for start in range(0, len(codes), 500):
        query = select(g).where(g.c.course_code.in_(codes[start:start + 500]),
                                g.c.exam_type.in_(sorted(REGULAR_SITTINGS)))
        found.extend(dict(r) for r in conn.execute(query).mappings())
    return found


def students_with_records(conn, semester: str) -> set[str]:
    g = tables.grade_records
    return set(conn.execute(select(g.c.student_id).where(g.c.semester == semester).distinct()).scalars())


def semesters_with_records(conn) -> list[str]:
    g = tables.grade_records
    return sorted(conn.execute(select(g.c.semester).distinct()).scalars(), key=sort_key)


def outcome_summary(conn) -> dict:
    o = tables.outcomes
    counts = {kind: n for kind, n in conn.execute(select(o.c.kind, func.count()).group_by(o.c.kind))}
    imports = [dict(r) for r in conn.execute(select(tables.outcome_imports)
                                             .order_by(tables.outcome_imports.c.imported_at)).mappings()]
    for item in imports:
        item["imported_at"] = item["imported_at"].isoformat() if item["imported_at"] else None
    return {"by_kind": counts, "imports": imports}


def projection_summary(conn) -> dict:
    return {name: conn.execute(select(func.count()).select_from(table)).scalar_one()
            for name, table in (("classes", tables.roster_classes), ("students", tables.roster_students),
                                ("staff", tables.roster_staff), ("tasks", tables.duty_tasks),
                                ("warning_levels", tables.warning_levels), ("outcomes", tables.outcomes),
                                ("symposium_items", tables.symposium_items))}


# --- indicator answers (the domain computes; these gather its facts) ------------------------------------------------
def _results(conn, semesters):
    return regular_results(load_regular_records(conn, [s for s in semesters if s]))


def class_indicator_list(conn, semester: str, as_of: date) -> list[dict]:
    roster, tasks = load_roster(conn), load_tasks(conn)
    return [c.to_dict() for c in all_class_indicators(roster, semester, _results(conn, [semester]),
                                                     load_outcomes(conn), tasks, as_of, {t.kind for t in tasks})]


def head_teacher_card(conn, staff_id: str, semester: str, as_of: date) -> dict | None:
    roster, tasks = load_roster(conn), load_tasks(conn)
    if not roster.classes_of_head_teacher(staff_id):
        return None
    everyone = all_class_indicators(roster, semester, _results(conn, [semester]), load_outcomes(conn), tasks,
                                    as_of, {t.kind for t in tasks})
    card = head_teacher_scorecard(roster, staff_id, semester, everyone)
    card["as_of"] = as_of.isoformat()
    return card


def department_card(conn, major: str, year: int, as_of: date) -> dict | None:
    roster = load_roster(conn)
    if major not in roster.majors:
        return None
    card = department_indicators(roster, major, year, load_outcomes(conn), list_flags(conn), load_tasks(conn), as_of)
    card["as_of"] = as_of.isoformat()
    return card


def report_facts(conn, semester: str, as_of: date) -> ReportFacts:
    prev = previous_code(semester)
    nxt = next_semester(semester)
    flags = list_flags(conn)
    history = course_failure_rates(load_course_history(conn, {f["course_code"] for f in flags
                                                              if f["semester"] == semester}))
    return ReportFacts(
        semester=semester, roster=load_roster(conn), results=_results(conn, [semester, prev]),
        levels=load_levels(conn, [s for s in (semester, prev, nxt) if s]), flags=flags, tasks=load_tasks(conn),
        outcomes=load_outcomes(conn),
        evaluated={s: students_with_records(conn, s) for s in (semester, nxt)},
        as_of=as_of, course_history=history, symposium=load_symposium(conn))


def load_symposium(conn) -> list[dict]:
    return [{k: r[k] for k in ("item_id", "semester", "topic", "course_code", "teacher", "raised_by", "raised_on",
                               "status", "routed_to", "assignee", "answer_kind")}
            for r in conn.execute(select(tables.symposium_items)).mappings()]


def semester_report_data(conn, semester: str, as_of: date) -> dict:
    report = semester_report(report_facts(conn, semester, as_of))
    report["semesters_with_grades"] = semesters_with_records(conn)
    return report
