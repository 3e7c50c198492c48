"""Assessment's consumer of grade batches against a real SQLite file: a batch stored (a key listed twice: the last
one wins), the upload's flags decided only once every batch and the completion are in, and a later upload's flags
written over the offering's row (updated, unflagged) with what the flag said before."""
import json

import pytest
from sqlalchemy import create_engine, select

from services.assessment import handlers, tables
from shared.messaging.unit_of_work import UnitOfWork

MAJORS = {f"s{i}": ("机械" if i % 3 else "电气") for i in range(20)}


@pytest.fixture
def engine(tmp_path):
    engine = create_engine(f"sqlite:///{tmp_path / 'assessment.sqlite'}")
    tables.metadata.create_all(engine)
    return engine


def record(student, score, *, course="MATH01", semester="2023-2024-1", exam="regular", teacher="张三"):
    return {"student_id": student, "semester": semester, "course_code": course, "course_name": f"课程{course}",
            "credits": 4.0, "course_type": "required", "exam_type": exam, "score": score, "teacher": teacher,
            "offering_college": "", "change": "new", "previous_score": None}


def batch(engine, upload_id, records):
    with UnitOfWork(engine, "assessment", tables.MESSAGING, correlation_id=upload_id) as uow:
        if handlers.take_records(uow, upload_id, records):
            return decide(uow, upload_id)
    return None


def completed(engine, upload_id, batches):
    with UnitOfWork(engine, "assessment", tables.MESSAGING, correlation_id=upload_id) as uow:
        if handlers.upload_completed(uow, upload_id, batches):
            return decide(uow, upload_id)
    return None


def decide(uow, upload_id):
    students = handlers.students_of(uow.conn, handlers.offerings_to_decide(uow.conn, upload_id))
    return handlers.decide_flags(uow, upload_id, {s: MAJORS[s] for s in students}, 0.15, "机电工程学院")


def flags(engine):
    with engine.connect() as conn:
        return {(r["course_code"], r["teacher"]): r for r in conn.execute(select(tables.course_flags)).mappings()}


def test_batches_store_records_and_the_flags_are_decided_when_the_upload_is_complete(engine):
    maths = [record(f"s{i}", "40" if i < 4 else "80") for i in range(10)]                   # 4 of 10 fail
    physics = [record(f"s{i}", "50", course="PHY01", teacher="李四") for i in range(2)] + \
        [record(f"s{i}", "90", course="PHY01", teacher="李四") for i in range(2, 20)]         # 2 of 20 fail
    makeups = [record("s0", "70", exam="makeup"), record("s0", "75", exam="makeup")]       # listed twice: the last wins
    assert batch(engine, "U1", maths[:5] + physics[:12] + makeups) is None
    assert completed(engine, "U1", 2) is None                                               # one batch still missing
    [flag] = batch(engine, "U1", maths[5:] + physics[12:])
    assert (flag["course_code"], flag["change"], flag["failed"], flag["total"]) == ("MATH01", "flagged", 4, 10)
    assert flag["majors"] == ["机械", "电气"]
    with engine.connect() as conn:
        stored = conn.execute(select(tables.grade_records)).mappings().all()
    assert len(stored) == 31
    assert [r["score"] for r in stored if r["exam_type"] == "makeup"] == ["75"]
    held = flags(engine)[("MATH01", "张三")]
    assert (held["flagged"], held["rate"], json.loads(held["majors"]), held["upload_id"]) == (
        True, 0.4, ["机械", "电气"], "U1")


def test_a_later_upload_updates_and_then_lifts_the_flag_on_the_same_row(engine):
    batch(engine, "U1", [record(f"s{i}", "40" if i < 4 else "80") for i in range(10)])
    completed(engine, "U1", 1)
    assert batch(engine, "U2", [record("s4", "30")]) is None                                # 5 of 10 fail now
    [updated] = completed(engine, "U2", 1)
    assert (updated["change"], updated["failed"]) == ("updated", 5)
    assert (flags(engine)[("MATH01", "张三")]["failed"], flags(engine)[("MATH01", "张三")]["upload_id"]) == (5, "U2")
    assert completed(engine, "U3", 1) is None                                               # announced first
    [lifted] = batch(engine, "U3", [record(f"s{i}", "60") for i in range(5)])               # nobody fails
    assert lifted["change"] == "unflagged"
    [row] = flags(engine).values()
    assert (row["flagged"], row["failed"], row["total"], row["upload_id"]) == (False, 0, 10, "U3")
