"""The warnings service layer: take in grade records, re-evaluate the students they touch, announce
what changed. The rules themselves live in services/warnings/domain."""
from __future__ import annotations

import json
import uuid
from datetime import datetime, timezone

from sqlalchemy import and_, bindparam, delete, select, update

from services.warnings import tables
from services.warnings.domain.evaluation import diff_standings, evaluate_student
from services.warnings.domain.model import GradeRecord
from shared.db import lock_keys

RECORD_KEY = ("student_id", "semester", "course_code", "exam_type")
RECORD_FIELDS = RECORD_KEY + ("course_name", "credits", "course_type", "score")


def take_records(uow, records: list[dict], policy) -> list[dict]:
    """Store the records, re-evaluate every student they concern, persist and announce the changes."""
    conn = uow.conn
    student_ids = sorted({r["student_id"] for r in records})
    _lock_students(uow, student_ids)
    _store_records(conn, records)
    history = _records_of(conn, student_ids)
    before = _current_levels(conn, student_ids)
    changes = []
    now = datetime.now(timezone.utc)
    for student_id in student_ids:
        standings = evaluate_student(history.get(student_id, []), policy)
        for change in diff_standings(student_id, before.get(student_id, {}), standings):
            standing = standings.get(change.semester)
            changes.append(_change_event(change, standing, policy.version))
        _save_standings(conn, student_id, standings, before.get(student_id, {}), policy.version, now)
    if changes:
        conn.execute(tables.warning_changes.insert(), [
            {**{k: c[k] for k in ("change_id", "student_id", "semester", "kind", "old_level", "new_level",
                                  "escalated", "policy_version")},
             "reasons": json.dumps(c["reasons"], ensure_ascii=False),
             "correlation_id": uow.correlation_id, "created_at": now} for c in changes])
        uow.announce("warnings.changed", {"changes": changes})
    return changes


def _lock_students(uow, student_ids):
    # Two batches about one student must not evaluate side by side on stale data.
    lock_keys(uow.conn, ("warnings:" + s for s in student_ids))


def _store_records(conn, records):
    g = tables.grade_records
    keys = {tuple(r[k] for k in RECORD_KEY) for r in records}
    if not keys:
        return
    # Delete-then-insert by natural key: a correction simply replaces the record.
    conn.execute(delete(g).where(and_(*(g.c[k] == bindparam(f"k_{k}") for k in RECORD_KEY))),
                 [{f"k_{k}": key[i] for i, k in enumerate(RECORD_KEY)} for key in keys])
    latest = {tuple(r[k] for k in RECORD_KEY): {f: r[f] for f in RECORD_FIELDS} for r in records}
    conn.execute(g.insert(), list(latest.values()))


def _records_of(conn, student_ids) -> dict[str, list[GradeRecord]]:
    g = tables.grade_records
    found: dict[str, list[GradeRecord]] = {}
    for start in range(0, len(student_ids), 500):
        query = select(*(g.c[f] for f in RECORD_FIELDS)).where(g.c.student_id.in_(student_ids[start:start + 500]))
        for row in conn.execute(query):
            found.setdefault(row.student_id, []).append(GradeRecord(
                student_id=row.student_id, semester=row.semester, course_code=row.course_code,
                course_name=row.course_name, credits=row.credits, course_type=row.course_type,
                exam_type=row.exam_type, score=row.score))
    return found


def _current_levels(conn, student_ids) -> dict[str, dict[str, str | None]]:
    """Active warnings' levels; a lifted warning counts as no level."""
    w = tables.warnings
    found: dict[str, dict[str, str | None]] = {}
    for start in range(0, len(student_ids), 500):
        query = select(w.c.student_id, w.c.semester, w.c.level, w.c.status).where(
            w.c.student_id.in_(student_ids[start:start + 500]))
        for row in conn.execute(query):
            found.setdefault(row.student_id, {})[row.semester] = row.level if row.status == "active" else None
    return found


def _save_standings(conn, student_id, standings, before, policy_version, now):
    w = tables.warnings
    for semester, standing in standings.items():
        if standing.level is None:
            if before.get(semester):
                conn.execute(update(w).where(w.c.student_id == student_id, w.c.semester == semester)
                             .values(status="lifted", updated_at=now))
            continue
        values = {"level": standing.level, "status": "active", "escalated": standing.escalated,
                  "reasons": json.dumps(list(standing.reasons), ensure_ascii=False),
                  "policy_version": policy_version, "updated_at": now}
        if semester in before:
            conn.execute(update(w).where(w.c.student_id == student_id, w.c.semester == semester).values(**values))
        else:
            conn.execute(w.insert().values(student_id=student_id, semester=semester, **values))
    for semester, level in before.items():
        if level and semester not in standings:   # the semester's records disappeared
            conn.execute(update(w).where(w.c.student_id == student_id, w.c.semester == semester)
                         .values(status="lifted", updated_at=now))


def _change_event(change, standing, policy_version) -> dict:
    lifted = change.kind == "lifted"
    return {
        "change_id": str(uuid.uuid4()),
        "student_id": change.student_id, "semester": change.semester, "kind": change.kind,
        "old_level": change.old_level, "new_level": change.new_level,
        "escalated": bool(standing and standing.escalated and not lifted),
        "reasons": [] if lifted or standing is None else list(standing.reasons),
        "policy_version": policy_version,
    }
