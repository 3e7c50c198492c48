"""A unit of work: one database transaction holding a handler's effect, the events it announces and the
mark that the incoming event was handled. Either all of it commits or none of it does."""
from __future__ import annotations

import os
import time
from datetime import datetime, timezone

from marshmallow import ValidationError
from sqlalchemy import insert, select, update
from sqlalchemy.engine import Connection, Engine

from contracts.envelope import make_envelope
from contracts.registry import event_type
from shared.messaging import codec
from shared.messaging.schema_check import errors_of

def outgoing_sample(data: dict) -> dict:
    """What the producer checks before writing an event.

    Every consumer validates every message it receives in full (that is the trust boundary). The producer's
    check is a guard against our own programming errors, and re-validating a 1,000-record batch that was
    built from already validated rows costs more than storing it; so by default the producer checks the
    event with long lists cut to their first items. AQ_VALIDATE_OUTGOING=all checks everything (the test
    suite runs that way, so a producer bug anywhere in a list still fails a test).
    """
    if os.environ.get("AQ_VALIDATE_OUTGOING", "sample") == "all":
        return data
    return {k: (v[:SAMPLE_SIZE] if isinstance(v, list) else v) for k, v in data.items()}

SAMPLE_SIZE = 20

class AlreadyProcessed(Exception):
    """The event was handled before (a redelivery): nothing to do."""

class UnitOfWork:
    def __init__(self, engine: Engine, service: str, tables, *, handling: dict | None = None,
                 handler: str | None = None, correlation_id: str | None = None):
        self.engine = engine
        self.service = service
        self.outbox, self.processed = tables
        self.handling = handling            # the incoming event's envelope, if any
        self.handler = handler
        self.correlation_id = correlation_id or (handling or {}).get("correlation_id")
        self.announced: list[str] = []
        self.conn: Connection | None = None

    def __enter__(self) -> "UnitOfWork":
        self._started = time.perf_counter()
        self.conn = self.engine.connect()
        self._tx = self.conn.begin()
        try:
            if self.handling is not None:
                self._mark_processed()
        except BaseException:
            self._tx.rollback()
            self.conn.close()
            raise
        return self

    def __exit__(self, exc_type, exc, tb):
        try:
            if exc_type is None:
                if self.handling is not None:
                    elapsed = (time.perf_counter() - self._started) * 1000
                    self.conn.execute(update(self.processed).where(
                        self.processed.c.event_id == self.handling["id"],
                        self.processed.c.handler == self.handler).values(duration_ms=elapsed))
                self._tx.commit()
            else:
                self._tx.rollback()
        finally:
            self.conn.close()
        return False

    def _mark_processed(self) -> None:
        event = self.handling
        seen = self.conn.execute(
            select(self.processed.c.event_id).where(self.processed.c.event_id == event["id"],
                                                    self.processed.c.handler == self.handler)
        ).first()
        if seen:
            raise AlreadyProcessed(f"{self.handler} already handled event {event['id']}")
        # Inserted first: a concurrent duplicate blocks on this key and fails at commit.
        self.conn.execute(insert(self.processed).values(
            event_id=event["id"], handler=self.handler, type=event["type"],
            correlation_id=event["correlation_id"], processed_at=datetime.now(timezone.utc)))

    def announce(self, type_name: str, data: dict, *, correlation_id: str | None = None) -> dict:
        """Write an event to the outbox; the relay publishes it after commit."""
        spec = event_type(type_name)
        if spec.producer != self.service:
            raise ValueError(f"{self.service} may not announce {type_name} (producer is {spec.producer})")
        errors = errors_of(spec.schema, outgoing_sample(data))
        if errors:
            raise ValidationError(errors, data=data)
        correlation = correlation_id or self.correlation_id
        if not correlation:
            raise ValueError("an event needs a correlation id (the upload that started the cascade)")
        envelope = make_envelope(type_name, spec.version, self.service, data, correlation_id=correlation,
                                 causation_id=(self.handling or {}).get("id", correlation))
        self.conn.execute(insert(self.outbox).values(
            event_id=envelope["id"], type=type_name, version=spec.version, correlation_id=correlation,
            causation_id=envelope["causation_id"], body=codec.dumps_text(envelope),
            created_at=datetime.now(timezone.utc)))
        self.announced.append(envelope["id"])   # ids only: an upload may announce hundreds of large batches
        return envelope
