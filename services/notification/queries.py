"""Read side of the notification service. Addresses are never stored here, so never listed; stored errors are
redacted before they are written."""
from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import select

from services.notification import tables
from services.notification.domain.ack_links import hide_tokens

COLUMNS = ("notice_id", "kind", "recipient_kind", "recipient_id", "channel", "cause", "status", "attempts",
           "last_error", "requires_acknowledgement", "subject", "correlation_id", "event_id", "locale",
           "fallback_of", "fallbacks", "provider_ref")
TIMES = ("created_at", "sent_at", "next_attempt_at")
NEEDS_STAFF = ("failed", "unconfirmed")


def _iso(value: datetime | None) -> str | None:
    if value is None:
        return None
    if value.tzinfo is None:       # SQLite gives naive datetimes back (stored as UTC)
        value = value.replace(tzinfo=timezone.utc)
    return value.isoformat()


def list_notices(conn, correlation_id: str | None = None, recipient_id: str | None = None,
                 statuses: list[str] | None = None, kinds: list[str] | None = None) -> list[dict]:
    n = tables.notices
    query = select(*(n.c[c] for c in COLUMNS + TIMES)).order_by(n.c.created_at, n.c.notice_id)
    if correlation_id:
        query = query.where(n.c.correlation_id == correlation_id)
    if recipient_id:
        query = query.where(n.c.recipient_id == recipient_id)
    if statuses:
        query = query.where(n.c.status.in_(statuses))
    if kinds:
        query = query.where(n.c.kind.in_(kinds))
    return [{**{c: row[c] for c in COLUMNS}, **{t: _iso(row[t]) for t in TIMES}}
            for row in conn.execute(query).mappings()]


def notice(conn, notice_id: str) -> dict | None:
    """One notice with its texts (what was, or will be, sent). Acknowledgement links are shown without their
    signature: whoever reads a notice here must not be able to acknowledge it for the family."""
    n = tables.notices
    row = conn.execute(select(n).where(n.c.notice_id == notice_id)).mappings().first()
    if row is None:
        return None
    texts = {c: hide_tokens(row[c]) for c in ("text", "html", "short_text")}
    return {**{c: row[c] for c in COLUMNS + ("in_flight",)}, **texts,
            **{t: _iso(row[t]) for t in TIMES + ("attempt_started_at", "handed_over_at")}}


def inbox(conn, recipient_id: str) -> list[dict]:
    i = tables.inbox
    return [{**dict(r), "created_at": _iso(r["created_at"]), "read_at": _iso(r["read_at"])}
            for r in conn.execute(select(i).where(i.c.recipient_id == recipient_id).order_by(i.c.created_at)).mappings()]


def task_items(conn, recipient_id: str | None = None, waiting_only: bool = True) -> list[dict]:
    """Task items gathered for digests (waiting ones by default)."""
    t = tables.task_items
    query = select(t).order_by(t.c.bucket_at, t.c.item_key)
    if recipient_id:
        query = query.where(t.c.recipient_id == recipient_id)
    if waiting_only:
        query = query.where(t.c.digest_cause.is_(None))
    return [{"item_key": r["item_key"], "task_id": r["task_id"], "recipient_id": r["recipient_id"],
             "item_kind": r["item_kind"], "urgent": r["urgent"], "bucket_at": _iso(r["bucket_at"]),
             "digest_cause": r["digest_cause"], "correlation_id": r["correlation_id"]}
            for r in conn.execute(query).mappings()]


def preferences(conn) -> list[dict]:
    p = tables.preferences
    return [{"recipient_id": r["recipient_id"], "routes": r["routes"], "locale": r["locale"],
             "updated_at": _iso(r["updated_at"])}
            for r in conn.execute(select(p).order_by(p.c.recipient_id)).mappings()]


# --- a student's notices (aq warnings history) ---------------------------------------------------------------------

ACK_COLUMNS = ("ack_id", "cause", "recipient_kind", "recipient_id", "semester", "level", "status", "signer_name",
               "ack_channel", "closed_note")
ACK_TIMES = ("requested_at", "expires_at", "acknowledged_at", "reminded_at", "overdue_at")


def notices_for_student(conn, student_id: str) -> dict:
    """Every notice about one student: those sent to the student and the guardian, and those sent to staff for the
    same causes (a warning change told to the counselor or department head); with delivery status, never texts.
    And every acknowledgement (回执) asked of the student or the guardian, with its status."""
    n = tables.notices
    own = (student_id, f"guardian:{student_id}")
    causes = sorted(set(conn.execute(select(n.c.cause).where(n.c.recipient_id.in_(own)).distinct()).scalars()))
    notices = []
    for start in range(0, max(len(causes), 1), 500):
        part = causes[start:start + 500]
        query = select(*(n.c[c] for c in COLUMNS + TIMES)).where(n.c.recipient_id.in_(own) | n.c.cause.in_(part))
        notices.extend({**{c: row[c] for c in COLUMNS}, **{t: _iso(row[t]) for t in TIMES}}
                       for row in conn.execute(query).mappings())
    unique = {row["notice_id"]: row for row in notices}
    a = tables.acknowledgements
    acks = [{**{c: row[c] for c in ACK_COLUMNS}, **{t: _iso(row[t]) for t in ACK_TIMES}}
            for row in conn.execute(select(a).where(a.c.student_id == student_id)
                                    .order_by(a.c.requested_at, a.c.ack_id)).mappings()]
    return {"student_id": student_id,
            "notices": sorted(unique.values(), key=lambda r: (r["created_at"] or "", r["notice_id"])),
            "acknowledgements": acks}
