"""The grades service layer: store an upload's records by natural key and announce what changed."""
from __future__ import annotations

import json
import uuid
from datetime import datetime, timezone
from operator import itemgetter
from typing import Iterator

from sqlalchemy import select

from services.grades import tables
from services.grades.domain.rows import RECORD_FIELDS
from services.grades.spool import Spool
from shared.bulk import insert_rows, insert_tuples, upsert_tuples

KEY = ("student_id", "semester", "course_code", "exam_type")
VALUE_FIELDS = ("course_name", "credits", "course_type", "score", "teacher", "offering_college")


def new_upload_id() -> str:
    return "U-" + datetime.now(timezone.utc).strftime("%Y%m%d") + "-" + uuid.uuid4().hex[:10]


def records_per_event(environ) -> int:
    """``AQ_RECORDS_PER_EVENT``: at most this many records per grades.records_stored event (a student's records are
    never split, so a batch may hold more). Every consumer pays a fixed cost per event (a transaction, its processed
    mark, statements whose cost hardly depends on their rows): fewer, larger events cost the consumers less CPU in
    all, but each is a larger message held whole in memory and retried whole (benchmarks/README.md measures it)."""
    text = environ.get("AQ_RECORDS_PER_EVENT", "1000")
    if not text.strip().isdigit() or not 1 <= int(text) <= 50_000:
        raise ValueError(f"AQ_RECORDS_PER_EVENT must be a whole number from 1 to 50000, not {text!r}")
    return int(text)


def store_upload(uow, upload_id: str, filename: str, sha256: str, uploaded_by: str, spool: Spool,
                 batch_size: int = 1000) -> dict:
    """``spool`` holds the validated canonical records (a file streams through it in chunks). New records are
    inserted, changed ones corrected with their history (old, new, which upload, who, when); records equal to
    what is stored change nothing. Nothing is stored or announced for an upload that changes nothing.

    Only the students who had records before the upload are looked up chunk by chunk: the others' records are
    all new. (Looking up every student of every chunk made PostgreSQL scan the table being filled for each chunk:
    its statistics do not know the rows this transaction just inserted, so it did not use the index.)

    The announcement is made of the records as they were just written (the values stored are the validated
    values), kept by student until every chunk is stored; then announced in batches in student order, so a batch
    never splits a student. The records an upload changed are the only thing held for the whole upload (~45 MB
    for 300,000)."""
    conn = uow.conn
    now = datetime.now(timezone.utc)
    counts = {"rows": 0, "new": 0, "corrected": 0}
    changed: dict[str, list[tuple]] = {}            # student -> the records the upload changed
    previous: dict[tuple, str] = {}                 # key of a corrected record -> its score before
    known = _students_with_records(conn, spool.students)
    for records in spool.chunks():
        new, corrected, history = _classify(_stored_values(conn, records, known), records, upload_id, uploaded_by,
                                            now, previous)
        counts["rows"] += len(records)
        counts["new"] += len(new)
        counts["corrected"] += len(corrected)
        stored = (upload_id,)
        if new:
            insert_tuples(conn, tables.grade_records, _COLUMNS, [r + stored for r in new])
        if corrected:
            # The records exist (just read in this transaction; records are never deleted): an upsert by key
            # is an UPDATE of every value, written like the inserts instead of one statement per record.
            upsert_tuples(conn, tables.grade_records, _COLUMNS, [r + stored for r in corrected], KEY)
            insert_rows(conn, tables.corrections, history)
        for record in new + corrected:
            changed.setdefault(record[_STUDENT_AT], []).append(record)
    summary = {"upload_id": upload_id, **counts,
               "unchanged": counts["rows"] - counts["new"] - counts["corrected"], "batches": 0, "stored": False}
    if not counts["new"] and not counts["corrected"]:
        return summary

    batches = 0
    for batch in _batches_by_student(changed, previous, batch_size):
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


_KEY_AT = tuple(RECORD_FIELDS.index(k) for k in KEY)
_VALUE_AT = tuple(RECORD_FIELDS.index(f) for f in VALUE_FIELDS)
_STUDENT_AT, _SEMESTER_AT = _KEY_AT[:2]
_COLUMNS = RECORD_FIELDS + ("upload_id",)          # grade_records' columns, as a record tuple + the upload id
_key_of = itemgetter(*_KEY_AT)
_SCORE_AMONG_VALUES = VALUE_FIELDS.index("score")
_stored_key = itemgetter(*range(len(KEY)))                              # of a row of KEY + VALUE_FIELDS
_stored_value = itemgetter(*range(len(KEY), len(KEY) + len(VALUE_FIELDS)))
_json = json.JSONEncoder(ensure_ascii=False).encode     # json.dumps(..., ensure_ascii=False), built once


def _classify(stored: dict[tuple, tuple], records: list[tuple], upload_id: str, uploaded_by: str, now,
              previous: dict[tuple, str]):
    """(new, corrected, history rows); ``previous`` learns each corrected record's score before."""
    if not stored:
        return records, [], []
    new, corrected, history = [], [], []
    for record in records:
        key = _key_of(record)
        old = stored.get(key)
        if old is None:
            new.append(record)
            continue
        values = tuple(record[i] for i in _VALUE_AT)
        if old == values:
            continue
        changed = [(f, before, after) for f, before, after in zip(VALUE_FIELDS, old, values) if before != after]
        corrected.append(record)
        previous[key] = old[_SCORE_AMONG_VALUES]
        history.append({**dict(zip(KEY, key)),
                        "old_values": _json({f: before for f, before, _ in changed}),
                        "new_values": _json({f: after for f, _, after in changed}),
                        "upload_id": upload_id, "changed_by": uploaded_by, "changed_at": now})
    return new, corrected, history


def _students_with_records(conn, students: set[str]) -> set[str]:
    """Which of ``students`` have records stored (asked before the upload writes any)."""
    g = tables.grade_records
    ids = sorted(students)
    found: set[str] = set()
    for start in range(0, len(ids), 500):
        found.update(conn.execute(select(g.c.student_id).distinct().where(
            g.c.student_id.in_(ids[start:start + 500]))).scalars())
    return found


def _stored_values(conn, records: list[tuple], known: set[str]) -> dict[tuple, tuple]:
    """Key -> VALUE_FIELDS of what is stored for the students of ``records`` who had records before the upload
    (fetched by student, the indexed leading key column; within the upload's semesters when it names only a few)."""
    g = tables.grade_records
    ids = sorted({r[_STUDENT_AT] for r in records} & known)
    semesters = sorted({r[_SEMESTER_AT] for r in records})
    found: dict[tuple, tuple] = {}
    for start in range(0, len(ids), 500):
        query = select(*(g.c[k] for k in KEY + VALUE_FIELDS)).where(g.c.student_id.in_(ids[start:start + 500]))
        if len(semesters) <= 20:
            query = query.where(g.c.semester.in_(semesters))
        rows = conn.execute(query).all()          # a re-upload reads back every record
        found.update(zip(map(_stored_key, rows), map(_stored_value, rows)))
    return found


def _batches_by_student(changed: dict[str, list[tuple]], previous: dict[tuple, str],
                        size: int) -> Iterator[list[dict]]:
    """The changed records as StoredRecordSchema dicts in batches of at most ``size`` records that never split a
    student (one student with more than ``size`` records gets a batch of their own), in student order and within
    a student in key order (as the database's C collation orders them: by code point)."""
    for students in _student_groups({student: len(records) for student, records in changed.items()}, size):
        batch = []
        for student in students:
            for record in sorted(changed.pop(student), key=_key_of):
                item = dict(zip(RECORD_FIELDS, record))
                before = previous.get(_key_of(record)) if previous else None
                if before is None:
                    item["change"], item["previous_score"] = "new", None
                else:
                    item["change"], item["previous_score"] = "corrected", before
                batch.append(item)
        yield batch


def _student_groups(changed_per_student: dict[str, int], size: int) -> Iterator[list[str]]:
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
