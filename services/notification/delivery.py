"""The notification service layer, delivering side: claim due notices, hand them to their channels, record what
happened, fall back, retry, hold, and announce the outcomes.

Exactly once per (cause, recipient, channel), even if a sender is killed:

1. ``claim`` takes due notices with a lease and a claim token (FOR UPDATE SKIP LOCKED on PostgreSQL), so two
   workers or instances never hand over the same notice at the same time.
2. Before calling the provider, the attempt is recorded (``in_flight = started``, attempts + 1) and committed.
3. A channel gets its notices in hand-over batches (``_batches``: one channel, at most AQ_DELIVERY_HANDOVER_BATCH).
   Right before the batch's first point of no return it passes the batch's checkpoint: ``in_flight = handed_over``
   is committed for every notice of the batch not finished yet, in one statement — for those this sender still
   holds; the channel sends only those. A channel that cannot hand several messages over at once (SMS, robots:
   ``Channel.hands_over_batches``) gets batches of one notice, each with its own checkpoint and outcome, as before.
4. The outcomes are recorded (guarded by the claim token): the batch's sent notices in one statement, any other
   outcome one by one; an in-app delivery writes the inbox row in the same transaction.

A sender that dies leaves its notices ``sending`` until the lease runs out. Then the next claim looks at
``in_flight``: never started or only ``started`` -> nothing reached the provider, deliver again; ``handed_over`` ->
the provider may have it: deliver again only if the channel is idempotent (the provider recognises the same key),
otherwise mark it ``unconfirmed`` and leave it to staff (`aq notices list --failed`, `aq notices resend`). The same
holds for an answer lost after the hand-over (a timeout waiting for the reply): ``in_doubt``.

The window of doubt is the hand-over batch: a sender that dies after a batch's checkpoint leaves all of its notices
not yet recorded ``handed_over``, some of which the provider has and some it never got; non-idempotent channels then
mark them all unconfirmed. AQ_DELIVERY_HANDOVER_BATCH=1 narrows that to one notice, at one statement per notice
more; its default (20) cuts the statements per e-mail from two to about 0.1 (docs/notifications.md).
"""
from __future__ import annotations

import logging
import random
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any, Callable, Iterable, Sequence

from sqlalchemy import and_, bindparam, func, insert, or_, select, update

from services.notification import acknowledgements, tables
from services.notification.channels.base import (
    ABANDONED, FAILED_PERMANENT, FAILED_TEMPORARY, SENT, Channel, DeliveryResult, OutgoingMessage,
)
from services.notification.domain.redact import mask, redact
from services.notification.domain.schedule import RateLimits, quiet_until
from services.notification.settings import NotificationSettings
from shared.db import autocommit_engine, is_postgres

log = logging.getLogger(__name__)

PENDING, HELD, SENDING = "pending", "held", "sending"
SENT_STATUS, FAILED, UNCONFIRMED = "sent", "failed", "unconfirmed"
TERMINAL = (SENT_STATUS, FAILED, UNCONFIRMED)
STARTED, HANDED_OVER = "started", "handed_over"


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


def _aware(value: datetime | None) -> datetime | None:
    if value is not None and value.tzinfo is None:     # SQLite gives naive datetimes back (stored as UTC)
        return value.replace(tzinfo=timezone.utc)
    return value


@dataclass
class Deliverer:
    engine: Any
    channels: dict[str, Channel]
    settings: NotificationSettings
    clock: Callable[[], datetime] = utc_now
    rng: Callable[[], float] = random.random
    limits: RateLimits = field(default_factory=lambda: RateLimits({}))

    def now(self) -> datetime:
        return self.clock().astimezone(timezone.utc)

    @property
    def idempotent(self) -> set[str]:
        return {name for name, channel in self.channels.items() if channel.idempotent}

    # --- claiming -----------------------------------------------------------------------------------------------

    def claim(self, correlation_id: str | None = None) -> tuple[list[dict], str, int]:
        """(notices to deliver now, their claim token, how many in-doubt notices were marked unconfirmed)."""
        n = tables.notices
        now = self.now()
        due = or_(and_(n.c.status.in_((PENDING, HELD)),
                       or_(n.c.next_attempt_at.is_(None), n.c.next_attempt_at <= now)),
                  and_(n.c.status == SENDING, n.c.lease_until < now))
        query = select(n).where(due).order_by(n.c.created_at, n.c.notice_id).limit(self.settings.batch_size)
        if correlation_id:
            query = query.where(n.c.correlation_id == correlation_id)
        token = uuid.uuid4().hex
        idempotent = self.idempotent
        with self.engine.begin() as conn:
            if is_postgres(self.engine):
                query = query.with_for_update(skip_locked=True)
            rows = [dict(r) for r in conn.execute(query).mappings()]
            in_doubt = [r for r in rows if r["status"] == SENDING and r["in_flight"] == HANDED_OVER
                        and r["channel"] not in idempotent]
            claimed = [r for r in rows if r not in in_doubt]
            for row in in_doubt:
                log.warning("notice %s (%s) was handed over when its sender stopped; not sending it again",
                            row["notice_id"], row["channel"])
                conn.execute(update(n).where(n.c.notice_id == row["notice_id"]).values(
                    status=UNCONFIRMED, lease_until=None, claim_token=None, announced=False,
                    last_error="the sender stopped after handing it over; the provider may or may not have it"))
            if claimed:
                conn.execute(update(n).where(n.c.notice_id.in_([r["notice_id"] for r in claimed])).values(
                    status=SENDING, claim_token=token,
                    lease_until=now + timedelta(seconds=self.settings.lease_seconds)))
        return claimed, token, len(in_doubt)

    def release(self, rows: Iterable[dict], token: str) -> None:
        """Give claimed notices back untouched (e.g. the roster did not answer)."""
        n = tables.notices
        ids = [r["notice_id"] for r in rows]
        if not ids:
            return
        with self.engine.begin() as conn:
            conn.execute(update(n).where(n.c.notice_id.in_(ids), n.c.claim_token == token,
                                         n.c.in_flight.is_(None) | (n.c.in_flight != HANDED_OVER))
                         .values(status=PENDING, lease_until=None, claim_token=None))

    # --- delivering ---------------------------------------------------------------------------------------------

    def deliver(self, rows: list[dict], token: str, contacts: dict[str, dict],
                pool_map: Callable = map) -> Counter:
        """Hand the claimed notices to their channels (``pool_map`` may run them concurrently). In-app notices that no
        quiet hours or rate limit hold back go into their inboxes together (``_into_inboxes``); the others nothing
        holds back go to their channels in batches (``_batches``); deliver_one takes the rest."""
        now = self.now()
        together = [row for row in rows if self._straight_to_inbox(row, now)]
        outcomes = self._into_inboxes(together, token, now) if together else Counter()
        taken = {row["notice_id"] for row in together}
        rest = [row for row in rows if row["notice_id"] not in taken]
        # Notices nothing holds back start their attempt together (one transaction instead of one each).
        ready = {row["notice_id"]: address for row in rest
                 if (address := self._ready_address(row, contacts.get(row["recipient_id"]), now)) is not False}
        started = self._start_attempts([row for row in rest if row["notice_id"] in ready], token, now)
        batches = self._batches([row for row in rest if row["notice_id"] in started])

        def one(work: list[dict] | dict) -> list[str]:
            if isinstance(work, list):
                return self._attempt(work, token, self.channels[work[0]["channel"]], ready)
            return [self.deliver_one(work, token, contacts.get(work["recipient_id"]))]
        for done in pool_map(one, batches + [row for row in rest if row["notice_id"] not in started]):
            outcomes.update(done)
        return outcomes

    def _batches(self, rows: list[dict]) -> list[list[dict]]:
        """Started notices in batches of one channel, each handed over with one checkpoint and recorded with one
        statement. Spread over the workers first (a batch goes out one message after the other, so a few messages
        go out side by side), then up to AQ_DELIVERY_HANDOVER_BATCH each: the most a sender's death leaves in doubt.
        A channel that hands over one message at a time gets batches of one."""
        by_channel: dict[str, list[dict]] = {}
        for row in rows:
            by_channel.setdefault(row["channel"], []).append(row)
        batches = []
        for name, group in by_channel.items():
            size = 1
            if self.channels[name].hands_over_batches():
                size = max(1, min(self.settings.handover_batch, -(-len(group) // self.settings.concurrency)))
            batches += [group[i:i + size] for i in range(0, len(group), size)]
        return batches

    def _ready_address(self, row: dict, contact: dict | None, now: datetime):
        """The address (None for a channel without) of a notice deliver_one would attempt right away, or False
        when it would not (no such channel, quiet hours, a rate limit, no address): deliver_one handles those."""
        channel = self.channels.get(row["channel"])
        if channel is None or row["channel"] in self.limits.buckets or quiet_until(
                self.settings.quiet_hours, now, self.settings.zone, row["recipient_kind"], row["channel"]) is not None:
            return False
        address = (contact or {}).get(channel.address_field) if channel.address_field else None
        if channel.requires_address and channel.address_field and not address:
            return False
        return address

    def _start_attempts(self, rows: list[dict], token: str, now: datetime) -> set[str]:
        """deliver_one's "started" mark for many notices at once, in one statement; returns the ids this sender
        still held."""
        if not rows:
            return set()
        with self._single_statement() as conn:
            return set(conn.execute(_START, {"b_ids": [r["notice_id"] for r in rows], "b_token": token,
                                             "b_now": now}).scalars())

    def _straight_to_inbox(self, row: dict, now: datetime) -> bool:
        channel = self.channels.get(row["channel"])
        return (channel is not None and channel.inbox and row["channel"] not in self.limits.buckets
                and quiet_until(self.settings.quiet_hours, now, self.settings.zone, row["recipient_kind"],
                                row["channel"]) is None)

    def _into_inboxes(self, rows: list[dict], token: str, now: datetime) -> Counter:
        """Deliver in-app notices in ONE transaction: delivering one is writing its inbox row in the transaction
        that records it sent, so there is no hand-over to guard, and the rows and values are the ones deliver_one
        writes notice by notice (three transactions each; with thousands of notices that dominated the service's
        time, benchmarks/README.md). Notices this sender no longer holds are left alone ("lost")."""
        n, i = tables.notices, tables.inbox
        with self.engine.begin() as conn:
            held = select(n.c.notice_id).where(n.c.notice_id.in_([r["notice_id"] for r in rows]),
                                              n.c.claim_token == token, n.c.status == SENDING)
            if is_postgres(self.engine):
                held = held.with_for_update()
            mine = set(conn.execute(held).scalars())
            if mine:
                conn.execute(update(n).where(n.c.notice_id.in_(sorted(mine))).values(
                    status=SENT_STATUS, sent_at=now, attempts=n.c.attempts + 1, attempt_started_at=now,
                    handed_over_at=None, in_flight=None, lease_until=None, claim_token=None, last_error=None,
                    provider_ref=n.c.notice_id, announced=False))
                present = set(conn.execute(select(i.c.notice_id).where(i.c.notice_id.in_(sorted(mine)))).scalars())
                new = [{"notice_id": r["notice_id"], "recipient_id": r["recipient_id"], "subject": r["subject"],
                        "text": r["text"], "created_at": now} for r in rows if r["notice_id"] in mine - present]
                if new:
                    conn.execute(insert(i), new)
        log.info("%d in-app notices put in their inboxes", len(mine))
        return Counter(SENT_STATUS if row["notice_id"] in mine else "lost" for row in rows)

    def deliver_one(self, row: dict, token: str, contact: dict | None) -> str:
        n = tables.notices
        guard = and_(n.c.notice_id == row["notice_id"], n.c.claim_token == token)
        channel = self.channels.get(row["channel"])
        now = self.now()
        if channel is None:
            return self._record(row, token, DeliveryResult(FAILED_PERMANENT, f"channel {row['channel']!r} is not enabled"),
                                attempts=row["attempts"])
        held = quiet_until(self.settings.quiet_hours, now, self.settings.zone, row["recipient_kind"], row["channel"])
        if held is not None:
            with self.engine.begin() as conn:
                conn.execute(update(n).where(guard).values(status=HELD, next_attempt_at=held.astimezone(timezone.utc),
                                                           lease_until=None, claim_token=None))
            return "held"
        wait = self.limits.wait(row["channel"], now.timestamp())
        if wait > 0:
            with self.engine.begin() as conn:
                conn.execute(update(n).where(guard).values(status=PENDING, next_attempt_at=now + timedelta(seconds=wait),
                                                           lease_until=None, claim_token=None))
            return "deferred"
        address = (contact or {}).get(channel.address_field) if channel.address_field else None
        if channel.requires_address and channel.address_field and not address:
            return self._record(row, token, DeliveryResult(
                FAILED_PERMANENT, f"no {channel.address_field} for {row['recipient_id']} in the roster"),
                attempts=row["attempts"])
        with self.engine.begin() as conn:
            started = conn.execute(update(n).where(guard, n.c.status == SENDING).values(
                attempts=row["attempts"] + 1, in_flight=STARTED, attempt_started_at=now, handed_over_at=None)).rowcount
        if not started:
            return "lost"        # another sender took it over (our lease ran out)
        return self._attempt([row], token, channel, {row["notice_id"]: address})[0]

    def _attempt(self, rows: list[dict], token: str, channel: Channel, addresses: dict[str, str | None]) -> list[str]:
        """Hand started notices of one channel to it as one batch and record the outcomes."""
        messages = [OutgoingMessage(key=row["notice_id"], recipient_id=row["recipient_id"], subject=row["subject"],
                                    text=row["text"], html=row["html"], address=addresses[row["notice_id"]],
                                    short=row.get("short_text") or "", recipient_kind=row["recipient_kind"],
                                    locale=row.get("locale") or "zh")
                    for row in rows]
        handed_over: set[str] = set()

        def checkpoint(keys: Sequence[str]) -> set[str]:
            held = self._hand_over(keys, token)
            handed_over.update(held)
            return held
        try:
            results = channel.deliver_batch(messages, checkpoint)
            if len(results) != len(messages):
                raise ValueError(f"{len(results)} results for {len(messages)} messages")
        except Exception as error:          # a channel bug must not lose the notices: try again later
            log.exception("channel %s failed on notices %s", channel.name, ", ".join(m.key for m in messages))
            results = [DeliveryResult(FAILED_TEMPORARY, f"{type(error).__name__}: {redact(str(error))}",
                                      in_doubt=message.key in handed_over) for message in messages]
        for row, message, result in zip(rows, messages, results):
            log.info("notice %s via %s to %s (%s): %s %s", row["notice_id"], row["channel"], row["recipient_id"],
                     mask(message.address) if message.address else "-", result.status, redact(result.detail))
        return self._record_batch(rows, token, results)

    def _hand_over(self, keys: Sequence[str], token: str) -> set[str]:
        """The checkpoint: durably 'handed over' (and held a lease longer) — the notices among ``keys`` this sender
        still holds, in one statement; those are returned."""
        if not keys:
            return set()
        now = self.now()
        params = {"ids": list(keys), "token": token, "now": now,
                  "lease": now + timedelta(seconds=self.settings.lease_seconds)}
        if is_postgres(self.engine):
            return {notice_id for notice_id, in self._through_driver(_HAND_OVER_SQL, params)}
        with self.engine.begin() as conn:
            return set(conn.execute(_HAND_OVER, params).scalars())

    def _single_statement(self):
        """A connection for one write statement. On PostgreSQL from a pool kept in autocommit — one statement is
        atomic by itself, and this saves the BEGIN and COMMIT round trips (per notice: benchmarks/README.md)."""
        if is_postgres(self.engine):
            return autocommit_engine(self.engine).connect()
        return self.engine.begin()

    def _through_driver(self, sql: str, params: dict) -> list[tuple]:
        """One statement of the hot path on PostgreSQL, straight through the driver on the autocommit pool: going
        through SQLAlchemy's execution took about 0.6 ms of CPU more per statement on the development machine, twice
        what the driver needs (measured with benchmarks/notification_delivery.py)."""
        connection = autocommit_engine(self.engine).raw_connection()
        try:
            with connection.cursor() as cursor:
                cursor.execute(sql, params)
                return cursor.fetchall()
        finally:
            connection.close()

    def _record_batch(self, rows: list[dict], token: str, results: list[DeliveryResult]) -> list[str]:
        """Record a batch's outcomes: the sent ones of a channel without an inbox in one statement, the rest (rare:
        failures, retries, fallbacks, claims lost meanwhile) one by one."""
        now = self.now()
        sent = {row["notice_id"]: (result.reference or "")[:255] or None for row, result in zip(rows, results)
                if result.status == SENT and not self.channels[row["channel"]].inbox}
        recorded = self._record_sent(sent, token, now) if sent else set()
        return [SENT_STATUS if row["notice_id"] in recorded
                else self._record(row, token, result, attempts=row["attempts"] + 1)
                for row, result in zip(rows, results)]

    def _record_sent(self, references: dict[str, str | None], token: str, now: datetime) -> set[str]:
        """Mark sent the notices among ``references`` (notice id -> provider reference) this sender still holds;
        returns their ids. PostgreSQL: one statement over the arrays of ids and references."""
        if is_postgres(self.engine):
            return {notice_id for notice_id, in self._through_driver(
                _SENT_MANY_SQL, {"ids": list(references), "refs": list(references.values()), "token": token,
                                 "now": now})}
        with self.engine.begin() as conn:
            return {notice_id for notice_id, reference in references.items()
                    if conn.execute(_SENT, {"b_id": notice_id, "b_token": token, "b_now": now,
                                            "b_ref": reference}).rowcount}

    def _record(self, row: dict, token: str, result: DeliveryResult, attempts: int) -> str:
        n = tables.notices
        now = self.now()
        guard = and_(n.c.notice_id == row["notice_id"], n.c.claim_token == token)
        detail = redact(result.detail)[:2000]
        channel = self.channels.get(row["channel"])
        if result.status == ABANDONED:
            return "lost"
        alone = result.status == SENT and not (channel is not None and channel.inbox)    # one UPDATE, no inbox row
        with (self._single_statement() if alone else self.engine.begin()) as conn:
            if result.status == SENT:
                done = dict(status=SENT_STATUS, sent_at=now, in_flight=None, lease_until=None, claim_token=None,
                            last_error=None, provider_ref=(result.reference or "")[:255] or None, announced=False)
                if not conn.execute(_SENT, {"b_id": row["notice_id"], "b_token": token, "b_now": now,
                                            "b_ref": done["provider_ref"]}).rowcount:
                    # Taken over meanwhile and judged in doubt: we know better now.
                    if not conn.execute(update(n).where(n.c.notice_id == row["notice_id"],
                                                        n.c.status == UNCONFIRMED).values(**done)).rowcount:
                        return "lost"
                if channel is not None and channel.inbox:
                    _to_inbox(conn, row, now)
                return SENT_STATUS
            in_doubt = getattr(result, "in_doubt", False) and not (channel and channel.idempotent)
            if in_doubt:
                values = dict(status=UNCONFIRMED, in_flight=None, lease_until=None, claim_token=None,
                              last_error=f"no answer after handing it over: {detail}", announced=False)
                outcome = UNCONFIRMED
            elif result.status == FAILED_TEMPORARY and not self.settings.retry.gives_up(attempts):
                delay = self.settings.retry.delay(attempts, self.rng)
                values = dict(status=PENDING, next_attempt_at=now + timedelta(seconds=delay), in_flight=None,
                              lease_until=None, claim_token=None, last_error=detail)
                outcome = "retry"
            else:
                if result.status == FAILED_TEMPORARY:
                    detail = f"gave up after {attempts} attempts: {detail}"
                values = dict(status=FAILED, in_flight=None, lease_until=None, claim_token=None, last_error=detail,
                              announced=False)
                outcome = FAILED
            if not conn.execute(update(n).where(guard).values(**values)).rowcount:
                return "lost"
            if outcome == FAILED:
                _fall_back(conn, row, now, self.settings)
        return outcome

    # --- announcing ---------------------------------------------------------------------------------------------

    def announce(self, command: Callable[[str], Any], limit: int = 500) -> int:
        """Announce recorded outcomes not announced yet, one ``notification.deliveries_recorded`` per upload."""
        n = tables.notices
        unannounced = and_(n.c.announced.is_(False), n.c.status.in_(TERMINAL))
        with self.engine.connect() as conn:
            correlations = list(conn.execute(select(n.c.correlation_id).where(unannounced).distinct().limit(50))
                                .scalars())
        count = 0
        for correlation_id in correlations:
            rows = [None] * limit
            while len(rows) == limit:       # all of them now: a big upload's outcomes would otherwise wait for
                with command(correlation_id) as uow:      # the delivery timer, `limit` per tick
                    query = (select(n.c.notice_id, n.c.cause, n.c.kind, n.c.recipient_kind, n.c.channel, n.c.status,
                                    n.c.attempts, n.c.fallback_of)
                             .where(unannounced, n.c.correlation_id == correlation_id)
                             .order_by(n.c.notice_id).limit(limit))
                    if is_postgres(self.engine):
                        query = query.with_for_update(skip_locked=True)
                    rows = [dict(r) for r in uow.conn.execute(query).mappings()]
                    if not rows:
                        break
                    uow.announce("notification.deliveries_recorded", {"deliveries": rows})
                    uow.conn.execute(update(n).where(n.c.notice_id.in_([r["notice_id"] for r in rows]))
                                     .values(announced=True))
                    count += len(rows)
        return count


# The writes every e-mail makes, built once: building a statement costs more than running it
# (benchmarks/README.md). Same values as the rest of this module writes. On PostgreSQL the hand-over and the
# outcomes go to the driver as written here (_through_driver), the ids and references as arrays.
_START = (update(tables.notices)
          .where(tables.notices.c.notice_id.in_(bindparam("b_ids", expanding=True)),
                 tables.notices.c.claim_token == bindparam("b_token"), tables.notices.c.status == SENDING)
          .values(attempts=tables.notices.c.attempts + 1, in_flight=STARTED, attempt_started_at=bindparam("b_now"),
                  handed_over_at=None)
          .returning(tables.notices.c.notice_id))
_HAND_OVER = (update(tables.notices)
              .where(tables.notices.c.notice_id.in_(bindparam("ids", expanding=True)),
                     tables.notices.c.claim_token == bindparam("token"), tables.notices.c.status == SENDING)
              .values(in_flight=HANDED_OVER, handed_over_at=bindparam("now"), lease_until=bindparam("lease"))
              .returning(tables.notices.c.notice_id))
_HAND_OVER_SQL = (f"UPDATE notices SET in_flight = '{HANDED_OVER}', handed_over_at = %(now)s, lease_until = %(lease)s "
                  f"WHERE notice_id = ANY(%(ids)s::text[]) AND claim_token = %(token)s AND status = '{SENDING}' "
                  "RETURNING notice_id")
_SENT = (update(tables.notices)
         .where(tables.notices.c.notice_id == bindparam("b_id"), tables.notices.c.claim_token == bindparam("b_token"))
         .values(status=SENT_STATUS, sent_at=bindparam("b_now"), in_flight=None, lease_until=None, claim_token=None,
                 last_error=None, provider_ref=bindparam("b_ref"), announced=False))
_SENT_MANY_SQL = (f"UPDATE notices SET status = '{SENT_STATUS}', sent_at = %(now)s, in_flight = NULL, "
                  "lease_until = NULL, claim_token = NULL, last_error = NULL, provider_ref = batch.ref, announced = false "
                  "FROM unnest(%(ids)s::text[], %(refs)s::text[]) AS batch(id, ref) "
                  "WHERE notices.notice_id = batch.id AND notices.claim_token = %(token)s RETURNING notices.notice_id")


def _to_inbox(conn, row: dict, now: datetime) -> None:
    i = tables.inbox
    if not conn.execute(select(i.c.notice_id).where(i.c.notice_id == row["notice_id"])).first():
        conn.execute(insert(i).values(notice_id=row["notice_id"], recipient_id=row["recipient_id"],
                                      subject=row["subject"], text=row["text"], created_at=now))


def _fall_back(conn, row: dict, now: datetime, settings: NotificationSettings | None = None) -> str | None:
    """The next channel of the failed notice's route takes over (once per cause, recipient and channel); an
    acknowledgement link in it is re-signed for the new notice."""
    chain = [c for c in (row.get("fallbacks") or "").split(">") if c]
    n = tables.notices
    while chain:
        channel, chain = chain[0], chain[1:]
        exists = conn.execute(select(n.c.notice_id).where(n.c.cause == row["cause"], n.c.recipient_id == row["recipient_id"],
                                                          n.c.channel == channel)).first()
        if exists:
            continue
        notice_id = "N-" + uuid.uuid4().hex[:16]
        texts = acknowledgements.relink_fallback(settings.acknowledgement if settings else None, row, notice_id,
                                                 channel)
        conn.execute(insert(n).values(
            notice_id=notice_id, cause=row["cause"], kind=row["kind"], recipient_kind=row["recipient_kind"],
            recipient_id=row["recipient_id"], channel=channel, subject=row["subject"], text=texts["text"],
            html=texts["html"], short_text=texts["short_text"], locale=row.get("locale"),
            requires_acknowledgement=row["requires_acknowledgement"], status=PENDING, attempts=0,
            fallbacks=">".join(chain) or None, fallback_of=row["notice_id"], correlation_id=row["correlation_id"],
            event_id=row["event_id"], created_at=now))
        log.info("notice %s failed on %s; %s takes over as %s", row["notice_id"], row["channel"], channel, notice_id)
        return notice_id
    return None


def resend(engine, notice_id: str, now: datetime) -> dict:
    """Staff decided: deliver a failed or unconfirmed notice again (same delivery key, so same Message-ID)."""
    n = tables.notices
    now = now.astimezone(timezone.utc)      # stored as UTC (SQLite keeps no zone)
    with engine.begin() as conn:
        row = conn.execute(select(n.c.status).where(n.c.notice_id == notice_id)).first()
        if row is None:
            return {"status": "rejected", "message": f"no notice {notice_id}"}
        if row.status not in (FAILED, UNCONFIRMED):
            return {"status": "rejected", "message": f"notice {notice_id} is {row.status}; only failed or "
                                                     "unconfirmed notices are resent"}
        conn.execute(update(n).where(n.c.notice_id == notice_id).values(
            status=PENDING, next_attempt_at=now, attempts=0, in_flight=None, claim_token=None, lease_until=None))
    return {"status": "queued", "notice_id": notice_id}


def pending_count(conn, correlation_id: str) -> int:
    """Deliveries of this upload still to come: pending or being sent, or done but not yet announced (so an upload
    settles only once its outcome events exist). Held notices (quiet hours) do not count."""
    n = tables.notices
    return conn.execute(select(func.count()).select_from(n).where(
        n.c.correlation_id == correlation_id,
        n.c.status.in_((PENDING, SENDING)) | (n.c.status.in_(TERMINAL) & n.c.announced.is_(False)))).scalar_one()


def recipients_needing_addresses(rows: Iterable[dict], channels: dict[str, Channel]) -> list[dict]:
    """{"kind", "id"} of every recipient whose claimed notices go on a channel with addresses (for roster.contacts)."""
    seen, result = set(), []
    for row in rows:
        channel = channels.get(row["channel"])
        if channel is None or not channel.address_field or row["recipient_id"] in seen:
            continue
        seen.add(row["recipient_id"])
        result.append({"kind": row["recipient_kind"], "id": row["recipient_id"]})
    return result
