"""Several notification instances run the reminder timer at once on PostgreSQL: every request is reminded once and
handed to the head teacher once — rows are claimed with FOR UPDATE SKIP LOCKED and the effect commits with the
claim (real PostgreSQL, no broker; the two "instances" are two green threads with their own connections)."""
import json
from collections import Counter
from datetime import timedelta

import eventlet
import pytest
from sqlalchemy import select

from services.notification import acknowledgements, handlers, tables
from services.notification.domain.ack_policy import AckSettings
from services.notification.domain.recipients import People
from services.notification.domain.routing import routes_by_kind
from services.notification.settings import NotificationSettings
from shared.db import engine_for
from shared.messaging.store import StoreAccess
from tests.unit.notification.test_ack_flow import SHANGHAI, T0, change

pytestmark = [pytest.mark.real]

STUDENTS = [f"2103{n:05d}" for n in range(40)]


def test_two_instances_remind_and_hand_over_each_request_exactly_once(pg_url_template):
    engine = engine_for("notification", pg_url_template.replace("{service}", "notification"))
    tables.metadata.create_all(engine)
    settings = NotificationSettings(channels={"in_app": {}, "email": {}}, routes=routes_by_kind(), zone=SHANGHAI,
                                    acknowledgement=AckSettings(secret="s", batch_size=7))
    changes = [{**change(change_id=f"chg-{sid}"), "student_id": sid} for sid in STUDENTS]
    event = {"id": "E-1", "type": "warnings.changed", "correlation_id": "U-1", "data": {"changes": changes}}
    people = {sid: People(student_id=sid, student_name="学生", head_teacher_id="T1") for sid in STUDENTS}
    with StoreAccess(engine, "notification", tables.MESSAGING, "on_warnings_changed").handling(event) as uow:
        handlers.on_warning_changes(uow, event, people, settings, {"in_app", "email"}, T0)
    command = StoreAccess(engine, "notification", tables.MESSAGING, None).command

    def instance():
        return acknowledgements.due_reminders(engine, command, settings, {"in_app", "email"}, T0 + timedelta(days=8))

    pool = eventlet.GreenPool(2)
    results = list(pool.imap(lambda _: instance(), range(2)))     # both raise nothing (no unique-key clash)

    assert sum(r["reminded"] for r in results) == 2 * len(STUDENTS)
    assert sum(r["overdue"] for r in results) == 2 * len(STUDENTS)
    with engine.connect() as conn:
        reminders = conn.execute(select(tables.notices.c.cause, tables.notices.c.recipient_id,
                                        tables.notices.c.channel)
                                 .where(tables.notices.c.kind == "acknowledgement_reminder")).all()
        outbox = [json.loads(r.body) for r in conn.execute(select(tables.MESSAGING[0]))
                  if r.type == "notification.acknowledgement_overdue"]
        requests = conn.execute(select(tables.acknowledgements)).mappings().all()
    assert len(reminders) == len(set(reminders)) == 3 * len(STUDENTS)     # student in-app + e-mail, guardian e-mail
    entries = Counter((e["change_id"], e["recipient_kind"]) for ev in outbox for e in ev["data"]["acknowledgements"])
    assert len(entries) == 2 * len(STUDENTS) and set(entries.values()) == {1}
    assert all(r["reminded_at"] is not None and r["overdue_at"] is not None for r in requests)
    assert instance() == {"reminded": 0, "overdue": 0}
