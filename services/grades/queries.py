"""Read-side of the grades service."""
from __future__ import annotations

import json

from sqlalchemy import func, select

from services.grades import tables


def history(conn, student_id: str, course_code: str | None = None) -> list[dict]:
    """A student's records (optionally of one course), each with its corrections oldest first: what changed
    (old and new values of every changed field), by which upload, who made it and when (files.md)."""
    g, c, u = tables.grade_records, tables.corrections, tables.uploads
    query = select(g, u.c.filename, u.c.uploaded_by, u.c.received_at).select_from(
        g.outerjoin(u, g.c.upload_id == u.c.upload_id)).where(g.c.student_id == student_id)
    cq = select(c, u.c.filename).select_from(c.outerjoin(u, c.c.upload_id == u.c.upload_id)).where(
        c.c.student_id == student_id)
    if course_code:
        query = query.where(g.c.course_code == course_code)
        cq = cq.where(c.c.course_code == course_code)
    corrections: dict[tuple, list[dict]] = {}
    for corr in conn.execute(cq.order_by(c.c.changed_at, c.c.id)).mappings():
        key = (corr["semester"], corr["course_code"], corr["exam_type"])
        corrections.setdefault(key, []).append({
            "old": json.loads(corr["old_values"]), "new": json.loads(corr["new_values"]),
            "upload_id": corr["upload_id"], "filename": corr["filename"], "changed_by": corr["changed_by"],
            "changed_at": _iso(corr["changed_at"])})
    records = []
    for row in conn.execute(query.order_by(g.c.semester, g.c.course_code, g.c.exam_type)).mappings():
        record = {k: row[k] for k in ("student_id", "semester", "course_code", "course_name", "credits",
                                       "course_type", "exam_type", "score", "teacher", "offering_college",
                                       "upload_id", "filename")}
        chain = corrections.get((row["semester"], row["course_code"], row["exam_type"]), [])
        first_score = chain[0]["old"].get("score", row["score"]) if chain else row["score"]
        record.update(first_score=first_score, corrections=chain)
        records.append(record)
    return records


def _iso(value) -> str | None:
    return value.isoformat() if value is not None else None


def upload_summary(conn, upload_id: str) -> dict | None:
    row = conn.execute(select(tables.uploads).where(tables.uploads.c.upload_id == upload_id)).mappings().first()
    if row is None:
        return None
    return {k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in dict(row).items()}


def record_count(conn) -> int:
    return conn.execute(select(func.count()).select_from(tables.grade_records)).scalar_one()
