"""The two tables every service keeps for reliable messaging, added to the service's own metadata.

outbox            events a transaction announced; the relay publishes them and stamps published_at
processed_events  (event, handler) pairs already handled: the consumer's memory, written in the same
                  transaction as the handler's effect, so an effect happens once however often a message
                  is delivered
"""
from sqlalchemy import BigInteger, Column, DateTime, Float, Integer, MetaData, String, Table, Text


def add_messaging_tables(metadata: MetaData) -> tuple[Table, Table]:
    outbox = Table(
        "outbox", metadata,
        Column("seq", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
        Column("event_id", String(64), nullable=False, unique=True),
        Column("type", String(128), nullable=False),
        Column("version", Integer, nullable=False),
        Column("correlation_id", String(64), nullable=False, index=True),
        Column("causation_id", String(64)),
        Column("body", Text, nullable=False),
        Column("created_at", DateTime(timezone=True), nullable=False),
        Column("published_at", DateTime(timezone=True), index=True),
    )
    processed = Table(
        "processed_events", metadata,
        Column("event_id", String(64), primary_key=True),
        Column("handler", String(128), primary_key=True),
        Column("type", String(128), nullable=False),
        Column("correlation_id", String(64), nullable=False, index=True),
        Column("processed_at", DateTime(timezone=True), nullable=False),
        Column("duration_ms", Float),     # how long the handler's unit of work took (benchmarks, traces)
    )
    return outbox, processed
