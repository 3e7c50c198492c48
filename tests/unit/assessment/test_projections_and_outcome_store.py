"""Assessment's projections of other services' events and its outcome store, against a real SQLite file: newer
events win whatever order they arrive in, a task keeps the day it was first done, the same outcomes file twice
stores nothing new, and the facts read back are the ones the indicators expect."""
from datetime import date

import pytest
from sqlalchemy import create_engine

from services.assessment import handlers, queries, tables
from shared.messaging.unit_of_work import UnitOfWork

T1, T2, T3 = "2025-03-01T00:00:00.000+00:00", "2025-03-02T00:00:00.000+00:00", "2025-03-03T00:00:00.000+00:00"


@pytest.fixture
def engine(tmp_path):
    engine = create_engine(f"sqlite:///{tmp_path / 'assessment.sqlite'}")
    tables.metadata.create_all(engine)
    return engine


def work(engine, fn, *args):
    with UnitOfWork(engine, "assessment", tables.MESSAGING, correlation_id="C-1") as uow:
        return fn(uow, *args)


def roster_event(head="T1", status="enrolled"):
    return {"import_id": "R-1", "classes": [{"class_name": "A21", "major": "机械", "cohort": 2021,
                                             "head_teacher_id": head}],
            "students": [{"student_id": "0210101", "name": "杨明", "class_name": "A21", "status": status}],
            "staff": [{"staff_id": "T1", "name": "蒋涛", "role": "head_teacher", "scope": ["A21"]}]}


def test_roster_projection_newest_event_wins(engine):
    work(engine, handlers.project_roster, roster_event("T1"), T2)
    work(engine, handlers.project_roster, roster_event("T9", "withdrawn"), T1)     # older, arrives late
    with engine.connect() as conn:
        roster = queries.load_roster(conn)
    assert roster.classes["A21"].head_teacher_id == "T1" and roster.students["0210101"].status == "enrolled"
    work(engine, handlers.project_roster, roster_event("T2", "withdrawn"), T3)
    with engine.connect() as conn:
        roster = queries.load_roster(conn)
    assert roster.classes["A21"].head_teacher_id == "T2" and roster.members("A21") == []
    assert roster.staff[0].scope == ("A21",)


def task(status, due="2025-03-10"):
    return {"task_id": "T-1", "kind": "talk", "assignee": "T1", "student_id": "0210101", "course_code": None,
            "semester": "2024-2025-2", "due": due, "status": status, "cause": "talk:W-1"}


def test_a_task_keeps_the_first_day_it_was_done(engine):
    work(engine, handlers.project_tasks, [task("open")], T1, "2025-03-01")
    work(engine, handlers.project_tasks, [task("done")], T2, "2025-03-09")
    work(engine, handlers.project_tasks, [task("done")], T3, "2025-03-20")      # announced again later
    work(engine, handlers.project_tasks, [task("open")], T1, "2025-03-01")      # a late copy of the first
    with engine.connect() as conn:
        [t] = queries.load_tasks(conn)
    assert t.done and t.done_on == date(2025, 3, 9) and t.on_time()


def test_warning_levels_are_the_latest_change(engine):
    change = {"change_id": "W-2", "student_id": "0210101", "semester": "2024-2025-1", "kind": "lifted",
              "old_level": "yellow", "new_level": "none", "escalated": False, "reasons": [], "policy_version": "1"}
    work(engine, handlers.project_warnings, [change], T2)
    work(engine, handlers.project_warnings, [{**change, "change_id": "W-1", "kind": "issued", "old_level": "none",
                                              "new_level": "yellow"}], T1)
    with engine.connect() as conn:
        assert queries.load_levels(conn) == {("0210101", "2024-2025-1"): "none"}


RECORDS = [{"kind": "cet4", "student_id": "0210101", "date": "2023-06-15", "value": "430", "level": ""},
           {"kind": "destination", "student_id": "0210101", "date": "", "value": "employed", "level": ""}]


def test_the_same_outcomes_twice_store_nothing_new_and_a_change_replaces(engine):
    first = work(engine, handlers.store_outcomes, "O-1", "o.csv", b"x", "me", RECORDS)
    assert (first["new"], first["changed"], first["stored"]) == (2, 0, True)
    again = work(engine, handlers.store_outcomes, "O-2", "o.csv", b"x", "me", RECORDS)
    assert (again["new"], again["changed"], again["unchanged"], again["stored"]) == (0, 0, 2, False)
    changed = work(engine, handlers.store_outcomes, "O-3", "o.csv", b"y", "me",
                   [RECORDS[0], {**RECORDS[1], "value": "further_study"}])
    assert (changed["new"], changed["changed"]) == (0, 1)
    with engine.connect() as conn:
        outcomes = queries.load_outcomes(conn)
        summary = queries.outcome_summary(conn)
    assert sorted(o.value for o in outcomes) == ["430", "further_study"]
    assert [i["import_id"] for i in summary["imports"]] == ["O-1", "O-3"]
