"""The notification service layer, deciding side: which notices exist (once per cause, recipient and channel),
rendered in the recipient's language, on the first channel of each of their routes. Delivering them is delivery.py.

Warning changes and course flags become notices in the event's unit of work. Task changes and reminders become
task items: each waits for its assignee's digest (one notice a day by default), except the tasks of a red warning,
which go at once. ``flush_task_notices`` turns the items that are due into notices.
"""
from __future__ import annotations

import hashlib
import json
import logging
import uuid
from collections import defaultdict
from dataclasses import replace
from datetime import datetime, timezone
from typing import Iterable

from sqlalchemy import and_, delete, func, insert, select, update

from services.notification import acknowledgements, tables
from services.notification.domain import ack_policy
from services.notification.domain.recipients import (
    STAFF, NoticeSpec, People, flag_major, notices_for_course_flag, notices_for_warning_change,
)
from services.notification.domain.rendering import LINK_STAND_IN, RenderedNotice, normalise_locale, render
from services.notification.domain.lists import notices_for_counselor_list
from services.notification.domain.review import notices_for_release_pending
from services.notification.domain.routing import parse_routes, usable
from services.notification.domain.schedule import next_digest_at
from services.notification.domain.tasks import (
    TaskItem, closed_task_ids, digest_spec, is_urgent_change, item_for, items_for_reminder,
)
from services.notification.keyed_updates import update_by_key
from services.notification.settings import NotificationSettings
from shared.bulk import insert_rows
from shared.db import is_postgres, lock_keys

log = logging.getLogger(__name__)


def people_for_student(answer: dict) -> People:
    return People(student_id=answer["student_id"], student_name=answer.get("name"),
                  class_name=answer.get("class_name"), major=answer.get("major"),
                  head_teacher_id=answer.get("head_teacher_id"), counselor_id=answer.get("counselor_id"),
                  department_head_id=answer.get("department_head_id"), vice_dean_id=answer.get("vice_dean_id"))


def people_for_flag(flag: dict, officers: dict) -> People:
    major = flag_major(flag)
    return People(major=major, department_head_id=officers["department_head_by_major"].get(major),
                  vice_dean_id=officers["vice_dean_id"])


# --- warnings and flags ------------------------------------------------------------------------------------------

def on_warning_changes(uow, event: dict, people: dict[str, People], settings: NotificationSettings,
                       enabled: Iterable[str], now: datetime) -> int:
    now = now.astimezone(timezone.utc)     # stored as UTC (SQLite keeps no zone)
    specs = []
    for change in event["data"]["changes"]:
        if change["student_id"] not in people:
            raise LookupError(f"student {change['student_id']} is not in the roster; cannot address notices")
        specs.extend(notices_for_warning_change(change, people[change["student_id"]]))
    red = sorted({c["change_id"] for c in event["data"]["changes"] if is_urgent_change(c)})
    if red:
        _mark_red(uow.conn, red, now)
    # 回执: which notices ask for an acknowledgement is the college's setting (AQ_ACK_LEVELS); each gets its link.
    changes = {str(c["change_id"]): c for c in event["data"]["changes"]}
    specs = ack_policy.mark(specs, changes, settings.acknowledgement)
    acknowledgements.withdraw_lifted(uow.conn, event["data"]["changes"])
    expiries = acknowledgements.request(uow.conn, specs, changes, now, uow.correlation_id, settings.acknowledgement)
    links = acknowledgements.Links(settings.acknowledgement, expiries, settings.zone) if expiries else None
    return store_notices(uow.conn, specs, settings, enabled, correlation_id=uow.correlation_id,
                         event_id=event["id"], now=now, links=links)


def on_course_flags(uow, event: dict, officers: dict, settings: NotificationSettings, enabled: Iterable[str],
                    now: datetime) -> int:
    now = now.astimezone(timezone.utc)     # stored as UTC (SQLite keeps no zone)
    specs = []
    for flag in event["data"]["flags"]:
        specs.extend(notices_for_course_flag(flag, people_for_flag(flag, officers)))
    return store_notices(uow.conn, specs, settings, enabled, correlation_id=uow.correlation_id,
                         event_id=event["id"], now=now)


def store_notices(conn, specs: list[NoticeSpec], settings: NotificationSettings, enabled: Iterable[str], *,
                  correlation_id: str, event_id: str, now: datetime,
                  links: "acknowledgements.Links | None" = None) -> int:
    """One pending notice per (cause, recipient, first channel of each usable route); the rest of each route's
    chain is kept as the notice's fallbacks. Returns how many notices were added. A notice asking for an
    acknowledgement carries the link that names it (``links``)."""
    return store_spec_notices(conn, [(spec, correlation_id, event_id) for spec in specs], settings, enabled, now, links)


def store_spec_notices(conn, specs: list[tuple[NoticeSpec, str, str]], settings: NotificationSettings,
                       enabled: Iterable[str], now: datetime, links: "acknowledgements.Links | None" = None) -> int:
    """``store_notices`` for specs that each come with their (correlation id, event id): the notices of many
    causes in one statement."""
    if not specs:
        return 0
    enabled = set(enabled)
    n = tables.notices
    causes = sorted({s.cause for s, _, _ in specs})
    existing: set[tuple] = set()
    for start in range(0, len(causes), 500):
        existing |= {tuple(r) for r in conn.execute(
            select(n.c.cause, n.c.recipient_id, n.c.channel).where(n.c.cause.in_(causes[start:start + 500])))}
    prefs = preferences_of(conn, {s.recipient_id for s, _, _ in specs})
    rows = []
    for spec, correlation_id, event_id in specs:
        routes, locale = routes_and_locale(spec.recipient_kind, prefs.get(spec.recipient_id), settings, enabled)
        if not routes:
            log.warning("no enabled channel on the routes of %s %s: %s is not told", spec.recipient_kind,
                        spec.recipient_id, spec.cause)
        # Rendered once per spec, whatever the number of its channels; a notice's own acknowledgement link is put
        # into the one rendering made with a stand-in for it (RenderedNotice.with_link).
        rendered: RenderedNotice | None = None
        linked: RenderedNotice | None = None
        for chain in routes:
            channel, fallbacks = chain[0], chain[1:]
            key = (spec.cause, spec.recipient_id, channel)
            if key in existing:
                continue     # told already: one notice per cause, recipient and channel
            existing.add(key)
            notice_id = new_notice_id()
            ack = links.context(notice_id, spec, channel) if links is not None else None
            if ack is not None:
                linked = linked or render(
                    replace(spec, context={**spec.context, "ack": {**ack, "url": LINK_STAND_IN}}), locale)
                own = linked.with_link(ack["url"])
            else:
                own = rendered = rendered or render(spec, locale)
            rows.append(_notice_row(spec, own, channel, fallbacks, locale, correlation_id, event_id, now, notice_id))
    insert_rows(conn, n, rows)
    return len(rows)


def new_notice_id() -> str:
    return "N-" + uuid.uuid4().hex[:16]


def _notice_row(spec: NoticeSpec, rendered: RenderedNotice, channel: str, fallbacks: tuple[str, ...], locale: str,
                correlation_id: str, event_id: str, now: datetime, notice_id: str) -> dict:
    return {"notice_id": notice_id, "cause": spec.cause, "kind": spec.kind,
            "recipient_kind": spec.recipient_kind, "recipient_id": spec.recipient_id, "channel": channel,
            "subject": rendered.subject[:255], "text": rendered.text, "html": rendered.html,
            "short_text": rendered.short, "locale": locale,
            "requires_acknowledgement": spec.requires_acknowledgement, "status": "pending", "attempts": 0,
            "fallbacks": ">".join(fallbacks) or None, "correlation_id": correlation_id, "event_id": event_id,
            "created_at": now}


def routes_and_locale(recipient_kind: str, preference: dict | None, settings: NotificationSettings,
                      enabled: set[str]) -> tuple[tuple[tuple[str, ...], ...], str]:
    """The recipient's usable routes (their preference, else their kind's) and language."""
    routes = ()
    if preference and preference.get("routes"):
        routes = usable(parse_routes(preference["routes"]), enabled)
    if not routes:
        routes = usable(settings.routes.get(recipient_kind, settings.routes[STAFF]), enabled)
    locale = normalise_locale((preference or {}).get("locale") or settings.locale)
    return routes, locale


def preferences_of(conn, recipient_ids: Iterable[str]) -> dict[str, dict]:
    p = tables.preferences
    ids = sorted(set(recipient_ids))
    found = {}
    for start in range(0, len(ids), 500):
        for row in conn.execute(select(p).where(p.c.recipient_id.in_(ids[start:start + 500]))).mappings():
            found[row["recipient_id"]] = dict(row)
    return found


def set_preference(conn, recipient_id: str, routes: str | None, locale: str | None, now: datetime) -> dict:
    now = now.astimezone(timezone.utc)
    p = tables.preferences
    conn.execute(delete(p).where(p.c.recipient_id == recipient_id))
    if routes or locale:
        conn.execute(insert(p).values(recipient_id=recipient_id, routes=routes, locale=locale, updated_at=now))
    return {"recipient_id": recipient_id, "routes": routes, "locale": locale}


# --- tasks -------------------------------------------------------------------------------------------------------

def _mark_red(conn, change_ids: list[str], now: datetime) -> None:
    """Remember red warnings; their tasks' items already waiting for a digest are made urgent."""
    lock_keys(conn, [f"red:{c}" for c in change_ids])
    r, items = tables.red_changes, tables.task_items
    known = set(conn.execute(select(r.c.change_id).where(r.c.change_id.in_(change_ids))).scalars())
    new = [c for c in change_ids if c not in known]
    if new:
        conn.execute(insert(r), [{"change_id": c, "created_at": now} for c in new])
    conn.execute(update(items).where(items.c.change_ref.in_(change_ids), items.c.digest_cause.is_(None),
                                     items.c.urgent.is_(False)).values(urgent=True, bucket_at=now))


def on_tasks_changed(uow, event: dict, settings: NotificationSettings, now: datetime) -> int:
    now = now.astimezone(timezone.utc)     # stored as UTC (SQLite keeps no zone)
    if not settings.tell_tasks:
        return 0
    tasks = event["data"]["tasks"]
    closed = closed_task_ids(tasks)
    if closed:     # done before its digest went out: nobody needs telling any more
        items = tables.task_items
        uow.conn.execute(delete(items).where(items.c.task_id.in_(closed), items.c.digest_cause.is_(None),
                                             items.c.item_kind != "escalated"))
    return _store_items(uow, event, [i for i in map(item_for, tasks) if i], settings, now)


def on_reminders_due(uow, event: dict, settings: NotificationSettings, now: datetime) -> int:
    now = now.astimezone(timezone.utc)     # stored as UTC (SQLite keeps no zone)
    if not settings.tell_tasks:
        return 0
    items = [item for reminder in event["data"]["reminders"] for item in items_for_reminder(reminder)]
    return _store_items(uow, event, items, settings, now)


def _store_items(uow, event: dict, items: list[TaskItem], settings: NotificationSettings, now: datetime) -> int:
    if not items:
        return 0
    conn = uow.conn
    t, r = tables.task_items, tables.red_changes
    refs = sorted({i.change_ref for i in items if i.change_ref})
    lock_keys(conn, [f"red:{c}" for c in refs])     # against a red warning being recorded at the same moment
    red = set(conn.execute(select(r.c.change_id).where(r.c.change_id.in_(refs))).scalars()) if refs else set()
    keys = sorted({i.key for i in items})
    existing = set(conn.execute(select(t.c.item_key).where(t.c.item_key.in_(keys))).scalars())
    digest_at = next_digest_at(settings.digest_times, now, settings.zone).astimezone(timezone.utc)
    rows, seen = [], set(existing)
    for item in items:
        if item.key in seen:
            continue
        seen.add(item.key)
        urgent = item.change_ref in red
        rows.append({"item_key": item.key[:255], "task_id": item.task_id, "recipient_id": item.assignee,
                     "item_kind": item.item_kind, "change_ref": item.change_ref[:255],
                     "task": json.dumps(item.task, ensure_ascii=False, default=str), "urgent": urgent,
                     "bucket_at": now if urgent else digest_at, "digest_cause": None,
                     "correlation_id": uow.correlation_id, "event_id": event["id"], "created_at": now})
    insert_rows(conn, t, rows)
    return len(rows)


FLUSH_RECIPIENTS = 500      # staff members flushed in one transaction


def flush_task_notices(engine, settings: NotificationSettings, enabled: Iterable[str], now: datetime) -> int:
    """Turn the task items that are due (their digest time came, or urgent) into notices: one digest per staff
    member per digest time, one urgent notice per staff member and upload. Returns how many notices were made.

    The staff members with items due are done together, up to FLUSH_RECIPIENTS in one transaction (their digest
    locks taken at once, in key order): a flush follows every event, and should cost a few statements, not a few
    per staff member."""
    now = now.astimezone(timezone.utc)     # stored as UTC (SQLite keeps no zone)
    t = tables.task_items
    with engine.connect() as conn:
        recipients = sorted(conn.execute(select(t.c.recipient_id).where(_due(now)).distinct()).scalars())
    made = 0
    for start in range(0, len(recipients), FLUSH_RECIPIENTS):
        with engine.begin() as conn:
            made += _flush(conn, recipients[start:start + FLUSH_RECIPIENTS], settings, enabled, now)
    return made


def _due(now: datetime):
    t = tables.task_items
    return and_(t.c.digest_cause.is_(None), t.c.bucket_at <= now)


def _flush(conn, recipients: list[str], settings: NotificationSettings, enabled: Iterable[str], now: datetime) -> int:
    t = tables.task_items
    lock_keys(conn, [f"digest:{recipient}" for recipient in recipients])
    query = select(t).where(t.c.recipient_id.in_(recipients), _due(now))
    if is_postgres(conn.engine):
        query = query.with_for_update()
    groups: dict[tuple, list[dict]] = defaultdict(list)
    for row in conn.execute(query.order_by(t.c.recipient_id, t.c.created_at, t.c.item_key)).mappings():
        item = dict(row)
        item["task"] = json.loads(item["task"])
        group = ("urgent", item["correlation_id"]) if item["urgent"] else ("digest",)
        groups[(item["recipient_id"], *group)].append(item)
    specs, told = [], {}
    for (recipient, *group), members in groups.items():
        urgent = group[0] == "urgent"
        cause = _task_cause(conn, recipient, members, urgent, settings, now)
        spec = digest_spec(recipient, cause, members, urgent, now.astimezone(settings.zone).date())
        specs.append((spec, members[0]["correlation_id"] if urgent else cause, members[0]["event_id"]))
        told[cause] = [m["item_key"] for m in members]
    made = store_spec_notices(conn, specs, settings, enabled, now)
    # each item names the notice that told it
    update_by_key(conn, t, [{"item_key": key, "digest_cause": cause} for cause, keys in told.items() for key in keys],
                  ("item_key",))
    return made


def _task_cause(conn, recipient: str, members: list[dict], urgent: bool, settings: NotificationSettings,
                now: datetime) -> str:
    if urgent:
        digest = hashlib.sha1("|".join(sorted(m["item_key"] for m in members)).encode("utf-8")).hexdigest()[:12]
        return f"urgent:{recipient}:{digest}"
    bucket = max(m["bucket_at"] for m in members)
    if bucket.tzinfo is None:      # SQLite gives naive datetimes back (stored as UTC)
        bucket = bucket.replace(tzinfo=timezone.utc)
    base = f"digest:{recipient}:{bucket.astimezone(settings.zone):%Y-%m-%dT%H:%M}"
    n = tables.notices
    taken = set(conn.execute(select(n.c.cause).where(n.c.recipient_id == recipient,
                                                     n.c.cause.like(base + "%")).distinct()).scalars())
    cause, suffix = base, 1
    while cause in taken:          # a straggler for a digest already sent (clock set back, or a late item)
        suffix += 1
        cause = f"{base}#{suffix}"
    return cause


def waiting_task_items(conn, correlation_id: str) -> int:
    """Urgent task items of this upload not yet in a notice (they count as pending deliveries)."""
    t = tables.task_items
    return conn.execute(select(func.count()).select_from(t).where(
        t.c.correlation_id == correlation_id, t.c.urgent.is_(True), t.c.digest_cause.is_(None))).scalar_one()


# --- counselor lists ---------------------------------------------------------------------------------------------

def on_counselor_list(uow, event: dict, settings: NotificationSettings, enabled: Iterable[str], now: datetime) -> int:
    """Each recipient of a counselor list is sent their part of it (domain/lists.py), once per list version."""
    now = now.astimezone(timezone.utc)     # stored as UTC (SQLite keeps no zone)
    return store_notices(uow.conn, notices_for_counselor_list(event["data"]), settings, enabled,
                         correlation_id=uow.correlation_id, event_id=event["id"], now=now)


def on_release_pending(uow, event: dict, officers: dict, settings: NotificationSettings, enabled: Iterable[str],
                       now: datetime) -> int:
    """Academic affairs are told a warning list waits for their review (domain/review.py), once per list."""
    now = now.astimezone(timezone.utc)     # stored as UTC (SQLite keeps no zone)
    return store_notices(uow.conn, notices_for_release_pending(event["data"], officers), settings, enabled,
                         correlation_id=uow.correlation_id, event_id=event["id"], now=now)
