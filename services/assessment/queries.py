"""Read-side of the assessment service."""
from __future__ import annotations

import json

from sqlalchemy import select

from services.assessment import tables
from shared.academic.semesters import sort_key


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
