"""The warnings service layer: take in grade records, re-evaluate the students they touch, announce
what changed. The rules themselves live in services/warnings/domain."""
from __future__ import annotations

import json
import uuid
from datetime import datetime, timezone

from sqlalchemy import bindparam, select, update

from services.warnings import tables
from services.warnings.domain.evaluation import diff_standings, evaluate_student
from services.warnings.domain.model import GradeRecord
from shared.bulk import upsert_rows
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
    changes, upserts, lifted = [], [], []
    now = datetime.now(timezone.utc)
    for student_id in student_ids:
        standings = evaluate_student(history.get(student_id, []), policy)
        for change in diff_standings(student_id, before.get(student_id, {}), standings):
            standing = standings.get(change.semester)
            changes.append(_change_event(change, standing, policy.version))
        rows, gone = _standing_rows(student_id, standings, before.get(student_id, {}), policy.version, now)
        upserts += rows
        lifted += gone
    _save_standings(conn, upserts, lifted, now)
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
    # Upsert by natural key: a correction simply replaces the record.
    latest = {tuple(r[k] for k in RECORD_KEY): {f: r[f] for f in RECORD_FIELDS} for r in records}
    upsert_rows(conn, tables.grade_records, list(latest.values()), RECORD_KEY)


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


def _standing_rows(student_id, standings, before, policy_version, now) -> tuple[list[dict], list[dict]]:
    """(rows to upsert, keys to mark lifted) for one student's new standings."""
    upserts, lifted = [], []
    for semester, standing in standings.items():
        if standing.level is None:
            if before.get(semester):
                lifted.append({"k_student": student_id, "k_semester": semester})
            continue
        upserts.append({"student_id": student_id, "semester": semester, "level": standing.level,
                        "status": "active", "escalated": standing.escalated,
                        "reasons": json.dumps(list(standing.reasons), ensure_ascii=False),
                        "policy_version": policy_version, "updated_at": now})
    for semester, level in before.items():
        if level and semester not in standings:   # the semester's records disappeared
            lifted.append({"k_student": student_id, "k_semester": semester})
    return upserts, lifted


def _save_standings(conn, upserts, lifted, now):
    w = tables.warnings
    upsert_rows(conn, w, upserts, ("student_id", "semester"))
    if lifted:
        conn.execute(update(w).where(w.c.student_id == bindparam("k_student"), w.c.semester == bindparam("k_semester"))
                     .values(status="lifted", updated_at=now), lifted)


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
