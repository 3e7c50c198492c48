"""Storing validated records (services/grades/handlers.py) against a real SQLite file: new records, corrections
with their history, nothing for an identical upload, batches that never split a student, and the history query."""
import json

import pytest
from sqlalchemy import create_engine, func, select

from services.grades import handlers, queries, tables
from services.grades.spool import Spool
from shared.messaging.unit_of_work import UnitOfWork


@pytest.fixture
def engine(tmp_path):
    engine = create_engine(f"sqlite:///{tmp_path / 'grades.sqlite'}")
    tables.metadata.create_all(engine)
    return engine


def record(student="210101001", course="MATH01", score="70", exam="regular", semester="2023-2024-1"):
    return {"student_id": student, "semester": semester, "course_code": course, "course_name": f"课程{course}",
            "credits": 4.0, "course_type": "required", "exam_type": exam, "score": score, "teacher": "杨英",
            "offering_college": ""}


def store(engine, records, upload_id, by="teacher-a", batch_size=1000, chunk_rows=5000):
    with Spool(chunk_rows=chunk_rows) as spool:
        for r in records:
            spool.add(r)
        with UnitOfWork(engine, "grades", tables.MESSAGING, correlation_id=upload_id) as uow:
            summary = handlers.store_upload(uow, upload_id, f"{upload_id}.csv", "0" * 64, by, spool,
                                            batch_size=batch_size)
    return summary, [json.loads(e) for e in outbox(engine, upload_id)]


def outbox(engine, upload_id):
    with engine.connect() as conn:
        return conn.execute(select(tables.MESSAGING[0].c.body).where(
            tables.MESSAGING[0].c.correlation_id == upload_id).order_by(tables.MESSAGING[0].c.seq)).scalars().all()


def test_new_records_are_stored_and_announced_in_batches_that_never_split_a_student(engine):
    records = [record(student=f"s{s:03d}", course=f"C{c}") for c in range(7) for s in range(30)]   # by course
    summary, events = store(engine, records, "U1", batch_size=20, chunk_rows=50)
    assert (summary["rows"], summary["new"], summary["corrected"], summary["stored"]) == (210, 210, 0, True)
    batches = [e["data"]["records"] for e in events if e["type"] == "grades.records_stored"]
    assert [e["data"]["batch"] for e in events if e["type"] == "grades.records_stored"] == list(range(1, 16))   # 2 students of 7 records each
    assert all(len(b) <= 20 for b in batches)
    seen = [{r["student_id"] for r in b} for b in batches]
    assert sum(len(s) for s in seen) == 30                            # no student in two batches
    assert {r["change"] for b in batches for r in b} == {"new"}
    [done] = [e for e in events if e["type"] == "grades.upload_completed"]
    assert done["data"]["batches"] == 15 and done["data"]["new"] == 210


def test_a_changed_score_is_a_correction_with_history_and_an_identical_upload_stores_nothing(engine):
    store(engine, [record(score="55", exam="makeup"), record(course="ENG01")], "U1")
    summary, events = store(engine, [record(score="65", exam="makeup"), record(course="ENG01")], "U2", by="教务员")
    assert (summary["new"], summary["corrected"], summary["unchanged"]) == (0, 1, 1)
    [stored] = [e["data"]["records"] for e in events if e["type"] == "grades.records_stored"]
    assert [(r["score"], r["previous_score"], r["change"]) for r in stored] == [("65", "55", "corrected")]

    again, events = store(engine, [record(score="65", exam="makeup"), record(course="ENG01")], "U3")
    assert (again["new"], again["corrected"], again["stored"], events) == (0, 0, False, [])
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(tables.uploads)).scalar() == 2
        [makeup] = queries.history(conn, "210101001", "MATH01")
    assert (makeup["score"], makeup["first_score"], makeup["upload_id"]) == ("65", "55", "U2")
    [corr] = makeup["corrections"]
    assert (corr["old"], corr["new"], corr["upload_id"], corr["changed_by"]) == (
        {"score": "55"}, {"score": "65"}, "U2", "教务员")
    assert corr["filename"] == "U2.csv" and corr["changed_at"]


def test_history_of_a_student_lists_every_course_with_its_chain_of_corrections(engine):
    store(engine, [record(score="40"), record(course="ENG01", score="80")], "U1")
    store(engine, [record(score="50")], "U2")
    store(engine, [record(score="58")], "U3")
    with engine.connect() as conn:
        rows = queries.history(conn, "210101001")
        assert queries.history(conn, "nobody") == []
    assert [(r["course_code"], r["score"], len(r["corrections"])) for r in rows] == [("ENG01", "80", 0),
                                                                                    ("MATH01", "58", 2)]
    assert [(c["old"]["score"], c["new"]["score"]) for c in rows[1]["corrections"]] == [("40", "50"), ("50", "58")]


def test_upload_id_of_a_batch_released_again_gets_a_suffix(engine):
    store(engine, [record()], "B-7")
    with engine.connect() as conn:
        assert handlers.upload_id_for_batch(conn, "B-8") == "B-8"
        assert handlers.upload_id_for_batch(conn, "B-7") == "B-7#2"


def test_the_announcement_is_the_records_as_stored_by_student_in_key_order(engine):
    """Batches are made from the records as they are written (not read back): they must say exactly what the table
    holds for the upload, each student whole, students and each student's records in key order, also when a
    student's rows are spread over chunks and only some students had records before."""
    first = [record(student=s, course=c, score="60") for c in ("PHY", "MATH", "ENG") for s in ("s3", "s1", "s2")]
    store(engine, first, "U1", batch_size=4, chunk_rows=2)
    second = [record(student="s2", course="MATH", score="75"),                       # corrected
              record(student="s4", course="MATH"), record(student="s1", course="ART"),  # new: a new and a known student
              record(student="s2", course="ENG", score="60"),                        # unchanged
              record(student="s4", course="ENG"), record(student="s2", course="PHY", score="45", exam="makeup"),
              record(student="s1", course="PHY", score="61")]                        # corrected
    summary, events = store(engine, second, "U2", batch_size=3, chunk_rows=2)
    assert (summary["new"], summary["corrected"], summary["unchanged"]) == (4, 2, 1)
    batches = [e["data"]["records"] for e in events if e["type"] == "grades.records_stored"]
    announced = [r for batch in batches for r in batch]
    assert [[r["student_id"] for r in batch] for batch in batches] == [["s1", "s1"], ["s2", "s2"], ["s4", "s4"]]
    key = ("student_id", "semester", "course_code", "exam_type")
    assert [tuple(r[k] for k in key) for r in announced] == sorted(tuple(r[k] for k in key) for r in announced)
    with engine.connect() as conn:
        stored = conn.execute(select(tables.grade_records).where(tables.grade_records.c.upload_id == "U2")
                              .order_by(*(tables.grade_records.c[k] for k in key))).mappings().all()
    fields = [f for f in announced[0] if f not in ("change", "previous_score")]
    assert set(fields) == set(tables.grade_records.c.keys()) - {"upload_id"}
    assert [{f: r[f] for f in fields} for r in announced] == [{f: r[f] for f in fields} for r in stored]
    changes = {(r["student_id"], r["course_code"], r["exam_type"]): (r["change"], r["previous_score"])
               for r in announced}
    assert changes == {("s1", "ART", "regular"): ("new", None), ("s1", "PHY", "regular"): ("corrected", "60"),
                       ("s2", "MATH", "regular"): ("corrected", "60"), ("s2", "PHY", "makeup"): ("new", None),
                       ("s4", "ENG", "regular"): ("new", None), ("s4", "MATH", "regular"): ("new", None)}


def test_records_per_event_is_a_setting_with_a_clear_message_when_wrong():
    assert handlers.records_per_event({}) == 1000
    assert handlers.records_per_event({"AQ_RECORDS_PER_EVENT": "4000"}) == 4000
    for wrong in ("0", "many", "-5", "100000"):
        expected = f"AQ_RECORDS_PER_EVENT must be a whole number from 1 to 50000, not '{wrong}'"
        with pytest.raises(ValueError, match=expected):
            handlers.records_per_event({"AQ_RECORDS_PER_EVENT": wrong})
