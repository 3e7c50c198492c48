"""The outbox relay: publishes what handlers wrote to the outbox, then stamps it published.

It wakes right after a unit of work commits (so a cascade moves at broker speed) and also polls, so rows
left by a crash are published when the service comes back. Publishing uses publisher confirms; a row is
stamped only after the broker confirmed it, so a crash in between publishes it again (consumers dedupe by
event id). On PostgreSQL rows are claimed with FOR UPDATE SKIP LOCKED, so several instances can relay.
"""
from __future__ import annotations

import logging
from datetime import datetime, timezone

import eventlet
from eventlet.event import Event
from kombu import Connection
from nameko.extensions import SharedExtension
from sqlalchemy import select, update

from contracts.envelope import routing_key
from shared.db import is_postgres
from shared.messaging import metrics
from shared.messaging.topology import EVENTS_EXCHANGE, declare_topology

log = logging.getLogger(__name__)


class OutboxRelay(SharedExtension):
    batch_size = 500

    def __init__(self):
        self._wakeup = Event()
        self._stopping = False
        self._thread = None
        self.engine = None
        self.tables = None

    def bind_store(self, engine, tables) -> None:
        self.engine, self.tables = engine, tables

    def setup(self):
        self.amqp_uri = self.container.config["AMQP_URI"]
        self.poll_interval = float(self.container.config.get("OUTBOX_POLL_SECONDS", 1.0))

    def start(self):
        declare_topology(self.amqp_uri)   # every subscriber's queue exists before our first publish
        self._thread = self.container.spawn_managed_thread(self._run, identifier="outbox_relay")

    def stop(self):
        self._stopping = True
        self.wake()
        if self._thread is not None:
            self._thread.wait()

    def kill(self):
        self._stopping = True
        if self._thread is not None:
            self._thread.kill()

    def wake(self) -> None:
        if not self._wakeup.ready():
            self._wakeup.send(True)

    def _run(self):
        connection = Connection(self.amqp_uri, transport_options={"confirm_publish": True})
        try:
            while not self._stopping:
                try:
                    while self.engine is not None and self.publish_pending(connection):
                        pass
                except Exception:   # broker or database away: keep the rows, try again later
                    log.exception("outbox relay: publishing failed; will retry")
                    connection.release()
                    connection = Connection(self.amqp_uri, transport_options={"confirm_publish": True})
                    eventlet.sleep(self.poll_interval)
                with eventlet.Timeout(self.poll_interval, False):
                    self._wakeup.wait()
                self._wakeup = Event()
        finally:
            connection.release()

    def publish_pending(self, connection) -> int:
        """Publish one batch of unpublished rows; returns how many were published."""
        outbox = self.tables[0]
        query = (select(outbox.c.seq, outbox.c.body, outbox.c.type, outbox.c.version, outbox.c.event_id)
                 .where(outbox.c.published_at.is_(None)).order_by(outbox.c.seq).limit(self.batch_size))
        with self.engine.begin() as conn:
            if is_postgres(self.engine):
                query = query.with_for_update(skip_locked=True)
            rows = conn.execute(query).all()
            if not rows:
                return 0
            producer = connection.Producer()
            for row in rows:
                # The stored body is the envelope's JSON already: sent as it is, not decoded and encoded again
                # (a 1,000-record batch is ~300 kB of JSON).
                producer.publish(
                    row.body, exchange=EVENTS_EXCHANGE, routing_key=routing_key(row.type, row.version),
                    content_type="application/json", content_encoding="utf-8", delivery_mode=2,
                    message_id=row.event_id, retry=True, retry_policy={"max_retries": 3}, declare=[EVENTS_EXCHANGE])
            conn.execute(update(outbox).where(outbox.c.seq.in_([r.seq for r in rows]))
                         .values(published_at=datetime.now(timezone.utc)))
        metrics.PUBLISHED.labels(self.container.service_name).inc(len(rows))
        return len(rows)
