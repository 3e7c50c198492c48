"""Read-side of the grades service."""
from __future__ import annotations

import json

from sqlalchemy import func, select

from services.grades import tables


def history(conn, student_id: str, course_code: str | None = None) -> list[dict]:
    g, c = tables.grade_records, tables.corrections
    query = select(g).where(g.c.student_id == student_id)
    if course_code:
        query = query.where(g.c.course_code == course_code)
    rows = [dict(r) | {"previous_score": None, "changed_by": None, "changed_at": None}
            for r in conn.execute(query.order_by(g.c.semester, g.c.course_code, g.c.exam_type)).mappings()]
    cq = select(c).where(c.c.student_id == student_id)
    if course_code:
        cq = cq.where(c.c.course_code == course_code)
    for corr in conn.execute(cq.order_by(c.c.id)).mappings():
        old, new = json.loads(corr["old_values"]), json.loads(corr["new_values"])
        rows.append({"student_id": student_id, "semester": corr["semester"], "course_code": corr["course_code"],
                     "exam_type": corr["exam_type"], "score": new.get("score"),
                     "previous_score": old.get("score"), "upload_id": corr["upload_id"],
                     "changed_by": corr["changed_by"], "changed_at": corr["changed_at"].isoformat()})
    return rows


def upload_summary(conn, upload_id: str) -> dict | None:
    row = conn.execute(select(tables.uploads).where(tables.uploads.c.upload_id == upload_id)).mappings().first()
    if row is None:
        return None
    return {k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in dict(row).items()}


def record_count(conn) -> int:
    return conn.execute(select(func.count()).select_from(tables.grade_records)).scalar_one()
