"""The grades service layer: store an upload's records by natural key and announce what changed."""
from __future__ import annotations

import json
import uuid
from collections import Counter
from datetime import datetime, timezone
from typing import Iterable, Iterator

from sqlalchemy import and_, bindparam, select, update

from services.grades import tables
from services.grades.domain.rows import RECORD_FIELDS
from shared.bulk import insert_rows

KEY = ("student_id", "semester", "course_code", "exam_type")
VALUE_FIELDS = ("course_name", "credits", "course_type", "score", "teacher", "offering_college")


def new_upload_id() -> str:
    return "U-" + datetime.now(timezone.utc).strftime("%Y%m%d") + "-" + uuid.uuid4().hex[:10]


def store_upload(uow, upload_id: str, filename: str, sha256: str, uploaded_by: str,
                 chunks: Iterable[list[dict]], batch_size: int = 1000) -> dict:
    """``chunks`` are lists of validated canonical records (a file streams through in chunks; see Spool). New
    records are inserted, changed ones corrected with their history (old, new, which upload, who, when); records
    equal to what is stored change nothing. Nothing is stored or announced for an upload that changes nothing.

    The announcement is read back from the database (the records this upload wrote carry its id), batch by batch
    in student order, so no step holds the whole upload in memory and a batch never splits a student."""
    conn = uow.conn
    now = datetime.now(timezone.utc)
    counts = {"rows": 0, "new": 0, "corrected": 0}
    changed_per_student: Counter = Counter()     # a few thousand students: what the batches are cut by
    for records in chunks:
        new, corrected, history = _classify(_stored_records(conn, records), records, upload_id, uploaded_by, now)
        counts["rows"] += len(records)
        counts["new"] += len(new)
        counts["corrected"] += len(corrected)
        changed_per_student.update(r["student_id"] for r in new)
        changed_per_student.update(r["student_id"] for r in corrected)
        if new:
            insert_rows(conn, tables.grade_records, [{**r, "upload_id": upload_id} for r in new])
        if corrected:
            conn.execute(_UPDATE, [{**{f"k_{k}": r[k] for k in KEY}, **{f"v_{f}": r[f] for f in VALUE_FIELDS},
                                    "v_upload": upload_id} for r in corrected])
            insert_rows(conn, tables.corrections, history)
    summary = {"upload_id": upload_id, **counts,
               "unchanged": counts["rows"] - counts["new"] - counts["corrected"], "batches": 0, "stored": False}
    if not counts["new"] and not counts["corrected"]:
        return summary

    batches = 0
    for batch in _changed_by_student(conn, upload_id, changed_per_student, batch_size, counts["corrected"] > 0):
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
    width = len(KEY)
    for start in range(0, len(ids), 500):
        query = select(*(g.c[k] for k in KEY + VALUE_FIELDS)).where(g.c.student_id.in_(ids[start:start + 500]))
        if len(semesters) <= 20:
            query = query.where(g.c.semester.in_(semesters))
        for row in conn.execute(query):           # plain tuples: a re-upload reads back every record
            key = tuple(row[:width])
            if key in wanted:
                found[key] = dict(zip(KEY + VALUE_FIELDS, row))
    return found


def _changed_by_student(conn, upload_id: str, changed_per_student: Counter, size: int,
                        with_corrections: bool = True) -> Iterator[list[dict]]:
    """The records this upload wrote, as StoredRecordSchema dicts in batches of at most ``size`` records that never
    split a student (one student with more than ``size`` records gets a batch of their own), in student order.

    The batches are cut from the number of records each student changed, then each batch is read with one query on
    the (upload_id, student_id) index. (Paging through the upload in key order instead made PostgreSQL sort the
    rest of the upload for every page: about 8 s of a 300,000-row upload.)"""
    g, c = tables.grade_records, tables.corrections
    columns = [g.c[f] for f in RECORD_FIELDS]
    for students in _student_groups(changed_per_student, size):
        rows = conn.execute(select(*columns).where(g.c.upload_id == upload_id, g.c.student_id.in_(students))
                            .order_by(*(g.c[k] for k in KEY))).all()      # plain tuples: every record passes here
        previous = {tuple(r[k] for k in KEY): json.loads(r["old_values"]) for r in conn.execute(
            select(c).where(c.c.upload_id == upload_id, c.c.student_id.in_(students))).mappings()} \
            if with_corrections else {}
        yield [_announced(dict(zip(RECORD_FIELDS, r)), previous) for r in rows]


def _student_groups(changed_per_student: Counter, size: int) -> Iterator[list[str]]:
    """Students in order, grouped so that a group's records stay within ``size`` (a larger student alone)."""
    current: list[str] = []
    records = 0
    for student in sorted(changed_per_student):
        count = changed_per_student[student]
        if current and records + count > size:
            yield current
            current, records = [], 0
        current.append(student)
        records += count
    if current:
        yield current


def _announced(record: dict, previous: dict) -> dict:
    old = previous.get((record["student_id"], record["semester"], record["course_code"], record["exam_type"])) \
        if previous else None
    if old is None:
        record["change"], record["previous_score"] = "new", None
    else:
        record["change"], record["previous_score"] = "corrected", old.get("score", record["score"])
    return record


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
