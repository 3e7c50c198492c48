"""The notification service's own database. Addresses are never stored here: they are asked of the roster when a
delivery is about to be handed over, and forgotten after.

notices      one row per (cause, recipient, channel): rendered once, then delivered at most once. The unique key is
             what makes a redelivered event harmless. status: pending (due at next_attempt_at) | held (quiet hours,
             until next_attempt_at) | sending (claimed by a sender until lease_until) | sent | failed |
             unconfirmed (a sender died after handing it over to a provider that cannot tell a repeat: not resent).
             in_flight records how far the current attempt got BEFORE the provider is called: started, then
             handed_over right before the point of no return. fallbacks: the rest of the route's chain
             ("email"), used when this one fails for good; fallback_of: the delivery this one stands in for.
             announced: False until the outcome went out in notification.deliveries_recorded (None before there
             is an outcome); only those rows are indexed, by upload (ix_notices_unannounced: the announcement finds
             them without reading the upload's other notices). On PostgreSQL text and html are compressed with lz4
             (migration 5b1e7c3d9a20: cheaper than pglz, and most rows stay in line).
inbox        the in-app inbox: delivering in-app means writing here, in the same transaction as the outcome
preferences  a recipient's own routes and language (aq notices prefer)
task_items   what each staff member is to be told of their tasks: one row per (task, assignee, status, due), waiting
             for the digest at bucket_at (or, urgent, for right away); digest_cause once it is in a notice
red_changes  warning changes that reached red: their tasks are urgent
acknowledgements      one request per (warning change, student or guardian) whose notice asks for a 回执: status
                      open | acknowledged | superseded | withdrawn; who signed, through which notice (so which
                      channel), from which client; when reminded and when handed to the head teacher (overdue).
                      context: the notice's facts (level, reasons…) for the reminder and the acknowledgement page.
                      shared_client_at: a guardian's link was used from the student's client (flag, not refusal)
acknowledgement_uses  every use of a genuine link: opened, acknowledged, refused (expired, already acknowledged,
                      withdrawn), with the notice (channel), IP address and user agent
"""
from sqlalchemy import Boolean, Column, DateTime, Index, Integer, MetaData, String, Table, Text, UniqueConstraint

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
    Column("short_text", Text),
    Column("locale", String(8)),
    Column("requires_acknowledgement", Boolean, nullable=False),
    Column("status", String(16), nullable=False, index=True),
    Column("attempts", Integer, nullable=False),
    Column("last_error", Text),
    Column("next_attempt_at", DateTime(timezone=True)),
    Column("lease_until", DateTime(timezone=True)),
    Column("claim_token", String(32)),
    Column("in_flight", String(16)),
    Column("attempt_started_at", DateTime(timezone=True)),
    Column("handed_over_at", DateTime(timezone=True)),
    Column("provider_ref", String(255)),
    Column("fallbacks", String(255)),
    Column("fallback_of", String(64)),
    Column("announced", Boolean),
    Column("correlation_id", String(64), nullable=False, index=True),
    Column("event_id", String(64), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("sent_at", DateTime(timezone=True)),
    UniqueConstraint("cause", "recipient_id", "channel", name="uq_notice_once"),
)
# Outcomes waiting for their announcement, by upload: a handful of rows at any time instead of an index entry for
# every notice ever stored, rewritten on each of a notice's updates (delivery.announce; migration 9e4b2a7c5d31).
Index("ix_notices_unannounced", notices.c.correlation_id, notices.c.notice_id,
      postgresql_where=notices.c.announced.is_(False), sqlite_where=notices.c.announced.is_(False))

inbox = Table(
    "inbox", metadata,
    Column("notice_id", String(64), primary_key=True),
    Column("recipient_id", String(64), nullable=False, index=True),
    Column("subject", String(255), nullable=False),
    Column("text", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("read_at", DateTime(timezone=True)),
)

preferences = Table(
    "preferences", metadata,
    Column("recipient_id", String(64), primary_key=True),
    Column("routes", String(255)),
    Column("locale", String(8)),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

task_items = Table(
    "task_items", metadata,
    Column("item_key", String(255), primary_key=True),
    Column("task_id", String(64), nullable=False, index=True),
    Column("recipient_id", String(64), nullable=False, index=True),
    Column("item_kind", String(16), nullable=False),
    Column("change_ref", String(255), nullable=False, index=True),
    Column("task", Text, nullable=False),
    Column("urgent", Boolean, nullable=False),
    Column("bucket_at", DateTime(timezone=True), nullable=False, index=True),
    Column("digest_cause", String(255), index=True),
    Column("correlation_id", String(64), nullable=False),
    Column("event_id", String(64), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

red_changes = Table(
    "red_changes", metadata,
    Column("change_id", String(255), primary_key=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

acknowledgements = Table(
    "acknowledgements", metadata,
    Column("ack_id", String(32), primary_key=True),
    Column("cause", String(255), nullable=False),
    Column("recipient_kind", String(16), nullable=False),
    Column("recipient_id", String(64), nullable=False),
    Column("student_id", String(64), nullable=False, index=True),
    Column("semester", String(16), nullable=False, index=True),
    Column("level", String(16), nullable=False),
    Column("context", Text, nullable=False),
    Column("status", String(16), nullable=False, index=True),
    Column("requested_at", DateTime(timezone=True), nullable=False, index=True),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    Column("first_opened_at", DateTime(timezone=True)),
    Column("opened_count", Integer, nullable=False),
    Column("acknowledged_at", DateTime(timezone=True)),
    Column("signer_name", String(64)),
    Column("ack_notice_id", String(64)),
    Column("ack_channel", String(32)),
    Column("ack_ip", String(64)),
    Column("ack_user_agent", String(512)),
    Column("shared_client_at", DateTime(timezone=True)),
    Column("reminded_at", DateTime(timezone=True)),
    Column("overdue_at", DateTime(timezone=True)),
    Column("closed_note", String(255)),
    Column("correlation_id", String(64), nullable=False),
    UniqueConstraint("cause", "recipient_id", name="uq_ack_once"),
)

acknowledgement_uses = Table(
    "acknowledgement_uses", metadata,
    Column("use_id", Integer, primary_key=True, autoincrement=True),
    Column("ack_id", String(32), nullable=False, index=True),
    Column("notice_id", String(64), nullable=False),
    Column("channel", String(32)),
    Column("action", String(16), nullable=False),
    Column("detail", String(255)),
    Column("ip", String(64)),
    Column("user_agent", String(512)),
    Column("same_client", Boolean, nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
)

MESSAGING = add_messaging_tables(metadata)
