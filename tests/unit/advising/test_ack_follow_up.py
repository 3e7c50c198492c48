"""A warning notice not acknowledged (回执) in time becomes the head teacher's task to contact the family: one task
per warning change whoever is missing, assigned like every head-teacher duty (covered when the post is vacant),
announced, and closed with a parent-contact record (real SQLite file, no broker)."""
import json
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from services.advising import ack_handlers, handlers, queries, tables
from services.advising.domain.acknowledgements import follow_up_tasks
from services.advising.domain.tasks import NoResponsible, Responsibles
from shared.db import engine_for
from shared.messaging.unit_of_work import UnitOfWork
from shared.migrations import upgrade

TZ = ZoneInfo("Asia/Shanghai")
AT = datetime(2024, 10, 8, 9, 0, tzinfo=TZ)
PEOPLE = {"s1": Responsibles("s1", "机械2401", "机械", 2024, head_teacher_id="T1010", counselor_id="C2024",
                             department_head_id="D机械", vice_dean_id="V0001")}


def entry(role, change_id="chg-1", opened=False, reminded="2024-10-04T02:00:00+00:00"):
    return {"change_id": change_id, "student_id": "s1", "semester": "2024-2025-1", "level": "orange",
            "recipient_kind": role, "requested_at": "2024-10-01T02:00:00+00:00", "reminded_at": reminded,
            "opened": opened, "days_open": 7}


@pytest.fixture
def engine(sqlite_url):
    upgrade("advising", sqlite_url)
    return engine_for("advising", sqlite_url)


def overdue(engine, entries, people=PEOPLE):
    with UnitOfWork(engine, "advising", tables.MESSAGING, correlation_id="U-1") as uow:
        return ack_handlers.on_acknowledgement_overdue(uow, entries, people, AT)


def test_one_task_for_the_head_teacher_per_warning_change_naming_who_is_missing(engine):
    [task] = overdue(engine, [entry("student"), entry("guardian", opened=True)])
    assert (task["kind"], task["assignee"], task["student_id"], task["due"].isoformat(), task["cause"]) == (
        "acknowledgement_follow_up", "T1010", "s1", "2024-10-11", "acknowledgement_follow_up:chg-1")
    detail = json.loads(task["detail"])
    assert detail["missing"] == ["guardian", "student"] and detail["opened"] == ["guardian"]
    assert detail["level"] == "orange" and detail["reminded"] is True
    assert overdue(engine, [entry("guardian")]) == []                   # the same change again: no second task
    outbox = tables.MESSAGING[0]
    with engine.connect() as conn:
        bodies = [json.loads(b) for b in conn.execute(select(outbox.c.body).where(
            outbox.c.type == "advising.tasks_changed")).scalars()]
    [announced] = [t for b in bodies for t in b["data"]["tasks"]]
    assert announced["kind"] == "acknowledgement_follow_up" and announced["assignee"] == "T1010"


def test_without_a_head_teacher_the_counselor_covers_and_an_unknown_student_waits_for_the_roster():
    vacant = {"s1": Responsibles("s1", "机械2401", "机械", 2024, counselor_id="C2024", vice_dean_id="V0001")}
    [spec] = follow_up_tasks([entry("guardian")], vacant, AT)
    assert spec.assignee == "C2024" and spec.detail["covering_for"] == "head_teacher_id"
    with pytest.raises(NoResponsible):
        follow_up_tasks([entry("guardian")], {}, AT)


def test_the_task_is_closed_with_a_record_of_the_contact(engine):
    [task] = overdue(engine, [entry("guardian")])
    with UnitOfWork(engine, "advising", tables.MESSAGING, correlation_id="task") as uow:
        refused = handlers.close_task(uow, task["task_id"], "T1010", {"date": "2024-10-09"}, AT)
    assert refused["status"] == "rejected" and "channel" in refused["message"]
    with UnitOfWork(engine, "advising", tables.MESSAGING, correlation_id="task") as uow:
        closed = handlers.close_task(uow, task["task_id"], "T1010",
                                     {"channel": "phone", "date": "2024-10-09", "summary": "家长已收到通知书，当面补签"}, AT)
    assert closed["status"] == "closed"
    with engine.connect() as conn:
        assert queries.get_task(conn, task["task_id"])["status"] == "done"
