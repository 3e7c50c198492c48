"""Read-side of the warnings service."""
from __future__ import annotations

import json

from sqlalchemy import select

from services.warnings import tables
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
