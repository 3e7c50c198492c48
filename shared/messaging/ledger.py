"""What one service did for one upload: the events it emitted and the events it consumed.

``aq trace`` and ``aq grades upload --wait`` put the services' ledgers together into the cascade's tree.
"""
from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import func, select


def ledger(engine, tables, correlation_id: str) -> dict:
    outbox, processed = tables
    with engine.connect() as conn:
        emitted = conn.execute(
            select(outbox.c.event_id, outbox.c.type, outbox.c.causation_id, outbox.c.published_at)
            .where(outbox.c.correlation_id == correlation_id).order_by(outbox.c.seq)).all()
        consumed = conn.execute(
            select(processed.c.event_id, processed.c.handler, processed.c.type, processed.c.duration_ms)
            .where(processed.c.correlation_id == correlation_id)).all()
    return {
        "emitted": [{"event_id": r.event_id, "type": r.type, "causation_id": r.causation_id,
                     "published": r.published_at is not None} for r in emitted],
        "consumed": [{"event_id": r.event_id, "handler": r.handler, "type": r.type, "duration_ms": r.duration_ms}
                     for r in consumed],
    }


def outbox_backlog(engine, tables) -> dict:
    """How many events wait to be published, and how long the oldest has waited (seconds)."""
    outbox = tables[0]
    with engine.connect() as conn:
        count, oldest = conn.execute(select(func.count(), func.min(outbox.c.created_at))
                                     .where(outbox.c.published_at.is_(None))).one()
    if oldest is not None and oldest.tzinfo is None:    # SQLite gives naive datetimes back
        oldest = oldest.replace(tzinfo=timezone.utc)
    age = (datetime.now(timezone.utc) - oldest).total_seconds() if oldest else 0.0
    return {"unpublished": count, "oldest_seconds": round(age, 3)}
