"""The notification service layer: decide and render notices (once per cause, recipient and channel),
then deliver them through the channel plugins.

Deciding happens in the event's unit of work; delivering happens after it commits, claiming each notice
with a lease so two workers (or instances) never send the same one, and a crashed sender's claims run out
and are taken up again. A notice whose lease ran out mid-send may therefore be sent twice; the e-mail
Message-ID is derived from the notice so a mail system can recognise it (issue: exactly-once providers).
"""
from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone

from sqlalchemy import and_, func, or_, select, update

from services.notification import tables
from services.notification.channels.base import FAILED_TEMPORARY, SENT, OutgoingMessage
from services.notification.domain.channels_by_recipient import channels_by_recipient
from services.notification.domain.recipients import (People, flag_major, notices_for_course_flag,
                                                     notices_for_warning_change)
from services.notification.domain.rendering import render
from shared.db import is_postgres

RETRY_DELAYS = (5, 30, 120, 600, 1800)    # seconds between attempts after a temporary failure


def people_for_student(answer: dict) -> People:
    return People(student_id=answer["student_id"], student_name=answer.get("name"),
                  class_name=answer.get("class_name"), major=answer.get("major"),
                  head_teacher_id=answer.get("head_teacher_id"), counselor_id=answer.get("counselor_id"),
                  department_head_id=answer.get("department_head_id"), vice_dean_id=answer.get("vice_dean_id"))


def people_for_flag(flag: dict, officers: dict) -> People:
    major = flag_major(flag)
    return People(major=major, department_head_id=officers["department_head_by_major"].get(major),
                  vice_dean_id=officers["vice_dean_id"])


def on_warning_changes(uow, event: dict, people: dict[str, People], channel_config=None) -> int:
    specs = []
    for change in event["data"]["changes"]:
        if change["student_id"] not in people:
            raise LookupError(f"student {change['student_id']} is not in the roster; cannot address notices")
        specs.extend(notices_for_warning_change(change, people[change["student_id"]]))
    return _store(uow, event, specs, channel_config)


def on_course_flags(uow, event: dict, officers: dict, channel_config=None) -> int:
    specs = []
    for flag in event["data"]["flags"]:
        specs.extend(notices_for_course_flag(flag, people_for_flag(flag, officers)))
    return _store(uow, event, specs, channel_config)


def _store(uow, event, specs, channel_config) -> int:
    if not specs:
        return 0
    n = tables.notices
    channels = channels_by_recipient(channel_config)
    causes = sorted({s.cause for s in specs})
    existing = set()
    for start in range(0, len(causes), 500):
        existing |= {tuple(r) for r in uow.conn.execute(
            select(n.c.cause, n.c.recipient_id, n.c.channel).where(n.c.cause.in_(causes[start:start + 500])))}
    now = datetime.now(timezone.utc)
    rows = []
    for spec in specs:
        rendered = None
        for channel in channels[spec.recipient_kind]:
            key = (spec.cause, spec.recipient_id, channel)
            if key in existing:
                continue     # told already: one notice per cause, recipient and channel
            existing.add(key)
            rendered = rendered or render(spec)
            rows.append({"notice_id": "N-" + uuid.uuid4().hex[:16], "cause": spec.cause, "kind": spec.kind,
                         "recipient_kind": spec.recipient_kind, "recipient_id": spec.recipient_id,
                         "channel": channel, "subject": rendered.subject, "text": rendered.text,
                         "html": rendered.html, "requires_acknowledgement": spec.requires_acknowledgement,
                         "status": "pending", "attempts": 0, "correlation_id": uow.correlation_id,
                         "event_id": event["id"], "created_at": now})
    if rows:
        uow.conn.execute(n.insert(), rows)
    return len(rows)


def claim_due(engine, limit: int = 200, lease_seconds: float = 60.0, correlation_id: str | None = None) -> list[dict]:
    """Claim notices that are due (pending and due, or whose sender's lease ran out)."""
    n = tables.notices
    now = datetime.now(timezone.utc)
    due = or_(and_(n.c.status == "pending", or_(n.c.next_attempt_at.is_(None), n.c.next_attempt_at <= now)),
              and_(n.c.status == "sending", n.c.lease_until < now))
    query = select(n).where(due).order_by(n.c.created_at).limit(limit)
    if correlation_id:
        query = query.where(n.c.correlation_id == correlation_id)
    with engine.begin() as conn:
        if is_postgres(engine):
            query = query.with_for_update(skip_locked=True)
        rows = [dict(r) for r in conn.execute(query).mappings()]
        if rows:
            conn.execute(update(n).where(n.c.notice_id.in_([r["notice_id"] for r in rows]))
                         .values(status="sending", lease_until=now + timedelta(seconds=lease_seconds)))
    return rows


def deliver(engine, notices: list[dict], channels: dict, contacts: dict[str, dict]) -> dict[str, int]:
    """Hand each claimed notice to its channel and record the outcome."""
    outcome = {"sent": 0, "failed": 0, "retry": 0}
    n = tables.notices
    for notice in notices:
        channel = channels.get(notice["channel"])
        address = _address(notice["channel"], contacts.get(notice["recipient_id"]))
        message = OutgoingMessage(key=notice["notice_id"], recipient_id=notice["recipient_id"],
                                  subject=notice["subject"], text=notice["text"], html=notice["html"],
                                  address=address)
        if channel is None:
            result_status, detail = "failed_permanent", f"channel {notice['channel']!r} is not installed"
        elif notice["channel"] != "in_app" and not address:
            result_status, detail = "failed_permanent", f"no {notice['channel']} address in the roster"
        else:
            result = channel.deliver(message)
            result_status, detail = result.status, result.detail
        now = datetime.now(timezone.utc)
        attempts = notice["attempts"] + 1
        values = {"attempts": attempts, "lease_until": None, "last_error": None if result_status == SENT else detail}
        if result_status == SENT:
            values.update(status="sent", sent_at=now)
            outcome["sent"] += 1
        elif result_status == FAILED_TEMPORARY and attempts <= len(RETRY_DELAYS):
            values.update(status="pending", next_attempt_at=now + timedelta(seconds=RETRY_DELAYS[attempts - 1]))
            outcome["retry"] += 1
        else:
            values.update(status="failed")
            outcome["failed"] += 1
        with engine.begin() as conn:
            if result_status == SENT and notice["channel"] == "in_app":
                conn.execute(tables.inbox.insert().values(notice_id=notice["notice_id"],
                                                          recipient_id=notice["recipient_id"],
                                                          subject=notice["subject"], text=notice["text"],
                                                          created_at=now))
            conn.execute(update(n).where(n.c.notice_id == notice["notice_id"]).values(**values))
    return outcome


def _address(channel: str, contact: dict | None) -> str | None:
    if not contact:
        return None
    return {"email": contact.get("email"), "sms": contact.get("phone")}.get(channel)


def recipients_of(notices: list[dict]) -> list[dict]:
    seen, result = set(), []
    for notice in notices:
        if notice["channel"] == "in_app" or notice["recipient_id"] in seen:
            continue
        seen.add(notice["recipient_id"])
        result.append({"kind": notice["recipient_kind"], "id": notice["recipient_id"]})
    return result


def pending_count(conn, correlation_id: str) -> int:
    n = tables.notices
    return conn.execute(select(func.count()).select_from(n).where(
        n.c.correlation_id == correlation_id, n.c.status.in_(("pending", "sending")))).scalar_one()
