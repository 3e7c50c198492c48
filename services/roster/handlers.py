"""The roster's service layer: importing files, and answering who is responsible for whom."""
from __future__ import annotations

import json
import uuid
from datetime import datetime, timezone

from sqlalchemy import select

from services.roster import tables
from services.roster.domain.rows import validate_roster_files
from shared.upsert import upsert

PUBLIC_STUDENT_FIELDS = ("student_id", "name", "class_name", "status")


def import_roster(uow, files: list[tuple[str, bytes]], imported_by: str, import_id: str) -> dict:
    """Validate every file, store it all or nothing, and announce what changed (without contacts).
    Raises shared.files.report.FileRejected listing every problem."""
    conn = uow.conn
    known_classes = set(conn.execute(select(tables.classes.c.class_name)).scalars())
    known_staff = set(conn.execute(select(tables.staff.c.staff_id)).scalars())
    batch = validate_roster_files(files, known_classes=known_classes, known_staff=known_staff)

    staff_rows = [{**s, "scope": json.dumps(list(s["scope"]), ensure_ascii=False)} for s in batch.staff]
    new_staff, changed_staff = upsert(conn, tables.staff, ("staff_id", "role"), staff_rows)
    new_classes, changed_classes = upsert(conn, tables.classes, ("class_name",), list(batch.classes))
    new_students, changed_students = upsert(conn, tables.students, ("student_id",), list(batch.students))

    counts = {"classes": len(batch.classes), "students": len(batch.students), "staff": len(batch.staff)}
    conn.execute(tables.imports.insert().values(
        import_id=import_id, imported_by=imported_by, imported_at=datetime.now(timezone.utc),
        files=json.dumps([name for name, _ in files], ensure_ascii=False), counts=json.dumps(counts)))
    changed = {
        "classes": [_class_event(c) for c in new_classes + changed_classes],
        "students": [{k: s[k] for k in PUBLIC_STUDENT_FIELDS} for s in new_students + changed_students],
        "staff": [{"staff_id": s["staff_id"], "name": s["name"], "role": s["role"],
                   "scope": json.loads(s["scope"])} for s in new_staff + changed_staff],
    }
    if any(changed.values()):
        uow.announce("roster.imported", {"import_id": import_id, **changed}, correlation_id=import_id)
    return {"import_id": import_id, "counts": counts,
            "changed": {k: len(v) for k, v in changed.items()}}


def _class_event(row: dict) -> dict:
    return {"class_name": row["class_name"], "major": row["major"], "cohort": int(row["cohort"]),
            "head_teacher_id": row["head_teacher_id"]}


def new_import_id() -> str:
    return "R-" + uuid.uuid4().hex[:12]
