"""The delivery state machine on a real SQLite file, with scripted channels and an injected clock (no broker):
retries with backoff, fallback, quiet hours, rate limits, exactly-once after a sender dies, outcome events."""
import json
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from services.notification import delivery, handlers, tables
from services.notification.channels.base import (
    ABANDONED, FAILED_PERMANENT, FAILED_TEMPORARY, SENT, Channel, DeliveryResult,
)
from services.notification.domain.recipients import People
from services.notification.domain.routing import routes_by_kind
from services.notification.domain.schedule import RateLimits, RetryPolicy, parse_quiet_hours
from services.notification.settings import NotificationSettings
from shared.db import engine_for
from shared.messaging.store import StoreAccess

SHANGHAI = ZoneInfo("Asia/Shanghai")
PEOPLE = People(student_id="210301001", student_name="张三", class_name="机械2101", major="机械设计制造及其自动化",
                head_teacher_id="T1001", counselor_id="C2021", department_head_id="D0301", vice_dean_id="V0001")
CONTACTS = {"210301001": {"email": "s210301001@stu.example.edu.cn", "phone": "15664130526"},
            "guardian:210301001": {"email": "p210301001@family.example.com", "phone": "18710026086"},
            "C2021": {"email": "c2021@college.example.edu.cn", "phone": "13932868828"}}


class Killed(BaseException):
    """Stands for SIGKILL: nothing after it runs (not even `except Exception`)."""


class Scripted(Channel):
    """A channel that answers from a script: sent | temporary | permanent | in_doubt | die_before | die_after."""

    def __init__(self, name, address_field, idempotent=False, inbox=False):
        super().__init__({})
        self.name, self.address_field, self.idempotent, self.inbox = name, address_field, idempotent, inbox
        self.requires_address = address_field is not None
        self.script = {}                # recipient id -> the answers to its next calls
        self.calls, self.delivered = [], []

    def deliver(self, message, checkpoint=None):
        self.calls.append(message)
        steps = self.script.get(message.recipient_id) or []
        step = steps.pop(0) if steps else "sent"
        if step == "die_before":
            raise Killed()
        if step == "temporary":
            return DeliveryResult(FAILED_TEMPORARY, "451 try later")
        if step == "permanent":
            return DeliveryResult(FAILED_PERMANENT, f"550 no such user {message.address}")
        if not self.pass_point_of_no_return(checkpoint):
            return DeliveryResult(ABANDONED, "taken over")
        self.delivered.append(message.key)
        if step == "die_after":
            raise Killed()
        if step == "in_doubt":
            return DeliveryResult(FAILED_TEMPORARY, "timed out waiting for the reply", in_doubt=True)
        return DeliveryResult(SENT, "ok", reference=f"ref-{message.key}")


class Clock:
    def __init__(self, at):
        self.at = at

    def __call__(self):
        return self.at

    def advance(self, **delta):
        self.at += timedelta(**delta)


@pytest.fixture
def world(tmp_path):
    engine = engine_for("notification", f"sqlite:///{tmp_path / 'n.sqlite'}")
    tables.metadata.create_all(engine)
    channels = {"in_app": Scripted("in_app", None, idempotent=True, inbox=True),
                "email": Scripted("email", "email"),
                "sms": Scripted("sms", "phone", idempotent=True)}
    settings = NotificationSettings(channels={n: {} for n in channels}, routes=routes_by_kind(),
                                    quiet_hours=parse_quiet_hours("guardian:sms=22:00-07:00"),
                                    retry=RetryPolicy(base=10, max_delay=100, max_attempts=3), lease_seconds=30,
                                    zone=SHANGHAI)
    clock = Clock(datetime(2024, 3, 5, 10, 0, tzinfo=SHANGHAI))
    store = StoreAccess(engine, "notification", tables.MESSAGING, "on_warnings_changed")
    deliverer = delivery.Deliverer(engine, channels, settings, clock, rng=lambda: 0.5)
    return engine, channels, settings, clock, store, deliverer


def warning_event(student="210301001", level="orange", kind="issued", event_id="E-1", change_id="chg-1"):
    change = {"change_id": change_id, "student_id": student, "semester": "2023-2024-1", "kind": kind,
              "old_level": "none", "new_level": level, "escalated": False, "policy_version": "1",
              "reasons": [{"rule": "unresolved_failed_credits", "level": level, "measure": 16.0, "threshold": 15.0,
                           "comparison": ">=", "courses": []}]}
    return {"id": event_id, "type": "warnings.changed", "version": 1, "correlation_id": "U-1",
            "data": {"changes": [change]}}


def decide(world, event=None):
    engine, channels, settings, clock, store, _ = world
    with store.handling(event or warning_event()) as uow:
        return handlers.on_warning_changes(uow, event or warning_event(), {"210301001": PEOPLE}, settings, channels,
                                           clock().astimezone(timezone.utc))


def run(world, contacts=CONTACTS):
    """One delivery pass, as the service does it."""
    *_, deliverer = world
    outcomes = []
    while True:
        rows, token, unconfirmed = deliverer.claim()
        if not rows:
            if unconfirmed:
                continue
            return outcomes
        outcomes += list(deliverer.deliver(rows, token, contacts).elements())


def notices(world):
    engine = world[0]
    with engine.connect() as conn:
        return {(r["recipient_kind"], r["channel"]): dict(r)
                for r in conn.execute(select(tables.notices)).mappings()}


def test_each_recipient_gets_the_first_channel_of_each_route(world):
    assert decide(world) == 5
    assert decide(world, warning_event(event_id="E-2")) == 0     # the same change in another event: nothing new
    rows = notices(world)
    assert set(rows) == {("student", "in_app"), ("student", "email"), ("guardian", "sms"),
                         ("counselor", "in_app"), ("counselor", "email")}
    assert rows[("guardian", "sms")]["fallbacks"] == "email"
    assert "210301001" in rows[("guardian", "sms")]["short_text"]
    assert all(r["status"] == "pending" for r in rows.values())


def test_delivered_notices_are_sent_once_and_in_app_lands_in_the_inbox(world):
    engine, channels, *_ = world
    decide(world)
    assert sorted(run(world)) == ["sent"] * 5
    assert run(world) == []                     # nothing left to do
    rows = notices(world)
    assert {r["status"] for r in rows.values()} == {"sent"}
    assert rows[("student", "email")]["provider_ref"] == f"ref-{rows[('student', 'email')]['notice_id']}"
    assert [m.address for m in channels["sms"].calls] == ["18710026086"]
    with engine.connect() as conn:
        inbox = conn.execute(select(tables.inbox)).mappings().all()
    assert sorted(r["recipient_id"] for r in inbox) == ["210301001", "C2021"]


def test_a_temporary_failure_is_retried_after_a_backoff(world):
    engine, channels, settings, clock, *_ = world
    channels["email"].script = {"210301001": ["temporary"]}
    decide(world)
    run(world)
    email = notices(world)[("student", "email")]
    assert (email["status"], email["attempts"], email["last_error"]) == ("pending", 1, "451 try later")
    due = email["next_attempt_at"].replace(tzinfo=timezone.utc)
    assert due == clock().astimezone(timezone.utc) + timedelta(seconds=7.5)    # base 10, jitter factor 0.75
    assert run(world) == []                     # not due yet
    clock.advance(seconds=8)
    assert run(world) == ["sent"]
    assert notices(world)[("student", "email")]["attempts"] == 2


def test_a_permanent_failure_falls_back_at_once_to_the_next_channel(world):
    engine, channels, *_ = world
    channels["sms"].script = {"guardian:210301001": ["permanent"]}
    decide(world)
    run(world)
    rows = notices(world)
    sms, email = rows[("guardian", "sms")], rows[("guardian", "email")]
    assert sms["status"] == "failed" and sms["attempts"] == 1
    assert "18710026086" not in sms["last_error"]
    assert (email["status"], email["fallback_of"], email["fallbacks"]) == ("sent", sms["notice_id"], None)
    assert [m.address for m in channels["email"].calls if m.recipient_id.startswith("guardian")] == [
        "p210301001@family.example.com"]


def test_running_out_of_retries_fails_and_falls_back(world):
    engine, channels, settings, clock, *_ = world
    channels["sms"].script = {"guardian:210301001": ["temporary"] * 3}
    decide(world)
    for _ in range(3):
        run(world)
        clock.advance(minutes=5)
    rows = notices(world)
    assert rows[("guardian", "sms")]["status"] == "failed" and rows[("guardian", "sms")]["attempts"] == 3
    assert "gave up after 3 attempts" in rows[("guardian", "sms")]["last_error"]
    assert rows[("guardian", "email")]["status"] == "sent"


def test_no_address_in_the_roster_is_permanent_and_falls_back(world):
    decide(world)
    contacts = {**CONTACTS, "guardian:210301001": {"email": "p210301001@family.example.com", "phone": None}}
    run(world, contacts)
    rows = notices(world)
    assert rows[("guardian", "sms")]["status"] == "failed"
    assert "no phone" in rows[("guardian", "sms")]["last_error"]
    assert rows[("guardian", "email")]["status"] == "sent"


def test_guardian_sms_is_held_in_quiet_hours_and_sent_in_the_morning(world):
    engine, channels, settings, clock, *_ = world
    clock.at = datetime(2024, 3, 5, 23, 15, tzinfo=SHANGHAI)
    decide(world)
    run(world)
    rows = notices(world)
    sms = rows[("guardian", "sms")]
    assert sms["status"] == "held" and sms["attempts"] == 0
    assert sms["next_attempt_at"].replace(tzinfo=timezone.utc) == datetime(2024, 3, 6, 7, 0, tzinfo=SHANGHAI)
    assert rows[("student", "email")]["status"] == "sent"          # quiet hours are for guardians' SMS only
    with engine.connect() as conn:
        assert delivery.pending_count(conn, "U-1") == 4           # sent, but their outcomes not announced yet
    world[-1].announce(world[4].command)
    with engine.connect() as conn:
        assert delivery.pending_count(conn, "U-1") == 0           # a held notice does not keep an upload open
    clock.at = datetime(2024, 3, 6, 6, 59, tzinfo=SHANGHAI)
    assert run(world) == []
    clock.at = datetime(2024, 3, 6, 7, 0, tzinfo=SHANGHAI)
    assert run(world) == ["sent"]
    assert channels["sms"].calls[-1].recipient_id == "guardian:210301001"


def test_a_rate_limited_channel_defers_without_spending_an_attempt(world):
    engine, channels, settings, clock, store, deliverer = world
    deliverer.limits = RateLimits({"email": 1})
    decide(world)
    run(world)
    rows = notices(world)
    emails = [r for (kind, ch), r in rows.items() if ch == "email"]
    assert sorted(r["status"] for r in emails) == ["pending", "sent"]
    waiting = next(r for r in emails if r["status"] == "pending")
    assert waiting["attempts"] == 0
    clock.advance(seconds=61)
    assert run(world) == ["sent"]


def test_a_sender_killed_before_the_point_of_no_return_is_simply_repeated(world):
    engine, channels, settings, clock, *_ = world
    channels["email"].script = {"210301001": ["die_before"]}
    decide(world)
    with pytest.raises(Killed):
        run(world)
    killed = notices(world)[("student", "email")]
    assert (killed["status"], killed["in_flight"], killed["attempts"]) == ("sending", "started", 1)
    assert run(world) == []                     # its lease has not run out
    clock.advance(seconds=31)
    run(world)
    assert {r["status"] for r in notices(world).values()} == {"sent"}
    assert len(channels["email"].delivered) == 2        # two e-mails (two recipients), each once


def test_a_sender_killed_after_handing_over_is_not_repeated_unless_the_channel_is_idempotent(world):
    engine, channels, settings, clock, store, deliverer = world
    channels["email"].script = {"210301001": ["die_after"]}
    channels["sms"].script = {"guardian:210301001": ["die_after"]}
    decide(world)
    kills = 0
    for _ in range(4):
        try:
            run(world)
        except Killed:
            kills += 1
        clock.advance(seconds=31)             # the dead sender's lease runs out
    assert kills == 2
    rows = notices(world)
    dead_email = next(r for r in rows.values() if r["channel"] == "email" and r["status"] != "sent")
    assert dead_email["status"] == "unconfirmed" and "may or may not" in dead_email["last_error"]
    # E-mail: the killed one was delivered once and never again; SMS: resent with the same key (the gateway dedupes).
    assert channels["email"].delivered.count(dead_email["notice_id"]) == 1
    sms = rows[("guardian", "sms")]
    assert sms["status"] == "sent" and channels["sms"].delivered == [sms["notice_id"]] * 2
    assert [m.key for m in channels["sms"].calls] == [sms["notice_id"]] * 2
    assert delivery.resend(engine, rows[("student", "in_app")]["notice_id"], clock())["status"] == "rejected"
    assert delivery.resend(engine, dead_email["notice_id"], clock())["status"] == "queued"   # staff decided
    run(world)
    assert notices(world)[("student", "email")]["status"] == "sent"


def test_no_answer_after_handing_over_is_unconfirmed_for_email_and_retried_for_idempotent_sms(world):
    engine, channels, settings, clock, *_ = world
    channels["email"].script = {"210301001": ["in_doubt"]}
    channels["sms"].script = {"guardian:210301001": ["in_doubt"]}
    decide(world)
    run(world)
    rows = notices(world)
    assert rows[("student", "email")]["status"] == "unconfirmed"
    assert rows[("guardian", "sms")]["status"] == "pending"
    clock.advance(seconds=10)
    run(world)
    assert notices(world)[("guardian", "sms")]["status"] == "sent"


def test_a_sender_that_lost_its_claim_stops_before_the_point_of_no_return(world):
    engine, channels, settings, clock, store, deliverer = world
    decide(world)
    rows, token, _ = deliverer.claim()
    clock.advance(seconds=31)                              # the lease runs out: another sender takes over
    other_rows, other_token, _ = deliverer.claim()
    assert {r["notice_id"] for r in other_rows} == {r["notice_id"] for r in rows}
    assert set(deliverer.deliver(rows, token, CONTACTS)) == {"lost"}
    assert channels["email"].delivered == [] and channels["sms"].delivered == []
    assert set(deliverer.deliver(other_rows, other_token, CONTACTS)) == {"sent"}


def test_outcomes_are_announced_once_in_batches_without_contacts(world):
    engine, channels, settings, clock, store, deliverer = world
    channels["sms"].script = {"guardian:210301001": ["permanent"]}
    decide(world)
    run(world)
    assert deliverer.announce(store.command) == 6
    assert deliverer.announce(store.command) == 0
    with engine.connect() as conn:
        bodies = [r.body for r in conn.execute(select(tables.MESSAGING[0].c.body))]
    assert len(bodies) == 1
    event = json.loads(bodies[0])
    assert event["type"] == "notification.deliveries_recorded" and event["correlation_id"] == "U-1"
    outcomes = {(d["recipient_kind"], d["channel"], d["status"]) for d in event["data"]["deliveries"]}
    assert ("guardian", "sms", "failed") in outcomes and ("guardian", "email", "sent") in outcomes
    email = next(d for d in event["data"]["deliveries"] if d["channel"] == "email" and d["recipient_kind"] == "guardian")
    assert email["fallback_of"] is not None
    for contact in CONTACTS.values():
        assert contact["email"] not in bodies[0] and contact["phone"] not in bodies[0]
