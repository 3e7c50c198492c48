"""The notification service's own database.

notices  one row per (cause, recipient, channel): rendered once, then delivered once. The unique key is
         what makes a redelivered warning change harmless.
inbox    the in-app inbox: delivering in-app means writing here, in the same transaction as the outcome
"""
from sqlalchemy import Boolean, Column, DateTime, Integer, MetaData, String, Table, Text, UniqueConstraint

from shared.messaging.tables import add_messaging_tables

metadata = MetaData()

notices = Table(
    "notices", metadata,
    Column("notice_id", String(64), primary_key=True),
    Column("cause", String(255), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("recipient_kind", String(32), nullable=False),
    Column("recipient_id", String(64), nullable=False, index=True),
    Column("channel", String(32), nullable=False),
    Column("subject", String(255), nullable=False),
    Column("text", Text, nullable=False),
    Column("html", Text, nullable=False),
    Column("requires_acknowledgement", Boolean, nullable=False),
    Column("status", String(16), nullable=False, index=True),   # pending | sending | sent | failed
    Column("attempts", Integer, nullable=False),
    Column("last_error", Text),
    Column("next_attempt_at", DateTime(timezone=True)),
    Column("lease_until", DateTime(timezone=True)),
    Column("correlation_id", String(64), nullable=False, index=True),
    Column("event_id", String(64), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("sent_at", DateTime(timezone=True)),
    UniqueConstraint("cause", "recipient_id", "channel", name="uq_notice_once"),
)

inbox = Table(
    "inbox", metadata,
    Column("notice_id", String(64), primary_key=True),
    Column("recipient_id", String(64), nullable=False, index=True),
    Column("subject", String(255), nullable=False),
    Column("text", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("read_at", DateTime(timezone=True)),
)

MESSAGING = add_messaging_tables(metadata)
