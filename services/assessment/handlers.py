"""The assessment service layer: keep the records, and when an upload is complete decide which courses'
failure rates cross the review threshold (kpis.md); keep projections of the roster, advising's tasks and the
warnings (from their events) and the outcomes it owns, for the indicators. The rules are in
services/assessment/domain."""
from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from datetime import datetime, timezone
from operator import itemgetter
from typing import Iterator

from sqlalchemy import and_, bindparam, select, update

from services.assessment import tables
from services.assessment.domain.failure_rates import RATE_FIELDS, failure_rates_of_rows
from services.assessment.domain.flags import flag_decisions
from services.assessment.domain.outcomes import key_text
from shared.academic.vocabulary import REGULAR_SITTINGS
from shared.bulk import upsert_tuples
from shared.db import lock_keys

KEY = ("student_id", "semester", "course_code", "exam_type")
FIELDS = KEY + ("course_name", "credits", "course_type", "score", "teacher", "offering_college")
_fields_of = itemgetter(*FIELDS)                   # a record as a row of grade_records
_key_of = itemgetter(*range(len(KEY)))             # a row's key (KEY leads FIELDS)


def take_records(uow, upload_id: str, records: list[dict]) -> bool:
    """Store a batch; True when it completed its upload (the caller then decides the flags).

    The records are written first, in one upsert, and only then is the upload's lock taken for the bookkeeping:
    an upload's batches (disjoint students) store side by side and queue only for the counting at the end."""
    conn = uow.conn
    rows = list(map(_fields_of, records))
    latest = dict(zip(map(_key_of, rows), rows))                # a key listed twice: the last one wins
    upsert_tuples(conn, tables.grade_records, FIELDS, list(latest.values()), KEY)
    lock_keys(conn, ["assessment-upload:" + upload_id])
    offerings = {(r[1], r[2]) for r in rows if r[3] in REGULAR_SITTINGS}     # (semester, course) of regular sittings
    known = set(conn.execute(select(tables.upload_courses.c.semester, tables.upload_courses.c.course_code)
                             .where(tables.upload_courses.c.upload_id == upload_id)).all())
    fresh = [{"upload_id": upload_id, "semester": s, "course_code": c} for s, c in offerings - known]
    if fresh:
        conn.execute(tables.upload_courses.insert(), fresh)
    return _count_batch(conn, upload_id)


def _count_batch(conn, upload_id: str) -> bool:
    """One more of the upload's batches is in (counted in one statement); True when it was the last expected."""
    p = tables.upload_progress
    counted = conn.execute(update(p).where(p.c.upload_id == upload_id)
                           .values(batches_received=p.c.batches_received + 1)
                           .returning(p.c.batches_expected, p.c.batches_received)).first()
    if counted is None:                                          # the upload's first word
        conn.execute(p.insert().values(upload_id=upload_id, batches_received=1))
        return False
    return counted.batches_expected == counted.batches_received


def upload_completed(uow, upload_id: str, batches: int) -> bool:
    conn = uow.conn
    lock_keys(conn, ["assessment-upload:" + upload_id])
    progress = _progress(conn, upload_id)
    conn.execute(update(tables.upload_progress).where(tables.upload_progress.c.upload_id == upload_id)
                 .values(batches_expected=batches))
    return progress["batches_received"] == batches


def _progress(conn, upload_id: str) -> dict:
    p = tables.upload_progress
    row = conn.execute(select(p).where(p.c.upload_id == upload_id)).mappings().first()
    if row is None:
        conn.execute(p.insert().values(upload_id=upload_id, batches_received=0))
        return {"batches_expected": None, "batches_received": 0}
    return dict(row)


def offerings_to_decide(conn, upload_id: str) -> list[tuple[str, str]]:
    uc = tables.upload_courses
    return [tuple(r) for r in conn.execute(select(uc.c.semester, uc.c.course_code).where(uc.c.upload_id == upload_id))]


def students_of(conn, offerings) -> set[str]:
    """Who has a regular-sitting record in any of these (semester, course) offerings."""
    g = tables.grade_records
    wanted = set(offerings)
    codes = sorted({c for _, c in wanted})
    semesters = sorted({s for s, _ in wanted})
    found = set()
    for start in range(0, len(codes), 500):       # three columns, not whole records: only the ids are needed
        query = select(g.c.student_id, g.c.semester, g.c.course_code).where(
            g.c.course_code.in_(codes[start:start + 500]), g.c.semester.in_(semesters),
            g.c.exam_type.in_(sorted(REGULAR_SITTINGS)))
        found.update(sid for sid, semester, code in conn.execute(query) if (semester, code) in wanted)
    return found


def decide_flags(uow, upload_id: str, majors_of: dict[str, str], threshold: float, home_college: str) -> list[dict]:
    """Recompute the rates of every offering the upload touched; store and announce flag changes."""
    conn = uow.conn
    offerings = set(offerings_to_decide(conn, upload_id))
    lock_keys(conn, ["assessment-course:" + c for _, c in offerings])
    all_rates = failure_rates_of_rows(_regular_records(conn, {c for _, c in offerings}))
    rates = {k: v for k, v in all_rates.items() if (k[0], k[1]) in offerings}
    held = _held_flags(conn, offerings)
    changes = flag_decisions(rates, held, threshold=threshold, history=all_rates, majors_of=majors_of,
                             home_college=home_college)
    now = datetime.now(timezone.utc)
    _store_flags(conn, changes, upload_id, now)
    conn.execute(update(tables.upload_progress).where(tables.upload_progress.c.upload_id == upload_id)
                 .values(decided_at=now))
    if changes:
        uow.announce("assessment.course_flags_changed", {"upload_id": upload_id, "flags": changes})
    return changes


def _regular_records(conn, course_codes) -> Iterator[tuple]:
    """The regular-sitting records of these courses as rows of RATE_FIELDS, streamed (a server-side cursor, only the
    columns the failure rates read): a 300,000-row upload held as dicts took the service near 500 MB."""
    g = tables.grade_records
    codes = sorted(course_codes)
    columns = [g.c[k] for k in RATE_FIELDS]
    for start in range(0, len(codes), 500):
        query = select(*columns).where(g.c.course_code.in_(codes[start:start + 500]),
                                       g.c.exam_type.in_(sorted(REGULAR_SITTINGS)))
        yield from conn.execute(query.execution_options(stream_results=True, yield_per=2000))


def _held_flags(conn, offerings) -> dict:
    f = tables.course_flags
    held = {}
    for row in conn.execute(select(f).where(f.c.flagged.is_(True))).mappings():
        if (row["semester"], row["course_code"]) in offerings:
            held[(row["semester"], row["course_code"], row["teacher"])] = {
                "rate": row["rate"], "failed": row["failed"], "total": row["total"]}
    return held


_FLAG_KEY = ("semester", "course_code", "teacher")
_FLAG_VALUES = ("course_name", "offering_college", "external", "rate", "failed", "total", "threshold",
                "previous_rate", "previous_semester")
_FLAG_COLUMNS = _FLAG_KEY + _FLAG_VALUES + ("majors", "flagged", "upload_id", "updated_at")


def _store_flags(conn, changes: list[dict], upload_id: str, now) -> None:
    """Each changed flag written over the offering's row, or as a new row: one statement for all of them (the
    offerings' locks are held)."""
    rows = [tuple(flag[k] for k in _FLAG_KEY + _FLAG_VALUES)
            + (json.dumps(flag["majors"], ensure_ascii=False), flag["change"] != "unflagged", upload_id, now)
            for flag in changes]
    upsert_tuples(conn, tables.course_flags, _FLAG_COLUMNS, rows, _FLAG_KEY)


# --- projections of other services' events ------------------------------------------------------------------------
# Each row remembers the time of the event that wrote it: an older event arriving after a newer one (a retry,
# a replay from aq.parked) changes nothing. Redeliveries are already stopped by the processed-events mark.

def _project(conn, table, key_columns: tuple[str, ...], rows: list[dict], merge=None) -> int:
    """Insert rows, or update them when the event is at least as new as the stored one; ``merge(old, new)`` may
    adjust the new row from the old (e.g. keep the first date a task was done). Returns rows written."""
    if not rows:
        return 0
    lock_keys(conn, [f"assessment-{table.name}"])
    latest: dict[tuple, dict] = {}
    for row in rows:                                   # one event may list a row twice: the last one wins
        latest[tuple(row[k] for k in key_columns)] = row
    existing: dict[tuple, dict] = {}
    keys = list(latest)
    for start in range(0, len(keys), 500):
        part = keys[start:start + 500]
        condition = and_(*(table.c[k].in_(sorted({key[i] for key in part})) for i, k in enumerate(key_columns)))
        for old in conn.execute(select(table).where(condition)).mappings():
            existing[tuple(old[k] for k in key_columns)] = dict(old)
    inserts, updates = [], defaultdict(list)
    for key, row in latest.items():
        old = existing.get(key)
        if merge is not None:
            row = merge(old, row)
        if old is None:
            inserts.append(row)
        elif old["event_time"] <= row["event_time"]:
            values = tuple(c for c in row if c not in key_columns)
            updates[values].append({**{f"k_{k}": row[k] for k in key_columns}, **{f"v_{c}": row[c] for c in values}})
    # A statement per kind of write, not per row (an event may carry hundreds of tasks).
    if inserts:
        conn.execute(table.insert(), inserts)
    for values, params in updates.items():
        conn.execute(update(table).where(and_(*(table.c[k] == bindparam(f"k_{k}") for k in key_columns)))
                     .values({c: bindparam(f"v_{c}") for c in values}), params)
    return len(inserts) + sum(len(p) for p in updates.values())


def project_roster(uow, data: dict, event_time: str) -> dict:
    """roster.imported: the classes, students (no contacts) and staff it added or changed."""
    conn = uow.conn
    classes = [{**{k: c[k] for k in ("class_name", "major", "head_teacher_id")}, "cohort": int(c["cohort"]),
                "event_time": event_time} for c in data["classes"]]
    students = [{**{k: s[k] for k in ("student_id", "name", "class_name", "status")}, "event_time": event_time}
                for s in data["students"]]
    staff = [{"staff_id": s["staff_id"], "role": s["role"], "name": s["name"],
              "scope": json.dumps(list(s["scope"]), ensure_ascii=False), "event_time": event_time}
             for s in data["staff"]]
    return {"classes": _project(conn, tables.roster_classes, ("class_name",), classes),
            "students": _project(conn, tables.roster_students, ("student_id",), students),
            "staff": _project(conn, tables.roster_staff, ("staff_id", "role"), staff)}


def _keep_first_done(old: dict | None, new: dict) -> dict:
    """A task's done date is the first time it was announced done, whatever order the events arrive in."""
    dates = [d for d in ((old or {}).get("done_on"), new.get("done_on")) if d]
    return {**new, "done_on": min(dates) if dates else None}


def project_tasks(uow, tasks: list[dict], event_time: str, college_date: str) -> int:
    """advising.tasks_changed: each task's latest state; ``college_date`` (the event's day in the college's time
    zone) is when a task announced done was done, unless the task says so itself (``closed_at``)."""
    rows = []
    for t in tasks:
        done = t["status"] == "done"
        closed = (t.get("closed_at") or "")[:10] or college_date
        rows.append({"task_id": t["task_id"], "kind": t["kind"], "assignee": t["assignee"],
                     "student_id": t.get("student_id"), "course_code": t.get("course_code"),
                     "semester": t["semester"], "due": str(t["due"])[:10], "status": t["status"],
                     "cause": t["cause"], "done_on": closed if done else None, "event_time": event_time})
    return _project(uow.conn, tables.duty_tasks, ("task_id",), rows, merge=_keep_first_done)


def project_warnings(uow, changes: list[dict], event_time: str) -> int:
    """warnings.changed: each student's current level per semester (a lifted warning's level is "none")."""
    rows = [{"student_id": c["student_id"], "semester": c["semester"], "level": c["new_level"],
             "escalated": bool(c["escalated"]), "change_id": c["change_id"], "kind": c["kind"],
             "event_time": event_time} for c in changes]
    return _project(uow.conn, tables.warning_levels, ("student_id", "semester"), rows)


# --- outcomes ---------------------------------------------------------------------------------------------------------
def known_students(conn) -> set[str]:
    return set(conn.execute(select(tables.roster_students.c.student_id)).scalars())


def known_majors(conn) -> set[str]:
    return set(conn.execute(select(tables.roster_classes.c.major)).scalars())


def store_outcomes(uow, import_id: str, filename: str, data: bytes, imported_by: str, records: list[dict]) -> dict:
    """Validated outcome records, stored by natural key: new ones inserted, changed ones replaced, equal ones left.
    A file that changes nothing stores nothing (not even the import)."""
    conn = uow.conn
    o = tables.outcomes
    lock_keys(conn, ["assessment-outcomes"])
    rows = {key_text(r): r for r in records}
    stored = {}
    keys = sorted(rows)
    for start in range(0, len(keys), 500):
        for row in conn.execute(select(o).where(o.c.natural_key.in_(keys[start:start + 500]))).mappings():
            stored[row["natural_key"]] = dict(row)
    now = datetime.now(timezone.utc)
    new = changed = 0
    for key, record in rows.items():
        values = {f: record[f] for f in ("kind", "student_id", "date", "value", "level")}
        old = stored.get(key)
        if old is None:
            conn.execute(o.insert().values(natural_key=key, import_id=import_id, updated_at=now, **values))
            new += 1
        elif any(old[f] != v for f, v in values.items()):
            conn.execute(update(o).where(o.c.natural_key == key).values(import_id=import_id, updated_at=now,
                                                                       **values))
            changed += 1
    summary = {"import_id": import_id, "rows": len(records), "new": new, "changed": changed,
               "unchanged": len(rows) - new - changed, "stored": bool(new or changed)}
    if summary["stored"]:
        conn.execute(tables.outcome_imports.insert().values(
            import_id=import_id, filename=filename, sha256=hashlib.sha256(data).hexdigest(),
            imported_by=imported_by, imported_at=now,
            **{k: summary[k] for k in ("rows", "new", "changed", "unchanged")}))
    return summary


def project_symposium(uow, items: list[dict], event_time: str) -> int:
    """advising.symposium_changed: each mid-term symposium feedback item's latest status."""
    rows = [{**{k: i.get(k) for k in ("item_id", "semester", "topic", "course_code", "teacher", "raised_by",
                                      "raised_on", "status", "routed_to", "assignee", "answer_kind")},
             "event_time": event_time} for i in items]
    return _project(uow.conn, tables.symposium_items, ("item_id",), rows)
