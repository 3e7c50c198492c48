"""The grades service layer: store an upload's records by natural key and announce what changed."""
from __future__ import annotations

import json
import uuid
from datetime import datetime, timezone
from itertools import groupby
from typing import Iterable, Iterator

from sqlalchemy import and_, bindparam, select, update

from services.grades import tables
from services.grades.domain.rows import RECORD_FIELDS

KEY = ("student_id", "semester", "course_code", "exam_type")
VALUE_FIELDS = ("course_name", "credits", "course_type", "score", "teacher", "offering_college")


def new_upload_id() -> str:
    return "U-" + datetime.now(timezone.utc).strftime("%Y%m%d") + "-" + uuid.uuid4().hex[:10]


def store_upload(uow, upload_id: str, filename: str, sha256: str, uploaded_by: str,
                 chunks: Iterable[list[dict]], batch_size: int = 1000) -> dict:
    """``chunks`` are lists of validated canonical records (a file streams through in chunks; see Spool). New
    records are inserted, changed ones corrected with their history (old, new, which upload, who, when); records
    equal to what is stored change nothing. Nothing is stored or announced for an upload that changes nothing.

    The announcement is read back from the database (the records this upload wrote carry its id), student by
    student, so no step holds the whole upload in memory and a batch never splits a student."""
    conn = uow.conn
    now = datetime.now(timezone.utc)
    counts = {"rows": 0, "new": 0, "corrected": 0}
    for records in chunks:
        new, corrected, history = _classify(_stored_records(conn, records), records, upload_id, uploaded_by, now)
        counts["rows"] += len(records)
        counts["new"] += len(new)
        counts["corrected"] += len(corrected)
        if new:
            conn.execute(tables.grade_records.insert(), [{**r, "upload_id": upload_id} for r in new])
        if corrected:
            conn.execute(_UPDATE, [{**{f"k_{k}": r[k] for k in KEY}, **{f"v_{f}": r[f] for f in VALUE_FIELDS},
                                    "v_upload": upload_id} for r in corrected])
            conn.execute(tables.corrections.insert(), history)
    summary = {"upload_id": upload_id, **counts,
               "unchanged": counts["rows"] - counts["new"] - counts["corrected"], "batches": 0, "stored": False}
    if not counts["new"] and not counts["corrected"]:
        return summary

    batches = 0
    for batch in _changed_by_student(conn, upload_id, batch_size):
        batches += 1
        uow.announce("grades.records_stored", {"upload_id": upload_id, "batch": batches, "records": batch})
        # The unit of work keeps what it announced for inspection; 300 batches of 1,000 records must not stay in
        # memory until commit (they are in the outbox table already).
        uow.announced.clear()
    summary.update(batches=batches, stored=True)
    conn.execute(tables.uploads.insert().values(
        upload_id=upload_id, filename=filename, sha256=sha256, uploaded_by=uploaded_by, received_at=now,
        **{k: summary[k] for k in ("rows", "new", "corrected", "unchanged", "batches")}))
    uow.announce("grades.upload_completed", {
        "upload_id": upload_id, "filename": filename, "uploaded_by": uploaded_by,
        **{k: summary[k] for k in ("rows", "new", "corrected", "unchanged", "batches")}})
    return summary


_UPDATE = (update(tables.grade_records)
           .where(and_(*(tables.grade_records.c[k] == bindparam(f"k_{k}") for k in KEY)))
           .values({f: bindparam(f"v_{f}") for f in VALUE_FIELDS} | {"upload_id": bindparam("v_upload")}))


def _classify(stored: dict, records: list[dict], upload_id: str, uploaded_by: str, now):
    new, corrected, history = [], [], []
    for record in records:
        old = stored.get(tuple(record[k] for k in KEY))
        if old is None:
            new.append(record)
        elif any(old[f] != record[f] for f in VALUE_FIELDS):
            changed = [f for f in VALUE_FIELDS if old[f] != record[f]]
            corrected.append(record)
            history.append({**{k: record[k] for k in KEY},
                            "old_values": json.dumps({f: old[f] for f in changed}, ensure_ascii=False),
                            "new_values": json.dumps({f: record[f] for f in changed}, ensure_ascii=False),
                            "upload_id": upload_id, "changed_by": uploaded_by, "changed_at": now})
    return new, corrected, history


def _stored_records(conn, records: list[dict]) -> dict[tuple, dict]:
    """What is stored under the keys of ``records`` (fetched by student, the indexed leading key column)."""
    g = tables.grade_records
    wanted = {tuple(r[k] for k in KEY) for r in records}
    ids = sorted({r["student_id"] for r in records})
    semesters = sorted({r["semester"] for r in records})
    found = {}
    for start in range(0, len(ids), 500):
        query = select(*(g.c[k] for k in KEY + VALUE_FIELDS)).where(g.c.student_id.in_(ids[start:start + 500]))
        if len(semesters) <= 20:
            query = query.where(g.c.semester.in_(semesters))
        for row in conn.execute(query).mappings():
            key = tuple(row[k] for k in KEY)
            if key in wanted:
                found[key] = dict(row)
    return found


def _changed_by_student(conn, upload_id: str, size: int, page: int = 5000) -> Iterator[list[dict]]:
    """The records this upload wrote, as StoredRecordSchema dicts in batches of at most ``size`` records that never
    split a student (one student with more than ``size`` records gets a batch of their own)."""
    g, c = tables.grade_records, tables.corrections
    columns = [g.c[f] for f in RECORD_FIELDS]
    after = ""
    current: list[dict] = []
    while True:
        rows = conn.execute(select(*columns).where(g.c.upload_id == upload_id, g.c.student_id > after)
                            .order_by(*(g.c[k] for k in KEY)).limit(page)).mappings().all()
        if not rows:
            break
        students = list(dict.fromkeys(r["student_id"] for r in rows))
        if len(rows) == page and len(students) > 1:
            students.pop()                          # the page may have cut the last student: fetch it next time
            rows = [r for r in rows if r["student_id"] in set(students)]
        elif len(rows) == page:
            rows = conn.execute(select(*columns).where(g.c.upload_id == upload_id, g.c.student_id == students[0])
                                .order_by(*(g.c[k] for k in KEY))).mappings().all()
        previous = {tuple(r[k] for k in KEY): json.loads(r["old_values"]) for r in conn.execute(
            select(c).where(c.c.upload_id == upload_id, c.c.student_id.in_(students))).mappings()}
        for student, group in groupby(rows, key=lambda r: r["student_id"]):
            group = [_announced(dict(r), previous) for r in group]
            if current and len(current) + len(group) > size:
                yield current
                current = []
            current.extend(group)
        after = students[-1]
    if current:
        yield current


def _announced(record: dict, previous: dict) -> dict:
    old = previous.get(tuple(record[k] for k in KEY))
    if old is None:
        return {**record, "change": "new", "previous_score": None}
    return {**record, "change": "corrected", "previous_score": old.get("score", record["score"])}


def upload_id_for_batch(conn, batch_id: str) -> str:
    """A released batch's upload id is its batch id; a batch id released again (with changes) gets ``#2``, ``#3``…
    so each release keeps its own records and trace."""
    used = set(conn.execute(select(tables.uploads.c.upload_id).where(
        tables.uploads.c.upload_id.like(f"{batch_id}%"))).scalars())
    if batch_id not in used:
        return batch_id
    n = 2
    while f"{batch_id}#{n}" in used:
        n += 1
    return f"{batch_id}#{n}"
