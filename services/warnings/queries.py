"""Read-side of the warnings service."""
from __future__ import annotations

import json

from sqlalchemy import select

from services.warnings import tables
from services.warnings.domain.model import GradeRecord
from shared.academic.semesters import sort_key


def list_warnings(conn, semester: str | None = None, status: str = "active") -> list[dict]:
    w = tables.warnings
    query = select(w)
    if semester:
        query = query.where(w.c.semester == semester)
    if status in ("active", "lifted"):
        query = query.where(w.c.status == status)
    rows = []
    for row in conn.execute(query).mappings():
        reasons = json.loads(row["reasons"])
        rows.append({"student_id": row["student_id"], "semester": row["semester"], "level": row["level"],
                     "status": row["status"], "escalated": row["escalated"],
                     "rules": sorted({r["rule"] for r in reasons}), "reasons": reasons,
                     "policy_version": row["policy_version"], "updated_at": row["updated_at"].isoformat()})
    rows.sort(key=lambda r: (sort_key(r["semester"]), r["student_id"]))
    return rows


def changes_for(conn, correlation_id: str) -> list[dict]:
    c = tables.warning_changes
    query = select(c.c.change_id, c.c.student_id, c.c.semester, c.c.kind, c.c.old_level, c.c.new_level) \
        .where(c.c.correlation_id == correlation_id)
    return [dict(r) for r in conn.execute(query).mappings()]


def grade_record_histories(conn) -> dict[str, list[GradeRecord]]:
    """Every student's grade records as this service holds them (its own copy; what-if evaluates them)."""
    g = tables.grade_records
    columns = ("student_id", "semester", "course_code", "course_name", "credits", "course_type", "exam_type", "score")
    histories: dict[str, list[GradeRecord]] = {}
    for row in conn.execute(select(*(g.c[name] for name in columns))):
        histories.setdefault(row.student_id, []).append(GradeRecord(*(getattr(row, name) for name in columns)))
    return histories


# --- a student's history (aq warnings history) ---------------------------------------------------------------------

HISTORY_COLUMNS = ("change_id", "semester", "kind", "old_level", "new_level", "escalated", "policy_version",
                   "correlation_id", "batch_id", "release_status", "decided_by", "decision_note", "superseded_by")
HISTORY_TIMES = ("created_at", "decided_at", "released_at")


def _iso(value):
    return value.isoformat() if value is not None else None


def history(conn, student_id: str) -> dict:
    """Every change the policy computed for the student, oldest first, with its reasons, the policy version that
    produced it and where it stands in review (pending, confirmed, released, excluded with the reason, superseded);
    and the student's standing per semester as announced."""
    c, w = tables.warning_changes, tables.warnings
    changes = [{**{k: row[k] for k in HISTORY_COLUMNS}, **{k: _iso(row[k]) for k in HISTORY_TIMES},
                "reasons": json.loads(row["reasons"])}
               for row in conn.execute(select(c).where(c.c.student_id == student_id)
                                       .order_by(c.c.created_at, c.c.change_id)).mappings()]
    standings = [{"semester": row["semester"], "level": row["level"], "status": row["status"],
                  "escalated": row["escalated"], "policy_version": row["policy_version"],
                  "updated_at": _iso(row["updated_at"])}
                 for row in conn.execute(select(w).where(w.c.student_id == student_id)).mappings()]
    standings.sort(key=lambda r: sort_key(r["semester"]))
    return {"student_id": student_id, "changes": changes, "standings": standings}
