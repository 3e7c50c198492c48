"""A roster change is announced (roster.imported): a new head teacher, a suspended student; only what changed, and
never a contact (files.md "Roster"; services/roster/handlers.py against a real SQLite file)."""
import json
from pathlib import Path

import pytest
from sqlalchemy import create_engine, select

from contracts.events import RosterImportedSchema
from services.roster import handlers, tables
from shared.files.report import FileRejected
from shared.messaging.unit_of_work import UnitOfWork

ROSTER = Path(__file__).resolve().parents[3] / "demo" / "sample_college" / "csv" / "roster"
CONTACT_WORDS = ("@", "phone", "email", "guardian")


@pytest.fixture
def engine(tmp_path):
    engine = create_engine(f"sqlite:///{tmp_path / 'roster.sqlite'}")
    tables.metadata.create_all(engine)
    return engine


def files(**replace):
    out = []
    for path in sorted(ROSTER.glob("*.csv")):
        text = path.read_text(encoding="utf-8")
        for old, new in replace.get(path.stem, []):
            assert old in text
            text = text.replace(old, new, 1)
        out.append((path.name, text.encode("utf-8")))
    return out


def run_import(engine, batch, import_id):
    with UnitOfWork(engine, "roster", tables.MESSAGING, correlation_id=import_id) as uow:
        result = handlers.import_roster(uow, batch, "staff-1", import_id)
    with engine.connect() as conn:
        bodies = conn.execute(select(tables.MESSAGING[0].c.body).where(
            tables.MESSAGING[0].c.correlation_id == import_id)).scalars().all()
    return result, [json.loads(b)["data"] for b in bodies]


def test_a_new_head_teacher_and_a_suspended_student_are_announced_alone_without_contacts(engine):
    _, [first] = run_import(engine, files(), "R-1")
    assert len(first["students"]) == 120 and len(first["classes"]) == 12
    students = (ROSTER / "students.csv").read_text(encoding="utf-8").splitlines()
    suspended = students[5]
    assert suspended.endswith(",在读")
    result, [event] = run_import(engine, files(classes=[(",T1001", ",T1002")],
                                               students=[(suspended, suspended[:-2] + "休学")]), "R-2")
    assert result["changed"] == {"classes": 1, "students": 1, "staff": 0}
    assert RosterImportedSchema().validate(event) == {}
    [klass] = event["classes"]
    assert (klass["class_name"], klass["head_teacher_id"]) == ("机械2101", "T1002")
    [student] = event["students"]
    assert (student["student_id"], student["status"]) == (suspended.split(",")[0], "suspended")
    assert set(student) == {"student_id", "name", "class_name", "status"}
    text = json.dumps(event, ensure_ascii=False)
    assert not any(word in text for word in CONTACT_WORDS), text


def test_importing_the_same_roster_again_announces_nothing(engine):
    run_import(engine, files(), "R-1")
    result, events = run_import(engine, files(), "R-2")
    assert events == [] and result["changed"] == {"classes": 0, "students": 0, "staff": 0}


def test_a_rejected_import_stores_and_announces_nothing(engine):
    with pytest.raises(FileRejected):
        run_import(engine, files(students=[(",在读", ",出国")]), "R-1")
    with engine.connect() as conn:
        for table in (tables.students, tables.classes, tables.staff, tables.imports, tables.MESSAGING[0]):
            assert conn.execute(select(table)).first() is None
