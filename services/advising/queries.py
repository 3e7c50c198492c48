"""Read-side of the advising service."""
from __future__ import annotations

import json

from sqlalchemy import select

from services.advising import tables


def list_tasks(conn, assignee: str | None = None, status: str = "all", correlation_id: str | None = None) -> list[dict]:
    t = tables.tasks
    query = select(t).order_by(t.c.due, t.c.task_id)
    if assignee:
        query = query.where(t.c.assignee == assignee)
    if status in ("open", "done"):
        query = query.where(t.c.status == status)
    if correlation_id:
        query = query.where(t.c.correlation_id == correlation_id)
    rows = []
    for row in conn.execute(query).mappings():
        rows.append({"task_id": row["task_id"], "kind": row["kind"], "assignee": row["assignee"],
                     "student_id": row["student_id"], "course_code": row["course_code"],
                     "semester": row["semester"], "due": row["due"].isoformat(), "status": row["status"],
                     "note": row["note"], "cause": row["cause"], "detail": json.loads(row["detail"]),
                     "record": json.loads(row["record"]) if row["record"] else None})
    return rows
