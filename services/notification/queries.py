"""Read-side of the notification service. Addresses are never stored here, so never listed."""
from __future__ import annotations

from sqlalchemy import select

from services.notification import tables

COLUMNS = ("notice_id", "kind", "recipient_kind", "recipient_id", "channel", "cause", "status", "attempts",
           "last_error", "requires_acknowledgement", "subject", "correlation_id", "event_id")


def list_notices(conn, correlation_id: str | None = None, recipient_id: str | None = None) -> list[dict]:
    n = tables.notices
    query = select(*(n.c[c] for c in COLUMNS), n.c.created_at, n.c.sent_at).order_by(n.c.created_at, n.c.notice_id)
    if correlation_id:
        query = query.where(n.c.correlation_id == correlation_id)
    if recipient_id:
        query = query.where(n.c.recipient_id == recipient_id)
    return [{**{c: row[c] for c in COLUMNS},
             "created_at": row["created_at"].isoformat(),
             "sent_at": row["sent_at"].isoformat() if row["sent_at"] else None}
            for row in conn.execute(query).mappings()]


def inbox(conn, recipient_id: str) -> list[dict]:
    i = tables.inbox
    return [{**dict(r), "created_at": r["created_at"].isoformat(),
             "read_at": r["read_at"].isoformat() if r["read_at"] else None}
            for r in conn.execute(select(i).where(i.c.recipient_id == recipient_id).order_by(i.c.created_at)).mappings()]
