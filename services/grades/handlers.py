"""The grades service layer: store an upload's records by natural key and announce what changed."""
from __future__ import annotations

import hashlib
import json
import uuid
from datetime import datetime, timezone

from sqlalchemy import and_, bindparam, select, update

from services.grades import tables
from services.grades.domain.batching import batches_by_student

KEY = ("student_id", "semester", "course_code", "exam_type")
VALUE_FIELDS = ("course_name", "credits", "course_type", "score", "teacher", "offering_college")


def new_upload_id() -> str:
    return "U-" + datetime.now(timezone.utc).strftime("%Y%m%d") + "-" + uuid.uuid4().hex[:10]


def store_upload(uow, upload_id: str, filename: str, data: bytes, uploaded_by: str, records: list[dict],
                 batch_size: int = 1000) -> dict:
    """``records`` are validated canonical records. New ones are inserted, changed ones corrected with
    their history; records equal to what is stored change nothing. Nothing is stored or announced for an
    upload that changes nothing."""
    conn = uow.conn
    stored = _stored_records(conn, {r["student_id"] for r in records})
    now = datetime.now(timezone.utc)
    new, corrected, history = [], [], []
    for record in records:
        key = tuple(record[k] for k in KEY)
        old = stored.get(key)
        if old is None:
            new.append(record)
        elif any(old[f] != record[f] for f in VALUE_FIELDS):
            changed = [f for f in VALUE_FIELDS if old[f] != record[f]]
            corrected.append({**record, "previous_score": old["score"]})
            history.append({**{k: record[k] for k in KEY},
                            "old_values": json.dumps({f: old[f] for f in changed}, ensure_ascii=False),
                            "new_values": json.dumps({f: record[f] for f in changed}, ensure_ascii=False),
                            "upload_id": upload_id, "changed_by": uploaded_by, "changed_at": now})
    summary = {"upload_id": upload_id, "rows": len(records), "new": len(new), "corrected": len(corrected),
               "unchanged": len(records) - len(new) - len(corrected), "batches": 0, "stored": False}
    if not new and not corrected:
        return summary

    if new:
        conn.execute(tables.grade_records.insert(), [{**r, "upload_id": upload_id} for r in new])
    if corrected:
        conn.execute(
            update(tables.grade_records)
            .where(and_(*(tables.grade_records.c[k] == bindparam(f"k_{k}") for k in KEY)))
            .values({f: bindparam(f"v_{f}") for f in VALUE_FIELDS} | {"upload_id": bindparam("v_upload")}),
            [{**{f"k_{k}": r[k] for k in KEY}, **{f"v_{f}": r[f] for f in VALUE_FIELDS}, "v_upload": upload_id}
             for r in corrected])
        conn.execute(tables.corrections.insert(), history)

    announced = [{**r, "change": "new", "previous_score": None} for r in new] + \
                [{**r, "change": "corrected"} for r in corrected]
    batches = batches_by_student(announced, batch_size)
    for number, batch in enumerate(batches, start=1):
        uow.announce("grades.records_stored", {"upload_id": upload_id, "batch": number, "records": batch})
    summary.update(batches=len(batches), stored=True)
    conn.execute(tables.uploads.insert().values(
        upload_id=upload_id, filename=filename, sha256=hashlib.sha256(data).hexdigest(),
        uploaded_by=uploaded_by, received_at=now, rows=summary["rows"], new=summary["new"],
        corrected=summary["corrected"], unchanged=summary["unchanged"], batches=summary["batches"]))
    uow.announce("grades.upload_completed", {
        "upload_id": upload_id, "filename": filename, "uploaded_by": uploaded_by,
        **{k: summary[k] for k in ("rows", "new", "corrected", "unchanged", "batches")}})
    return summary


def _stored_records(conn, student_ids) -> dict[tuple, dict]:
    g = tables.grade_records
    found = {}
    ids = sorted(student_ids)
    for start in range(0, len(ids), 500):
        query = select(*(g.c[k] for k in KEY + VALUE_FIELDS)).where(g.c.student_id.in_(ids[start:start + 500]))
        for row in conn.execute(query).mappings():
            found[tuple(row[k] for k in KEY)] = dict(row)
    return found
