"""What one service did for one upload: the events it emitted and the events it consumed.

``aq trace`` and ``aq grades upload --wait`` put the services' ledgers together into the cascade's tree.
"""
from __future__ import annotations

from sqlalchemy import select


def ledger(engine, tables, correlation_id: str) -> dict:
    outbox, processed = tables
    with engine.connect() as conn:
        emitted = conn.execute(
            select(outbox.c.event_id, outbox.c.type, outbox.c.causation_id, outbox.c.published_at)
            .where(outbox.c.correlation_id == correlation_id).order_by(outbox.c.seq)).all()
        consumed = conn.execute(
            select(processed.c.event_id, processed.c.handler, processed.c.type)
            .where(processed.c.correlation_id == correlation_id)).all()
    return {
        "emitted": [{"event_id": r.event_id, "type": r.type, "causation_id": r.causation_id,
                     "published": r.published_at is not None} for r in emitted],
        "consumed": [{"event_id": r.event_id, "handler": r.handler, "type": r.type} for r in consumed],
    }


def outbox_backlog(engine, tables) -> int:
    outbox = tables[0]
    from sqlalchemy import func
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(outbox)
                            .where(outbox.c.published_at.is_(None))).scalar_one()
