"""Delivery in batches (AQ_DELIVERY_HANDOVER_BATCH): one checkpoint statement and one statement for the outcomes per
batch, on SQLite and on the real PostgreSQL (whose hot statements go straight to the driver). The price is the
window of doubt: a sender stopped after a batch's checkpoint leaves exactly that batch unconfirmed, and every
notice never checkpointed is delivered again, once."""
from collections import Counter
from datetime import datetime, timedelta, timezone
from email import message_from_bytes, policy

import pytest
from sqlalchemy import insert, select, update

from services.notification import delivery, settings as settings_module, tables
from services.notification.channels.base import ABANDONED, FAILED_TEMPORARY, SENT, Channel, DeliveryResult
from services.notification.channels.email import EmailChannel
from services.notification.settings import NotificationSettings
from shared.db import engine_for
from tests.unit.notification.standins import SmtpStandIn

T0 = datetime(2024, 3, 5, 2, 0, tzinfo=timezone.utc)


class Killed(BaseException):
    """Stands for SIGKILL: nothing after it runs (not even `except Exception`)."""


class Clock:
    def __init__(self):
        self.at = T0

    def __call__(self):
        return self.at


class BatchChannel(Channel):
    """A channel that hands a whole batch over after one checkpoint, and can be told to die after sending
    ``die_after`` messages of its next batch."""
    name, address_field = "email", "email"

    def __init__(self):
        super().__init__({})
        self.delivered, self.checkpoints = [], []
        self.die_after: int | None = None
        self.before_checkpoint = self.after_checkpoint = lambda: None

    def deliver_batch(self, messages, checkpoint=None):
        keys = [m.key for m in messages]
        self.checkpoints.append(keys)
        self.before_checkpoint()
        held = set(checkpoint(keys))
        self.after_checkpoint()
        results = []
        for message in messages:
            if message.key not in held:
                results.append(DeliveryResult(ABANDONED, "taken over"))
                continue
            if self.die_after is not None and len(results) == self.die_after:
                self.die_after = None
                raise Killed()
            self.delivered.append(message.key)
            results.append(DeliveryResult(SENT, "ok", reference=f"ref-{message.key}"))
        return results


class OneByOne(Channel):
    """A channel with only ``deliver``, like the SMS and robot channels."""
    name, address_field = "email", "email"

    def __init__(self, fail_on: str):
        super().__init__({})
        self.fail_on, self.checkpoints, self.delivered = fail_on, [], []

    def deliver(self, message, checkpoint=None):
        self.checkpoints.append(message.key)
        if not self.pass_point_of_no_return(checkpoint):
            return DeliveryResult(ABANDONED, "taken over")
        if message.key == self.fail_on:
            raise RuntimeError("a bug after the hand-over")
        self.delivered.append(message.key)
        return DeliveryResult(SENT, "ok", reference=message.key)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.real)])
def engine(request, tmp_path):
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'n.sqlite'}"
    else:
        url = request.getfixturevalue("pg_url_template").replace("{service}", "notification")
    engine = engine_for("notification", url)
    tables.metadata.create_all(engine)
    return engine


def deliverer(engine, channel, handover_batch=3, concurrency=1, clock=None):
    settings = NotificationSettings(channels={"email": {}}, routes={}, lease_seconds=30, concurrency=concurrency,
                                    handover_batch=handover_batch)
    return delivery.Deliverer(engine, {"email": channel}, settings, clock or Clock(), rng=lambda: 0.5)


def add_notices(engine, count) -> tuple[list[str], dict]:
    """``count`` pending e-mail notices, claimed in order of their ids; (ids, contacts)."""
    rows = [dict(notice_id=f"N-{n:04d}", cause=f"warning:{n}", kind="warning_issued", recipient_kind="student",
                 recipient_id=f"2103{n:05d}", channel="email", subject=f"学业预警通知 {n}", text="同学你好：\n",
                 html="<p>同学你好：</p>", short_text=None, locale="zh", requires_acknowledgement=False,
                 status="pending", attempts=0, fallbacks=None, correlation_id="U-1", event_id="E-1",
                 created_at=T0 + timedelta(seconds=n)) for n in range(count)]
    with engine.begin() as conn:
        conn.execute(insert(tables.notices), rows)
    return [r["notice_id"] for r in rows], {r["recipient_id"]: {"email": f"s{r['recipient_id']}@stu.example.edu.cn"}
                                            for r in rows}


def run(deliverer, contacts) -> Counter:
    outcomes = Counter()
    while True:
        rows, token, unconfirmed = deliverer.claim()
        if not rows:
            if unconfirmed:
                continue
            return outcomes
        outcomes.update(deliverer.deliver(rows, token, contacts))


def states(engine) -> dict[str, tuple]:
    n = tables.notices
    with engine.connect() as conn:
        return {r.notice_id: (r.status, r.in_flight, r.attempts, r.provider_ref)
                for r in conn.execute(select(n.c.notice_id, n.c.status, n.c.in_flight, n.c.attempts, n.c.provider_ref))}


def test_a_sender_stopped_after_a_batch_checkpoint_leaves_exactly_that_batch_unconfirmed(engine):
    channel, clock = BatchChannel(), Clock()
    sender = deliverer(engine, channel, handover_batch=3, clock=clock)
    ids, contacts = add_notices(engine, 7)
    channel.die_after = 1                               # the first batch: checkpoint, one message out, then death
    with pytest.raises(Killed):
        run(sender, contacts)
    assert channel.checkpoints == [ids[:3]] and channel.delivered == [ids[0]]
    before = states(engine)
    assert {i for i, s in before.items() if s[:2] == ("sending", "handed_over")} == set(ids[:3])
    assert {i for i, s in before.items() if s[:2] == ("sending", "started")} == set(ids[3:])

    assert run(sender, contacts) == Counter()           # the dead sender's lease has not run out
    clock.at += timedelta(seconds=31)
    assert run(sender, contacts) == Counter({"sent": 4})
    after = states(engine)
    # The checkpointed batch may have reached the provider (one of it did): not sent again, left to staff.
    assert {i for i, s in after.items() if s[0] == "unconfirmed"} == set(ids[:3])
    # Every notice never checkpointed went out again, once, and was recorded with its reference.
    assert {i: s for i, s in after.items() if s[0] == "sent"} == {i: ("sent", None, 2, f"ref-{i}") for i in ids[3:]}
    assert sorted(channel.delivered) == sorted([ids[0]] + ids[3:])


def test_a_handover_batch_of_one_keeps_the_window_to_one_notice(engine):
    channel, clock = BatchChannel(), Clock()
    sender = deliverer(engine, channel, handover_batch=1, clock=clock)
    ids, contacts = add_notices(engine, 4)
    channel.die_after = 0                               # checkpoint passed, nothing out yet
    with pytest.raises(Killed):
        run(sender, contacts)
    clock.at += timedelta(seconds=31)
    run(sender, contacts)
    assert {i: s[0] for i, s in states(engine).items()} == {ids[0]: "unconfirmed", ids[1]: "sent", ids[2]: "sent",
                                                             ids[3]: "sent"}
    assert channel.checkpoints[0] == [ids[0]]


def test_notices_another_sender_took_over_are_left_to_it(engine):
    channel = BatchChannel()
    sender = deliverer(engine, channel, handover_batch=4)
    ids, contacts = add_notices(engine, 4)
    rows, token, _ = sender.claim()

    def taken_over():               # between the start of the attempts and the checkpoint, by another sender
        with engine.begin() as conn:
            conn.execute(update(tables.notices).where(tables.notices.c.notice_id.in_(ids[1:3]))
                         .values(claim_token="other-sender"))
    channel.before_checkpoint = taken_over
    assert sender.deliver(rows, token, contacts) == Counter({"sent": 2, "lost": 2})
    assert channel.delivered == [ids[0], ids[3]]
    after = states(engine)
    assert after[ids[1]] == after[ids[2]] == ("sending", "started", 1, None)     # untouched: the other sender's
    assert after[ids[0]][0] == after[ids[3]][0] == "sent"


def test_an_outcome_that_comes_after_a_take_over_is_still_recorded(engine):
    channel, clock = BatchChannel(), Clock()
    sender = deliverer(engine, channel, handover_batch=2, clock=clock)
    ids, contacts = add_notices(engine, 2)
    rows, token, _ = sender.claim()

    def slow():                     # this sender is slow past its lease: the next claim judges the batch in doubt
        clock.at += timedelta(seconds=31)
        assert sender.claim()[2] == 2
    channel.after_checkpoint = slow
    assert sender.deliver(rows, token, contacts) == Counter({"sent": 2})
    assert {s[0] for s in states(engine).values()} == {"sent"}      # we know better than "unconfirmed" now


def test_an_outcome_after_an_idempotent_take_over_is_left_to_the_new_sender(engine):
    channel, clock = BatchChannel(), Clock()
    channel.idempotent = True                       # the next claim takes the batch over and sends the same keys
    sender = deliverer(engine, channel, handover_batch=2, clock=clock)
    ids, contacts = add_notices(engine, 2)
    rows, token, _ = sender.claim()
    taken = []

    def slow():
        clock.at += timedelta(seconds=31)
        taken.extend(sender.claim()[:2])
    channel.after_checkpoint = slow
    assert sender.deliver(rows, token, contacts) == Counter({"lost": 2})
    with engine.connect() as conn:
        claims = set(conn.execute(select(tables.notices.c.claim_token)).scalars())
    assert claims == {taken[1]} and {s[0] for s in states(engine).values()} == {"sending"}


def test_batches_spread_over_the_workers_before_they_grow():
    settings = NotificationSettings(channels={}, routes={}, concurrency=8, handover_batch=20)
    sender = delivery.Deliverer(None, {"email": BatchChannel(), "sms": OneByOne(fail_on="")}, settings)

    def sizes(emails, sms=0):
        rows = [{"notice_id": f"E{n}", "channel": "email"} for n in range(emails)]
        rows += [{"notice_id": f"S{n}", "channel": "sms"} for n in range(sms)]
        batches = sender._batches(rows)
        assert all(len({r["channel"] for r in batch}) == 1 for batch in batches)      # one channel a batch
        return sorted((len(batch) for batch in batches), reverse=True)
    assert sizes(3) == [1, 1, 1]                        # a few notices go out side by side, never in one batch
    assert sizes(100) == [13] * 7 + [9]
    assert sizes(400) == [20] * 20                      # never more than AQ_DELIVERY_HANDOVER_BATCH
    # A channel that only implements deliver gets its notices one at a time, each recorded as soon as it is sent.
    assert sizes(16, sms=40) == [2] * 8 + [1] * 40


@pytest.mark.parametrize("pipelining", [False, True], ids=["plain", "pipelining"])
def test_real_smtp_a_batch_checkpointed_before_a_stop_is_unconfirmed_and_the_rest_arrive_once(engine, pipelining):
    with SmtpStandIn(pipelining=pipelining) as server:
        channel = EmailChannel({"smtp_url": server.url, "from": "jwb@college.example", "timeout": 5})
        clock = Clock()
        sender = deliverer(engine, channel, handover_batch=3, clock=clock)
        ids, contacts = add_notices(engine, 7)
        hand_over = sender._hand_over

        def stop_after_the_first_checkpoint(keys, token):
            sender._hand_over = hand_over
            hand_over(keys, token)
            raise Killed()
        sender._hand_over = stop_after_the_first_checkpoint
        with pytest.raises(Killed):
            run(sender, contacts)
        assert server.received == []                    # stopped before the first final "."
        clock.at += timedelta(seconds=31)
        assert run(sender, contacts) == Counter({"sent": 4})
        arrived = [message_from_bytes(raw, policy=policy.default)["Message-ID"] for _, _, raw in server.received]
    after = states(engine)
    assert {i for i, s in after.items() if s[0] == "unconfirmed"} == set(ids[:3])
    assert sorted(arrived) == sorted(channel.message_id(i) for i in ids[3:])        # each once
    assert {after[i][3] for i in ids[3:]} == {channel.message_id(i) for i in ids[3:]}


def test_a_channel_with_only_deliver_keeps_one_checkpoint_and_one_outcome_per_notice(engine):
    ids, contacts = add_notices(engine, 3)
    channel = OneByOne(fail_on=ids[1])
    sender = deliverer(engine, channel, handover_batch=3)
    assert not channel.hands_over_batches() and BatchChannel.hands_over_batches()
    statements = []
    hand_over, record_sent = sender._hand_over, sender._record_sent
    sender._hand_over = lambda keys, token: statements.append(("hand over", list(keys))) or hand_over(keys, token)
    sender._record_sent = lambda refs, *args: statements.append(("sent", list(refs))) or record_sent(refs, *args)
    assert run(sender, contacts) == Counter({"sent": 2, "unconfirmed": 1})
    assert statements == [("hand over", [ids[0]]), ("sent", [ids[0]]), ("hand over", [ids[1]]),
                          ("hand over", [ids[2]]), ("sent", [ids[2]])]
    assert channel.delivered == [ids[0], ids[2]]
    # The bug came after its hand-over: the provider may have it, so it is in doubt, not retried; the notices after
    # it went out regardless.
    assert states(engine)[ids[1]][0] == "unconfirmed"


def test_the_default_batch_turns_a_bug_before_the_hand_over_into_a_retry():
    class Buggy(Channel):
        name = "buggy"

        def deliver(self, message, checkpoint=None):
            raise KeyError("address")
    results = Buggy().deliver_batch([delivery.OutgoingMessage("k1", "r", "s", "t", "h")], lambda keys: keys)
    assert [(r.status, r.in_doubt) for r in results] == [(FAILED_TEMPORARY, False)]
    assert "KeyError" in results[0].detail


def test_the_handover_batch_is_a_setting_of_at_least_one():
    assert settings_module.load({}).handover_batch == 20
    assert settings_module.load({"AQ_DELIVERY_HANDOVER_BATCH": "1"}).handover_batch == 1
    assert settings_module.load({"AQ_DELIVERY_HANDOVER_BATCH": "0"}).handover_batch == 1
