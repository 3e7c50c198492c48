"""The notification service layer for acknowledgements (回执 / 签字): ask, show, record, remind, hand over.

* ``request``   — in the warning change's unit of work: one acknowledgement request per (change, student or
  guardian) whose notice asks for one (domain/ack_policy.py); an older open request to the same person is
  superseded. ``Links`` then puts each notice's own signed link into its text (domain/ack_links.py).
* ``open_acknowledgement`` / ``acknowledge`` — what the gateway calls for ``GET`` / ``POST /ack/<token>``. Every
  use of a genuine link is recorded (notice, so channel; IP address; user agent); a guardian's link used from
  the student's client is flagged.
* ``due_reminders`` — the timer: one reminder through the same routes after ``AQ_ACK_REMIND_DAYS``; after
  ``AQ_ACK_OVERDUE_DAYS`` ``notification.acknowledgement_overdue`` goes out through the outbox and advising asks
  the head teacher to contact the family. Rows are claimed with ``FOR UPDATE SKIP LOCKED`` on PostgreSQL and the
  effect commits in the same transaction, so several instances never remind or hand over one request twice.
"""
from __future__ import annotations

import json
import logging
import uuid
from collections import defaultdict
from datetime import datetime, timezone
from functools import lru_cache
from typing import Any, Callable, Iterable, Mapping

import orjson
from marshmallow import EXCLUDE, Schema, ValidationError, fields, validate
from sqlalchemy import and_, func, insert, select, update

from services.notification import tables
from services.notification.channels import available_channels
from services.notification.domain import ack_policy
from services.notification.domain.ack_links import LinkInvalid, LinkSigner
from services.notification.domain.ack_policy import (
    ACKNOWLEDGED, OPEN, SUPERSEDED, WITHDRAWN, AckSettings,
)
from services.notification.domain.recipients import GUARDIAN, NoticeSpec
from services.notification.keyed_updates import update_by_key
from shared.bulk import insert_rows
from shared.db import is_postgres

log = logging.getLogger(__name__)

OVERDUE_EVENT = "notification.acknowledgement_overdue"
USER_AGENT_MAX = 512


def _aware(value: datetime | None) -> datetime | None:
    if value is not None and value.tzinfo is None:     # SQLite gives naive datetimes back (stored as UTC)
        return value.replace(tzinfo=timezone.utc)
    return value


def _iso(value: datetime | None) -> str | None:
    value = _aware(value)
    return value.isoformat() if value else None


def signer(settings: AckSettings) -> LinkSigner:
    return LinkSigner(settings.secret, settings.public_url)


@lru_cache(maxsize=None)
def addressed(channel: str) -> bool:
    """Does ``channel`` reach the recipient's own roster contact (e-mail, phone)? A guardian has no account, so a
    guardian's in-app notice would sit in an inbox someone else reads: the guardian's link goes only by address."""
    entry = available_channels().get(channel)
    return bool(entry is not None and getattr(entry.load(), "address_field", None))


class Links:
    """Puts each acknowledgement-asking notice's own link into its text (handlers.store_notices calls it per
    notice): ``expiries`` maps (cause, recipient id) to the request's expiry."""

    def __init__(self, settings: AckSettings, expiries: Mapping[tuple[str, str], datetime], zone):
        self.signer = signer(settings)
        self.expiries = dict(expiries)
        self.zone = zone

    def context(self, notice_id: str, spec: NoticeSpec, channel: str) -> dict | None:
        expires_at = self.expiries.get((spec.cause, spec.recipient_id))
        if not spec.requires_acknowledgement or expires_at is None:
            return None
        if spec.recipient_kind == GUARDIAN and not addressed(channel):
            return None
        expires_at = _aware(expires_at)
        return {"url": self.signer.url(notice_id, spec.recipient_kind, expires_at),
                "expires_on": expires_at.astimezone(self.zone).date().isoformat(), "role": spec.recipient_kind}


# --- asking ----------------------------------------------------------------------------------------------------

def request(conn, specs: Iterable[NoticeSpec], changes: Mapping[str, Mapping[str, Any]], now: datetime,
            correlation_id: str, settings: AckSettings) -> dict[tuple[str, str], datetime]:
    """One request per (cause, recipient) among ``specs`` that ask for an acknowledgement; returns the expiry of
    each (new or already there), for the links."""
    a = tables.acknowledgements
    wanted = [s for s in specs if s.requires_acknowledgement]
    if not wanted:
        return {}
    causes = sorted({s.cause for s in wanted})
    expiries: dict[tuple[str, str], datetime] = {}
    for start in range(0, len(causes), 500):
        for row in conn.execute(select(a.c.cause, a.c.recipient_id, a.c.expires_at)
                                .where(a.c.cause.in_(causes[start:start + 500]))):
            expiries[(row.cause, row.recipient_id)] = _aware(row.expires_at)
    rows = []
    for spec in wanted:
        key = (spec.cause, spec.recipient_id)
        if key in expiries:
            continue
        change = changes[spec.cause]
        expiries[key] = settings.expires_at(now)
        rows.append({"ack_id": "A-" + uuid.uuid4().hex[:16], "cause": spec.cause,
                     "recipient_kind": spec.recipient_kind, "recipient_id": spec.recipient_id,
                     "student_id": change["student_id"], "semester": change["semester"],
                     "level": change["new_level"], "context": _context_json(spec.context),
                     "status": OPEN, "requested_at": now, "expires_at": expiries[key], "opened_count": 0,
                     "correlation_id": correlation_id})
    _supersede(conn, rows)
    insert_rows(conn, a, rows)
    return expiries


def _context_json(context: dict) -> str:
    """A request's context as JSON text (only ever read back with json.loads). orjson: the standard library's encoder
    showed as ~4 % of notification's samples in the 100k cascade's profile (one context per warning notice to a
    student or guardian); a typical context takes 22 -> 4 us here (benchmarks/ack_context.py)."""
    return orjson.dumps(context, option=orjson.OPT_NON_STR_KEYS).decode()


def _supersede(conn, rows: list[dict]) -> None:
    """The newer notice is the one to acknowledge: a recipient's open requests of other causes are superseded by
    the first of ``rows`` (new requests) addressed to them, and not reminded any more. (A new request's cause is
    never one the recipient has a request of already: ``request`` asks once per cause and recipient.)"""
    a = tables.acknowledgements
    first: dict[str, dict] = {}
    for row in rows:
        first.setdefault(row["recipient_id"], row)
    recipients = sorted(first)
    superseded = []
    for start in range(0, len(recipients), 500):
        for old in conn.execute(select(a.c.ack_id, a.c.recipient_id).where(
                a.c.recipient_id.in_(recipients[start:start + 500]), a.c.status == OPEN)):
            newer = first[old.recipient_id]
            superseded.append({"ack_id": old.ack_id, "status": SUPERSEDED,
                               "closed_note": f"superseded by {newer['ack_id']} ({newer['level']})"})
    # still open: a request acknowledged meanwhile keeps its acknowledgement
    update_by_key(conn, a, superseded, ("ack_id",), where=a.c.status == OPEN)


def withdraw_lifted(conn, changes: Iterable[Mapping[str, Any]]) -> int:
    """A lifted warning needs no acknowledgement any more: its open requests are withdrawn (not reminded, not
    handed to the head teacher). Returns how many."""
    a = tables.acknowledgements
    lifted: dict[str, set[str]] = defaultdict(set)       # semester -> students
    for change in changes:
        if change["kind"] == "lifted":
            lifted[change["semester"]].add(change["student_id"])
    count = 0
    for semester, students in sorted(lifted.items()):
        ids = sorted(students)
        for start in range(0, len(ids), 500):
            count += conn.execute(update(a).where(
                a.c.student_id.in_(ids[start:start + 500]), a.c.semester == semester, a.c.status == OPEN)
                .values(status=WITHDRAWN, closed_note="warning lifted")).rowcount
    return count


# --- using a link ----------------------------------------------------------------------------------------------

class ClientSchema(Schema):
    """How the gateway saw the request: the client's IP address and its User-Agent header."""
    class Meta:
        unknown = EXCLUDE

    ip = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=64))
    user_agent = fields.String(load_default=None, allow_none=True)


def read_client(client: Any) -> dict:
    if client is None:
        client = {}
    if not isinstance(client, Mapping):
        raise ValueError("client must be an object {ip, user_agent}")
    try:
        loaded = ClientSchema().load(dict(client))
    except ValidationError as error:
        raise ValueError(f"client: {error.messages}") from None
    agent = (loaded.get("user_agent") or "").strip()
    return {"ip": (loaded.get("ip") or "").strip() or None, "user_agent": agent[:USER_AGENT_MAX] or None}


def _error(code: str, message: str, **more) -> dict:
    return {"status": "error", "error": code, "message": message, **more}


REFUSALS = {
    SUPERSEDED: ("withdrawn", "a newer notice asks for the acknowledgement instead; please use the link in it"),
    WITHDRAWN: ("withdrawn", "the warning was lifted; nothing needs to be acknowledged"),
}


def _resolve(conn, settings: AckSettings, token: Any, *, lock: bool):
    """(claim, notice, request) for a genuine token; LinkInvalid otherwise. Expiry is the caller's to judge, so
    that a late use is still recorded."""
    claim = signer(settings).read(token)
    n, a = tables.notices, tables.acknowledgements
    notice = conn.execute(select(n.c.notice_id, n.c.cause, n.c.recipient_kind, n.c.recipient_id, n.c.channel,
                                 n.c.locale).where(n.c.notice_id == claim.notice_id)).mappings().first()
    if notice is None or notice["recipient_kind"] != claim.role:
        raise LinkInvalid("the link names no notice to this recipient")
    ack_id = ack_policy.ack_id_of_reminder(notice["cause"])
    query = select(a).where(a.c.ack_id == ack_id) if ack_id else \
        select(a).where(a.c.cause == notice["cause"], a.c.recipient_id == notice["recipient_id"])
    if lock and is_postgres(conn.engine):
        query = query.with_for_update()
    request_row = conn.execute(query).mappings().first()
    if request_row is None or request_row["recipient_id"] != notice["recipient_id"]:
        raise LinkInvalid("the link's notice asks for no acknowledgement")
    return claim, dict(notice), dict(request_row)


def _record_use(conn, settings: AckSettings, request_row: dict, notice: dict, action: str, detail: str | None,
                client: dict, now: datetime) -> bool:
    """Record one use of a link; True if the other role's link was used from this same client lately (then the
    guardian's request is flagged)."""
    a, u = tables.acknowledgements, tables.acknowledgement_uses
    window = settings.same_client_window
    sibling = conn.execute(select(a.c.ack_id).where(
        a.c.cause == request_row["cause"],
        a.c.recipient_kind == ack_policy.sibling_role(request_row["recipient_kind"]))).scalars().all()
    others = []
    if sibling and client["ip"] and client["user_agent"]:
        others = [{"ip": r.ip, "user_agent": r.user_agent, "at": _aware(r.at)} for r in conn.execute(
            select(u.c.ip, u.c.user_agent, u.c.at).where(
                u.c.ack_id.in_(sibling), u.c.ip == client["ip"], u.c.user_agent == client["user_agent"],
                u.c.at >= now - window, u.c.at <= now + window))]
    shared = ack_policy.same_client(client["ip"], client["user_agent"], now, others, window)
    conn.execute(insert(u).values(ack_id=request_row["ack_id"], notice_id=notice["notice_id"],
                                  channel=notice["channel"], action=action, detail=detail, ip=client["ip"],
                                  user_agent=client["user_agent"], same_client=shared, at=now))
    if shared:
        guardian = request_row["ack_id"] if request_row["recipient_kind"] == GUARDIAN else None
        targets = [guardian] if guardian else sibling
        conn.execute(update(a).where(a.c.ack_id.in_(targets), a.c.recipient_kind == GUARDIAN,
                                     a.c.shared_client_at.is_(None)).values(shared_client_at=now))
        log.warning("acknowledgement %s: the guardian's and the student's links were used from the same client",
                    request_row["cause"])
    return shared


def _checked(conn, settings: AckSettings, token: Any, client: dict, now: datetime, action: str):
    """(notice, request, None) for a usable link, or (…, error answer); refusals of genuine links are recorded."""
    try:
        claim, notice, request_row = _resolve(conn, settings, token, lock=True)
    except LinkInvalid as error:
        log.warning("acknowledgement link refused (%s) from %s", error, client["ip"] or "an unknown address")
        return None, None, _error("invalid", "this link is not valid: please use the link exactly as you received it")
    if now >= claim.expires_at:
        _record_use(conn, settings, request_row, notice, "refused", "expired", client, now)
        return notice, request_row, _error(
            "expired", f"this link expired on {claim.expires_at.astimezone(timezone.utc):%Y-%m-%d}; please contact "
            "the head teacher (班主任)", expired_at=claim.expires_at.isoformat())
    refusal = REFUSALS.get(request_row["status"])
    if refusal:
        _record_use(conn, settings, request_row, notice, "refused", request_row["status"], client, now)
        return notice, request_row, _error(*refusal)
    if action == "acknowledged" and request_row["status"] == ACKNOWLEDGED:
        _record_use(conn, settings, request_row, notice, "refused", "already acknowledged", client, now)
        return notice, request_row, _error(
            "already_acknowledged", "this notice was already acknowledged",
            acknowledged_at=_iso(request_row["acknowledged_at"]))
    return notice, request_row, None


def _page(request_row: dict, notice: dict, acknowledged: bool) -> dict:
    shown = ack_policy.page(request_row, json.loads(request_row["context"]), locale=notice.get("locale"),
                            acknowledged=acknowledged)
    return {**shown, "expires_at": _iso(request_row["expires_at"]),
            "acknowledged_at": _iso(request_row["acknowledged_at"])}


def open_acknowledgement(engine, settings: AckSettings, token: Any, client: Any, now: datetime) -> dict:
    """``GET /ack/<token>``: the notice to show (masked), or an error (invalid, expired, withdrawn)."""
    now = now.astimezone(timezone.utc)
    try:
        client = read_client(client)
    except ValueError as error:
        return _error("bad_request", str(error))
    with engine.begin() as conn:
        notice, request_row, refused = _checked(conn, settings, token, client, now, "opened")
        if refused:
            return refused
        _record_use(conn, settings, request_row, notice, "opened", None, client, now)
        a = tables.acknowledgements
        conn.execute(update(a).where(a.c.ack_id == request_row["ack_id"]).values(
            opened_count=a.c.opened_count + 1,
            first_opened_at=func.coalesce(a.c.first_opened_at, now)))
        return {"status": "ok", **_page(request_row, notice, request_row["status"] == ACKNOWLEDGED)}


def acknowledge(engine, settings: AckSettings, token: Any, client: Any, signer_name: Any, now: datetime) -> dict:
    """``POST /ack/<token>``: record the acknowledgement (who signed, through which notice and channel, from which
    client), or an error (invalid, expired, withdrawn, already_acknowledged, bad_request)."""
    now = now.astimezone(timezone.utc)
    try:
        client = read_client(client)
        name = ack_policy.check_signer(signer_name)
    except ValueError as error:
        return _error("bad_request", str(error))
    with engine.begin() as conn:
        notice, request_row, refused = _checked(conn, settings, token, client, now, "acknowledged")
        if refused:
            return refused
        shared = _record_use(conn, settings, request_row, notice, "acknowledged", None, client, now)
        a = tables.acknowledgements
        conn.execute(update(a).where(a.c.ack_id == request_row["ack_id"], a.c.status == OPEN).values(
            status=ACKNOWLEDGED, acknowledged_at=now, signer_name=name, ack_notice_id=notice["notice_id"],
            ack_channel=notice["channel"], ack_ip=client["ip"], ack_user_agent=client["user_agent"],
            first_opened_at=func.coalesce(a.c.first_opened_at, now)))
        request_row.update(status=ACKNOWLEDGED, acknowledged_at=now)
        log.info("acknowledgement %s of %s recorded (via %s)", request_row["ack_id"], request_row["recipient_kind"],
                 notice["channel"])
        return {"status": "acknowledged", **_page(request_row, notice, True), "same_client_flagged": shared}


# --- reminding and handing over --------------------------------------------------------------------------------

def due_reminders(engine, command: Callable[[str], Any], settings, enabled: Iterable[str], now: datetime) -> dict:
    """The timer's work at ``now``: reminders due, then requests overdue. ``settings`` is the service's
    NotificationSettings (routes, languages, the acknowledgement settings). Returns how many of each."""
    now = now.astimezone(timezone.utc)
    reminded = 0
    while True:
        done = _remind_batch(engine, settings, set(enabled), now)
        reminded += done
        if done < settings.acknowledgement.batch_size:
            break
    return {"reminded": reminded, "overdue": _announce_overdue(engine, command, settings.acknowledgement, now)}


def _claim(query, engine):
    # Several instances: a row one of them is reminding is skipped by the others, and gone once it commits.
    return query.with_for_update(skip_locked=True) if is_postgres(engine) else query


def _remind_batch(engine, settings, enabled: set[str], now: datetime) -> int:
    from services.notification import handlers      # handlers imports this module: import at use

    ack = settings.acknowledgement
    a = tables.acknowledgements
    with engine.begin() as conn:
        rows = [dict(r) for r in conn.execute(_claim(
            select(a).where(a.c.status == OPEN, a.c.reminded_at.is_(None), a.c.requested_at <= ack.remind_cutoff(now),
                            a.c.expires_at > now)
            .order_by(a.c.requested_at, a.c.ack_id).limit(ack.batch_size), engine)).mappings()]
        specs = []
        for row in rows:
            context = {**json.loads(row["context"]), "audience": row["recipient_kind"],
                       "requested_on": _aware(row["requested_at"]).astimezone(settings.zone).date().isoformat()}
            specs.append((ack_policy.reminder_spec(row, context), row["correlation_id"], row["ack_id"]))
        expiries = {(spec.cause, spec.recipient_id): row["expires_at"] for (spec, _, _), row in zip(specs, rows)}
        handlers.store_spec_notices(conn, specs, settings, enabled, now, Links(ack, expiries, settings.zone))
        if rows:
            conn.execute(update(a).where(a.c.ack_id.in_([r["ack_id"] for r in rows])).values(reminded_at=now))
    return len(rows)


def overdue_entry(row: Mapping[str, Any], now: datetime) -> dict:
    return {"change_id": row["cause"], "student_id": row["student_id"], "semester": row["semester"],
            "level": row["level"], "recipient_kind": row["recipient_kind"],
            "requested_at": _iso(row["requested_at"]), "reminded_at": _iso(row["reminded_at"]),
            "opened": row["first_opened_at"] is not None,
            "days_open": (now - _aware(row["requested_at"])).days}


def _announce_overdue(engine, command: Callable[[str], Any], settings: AckSettings, now: datetime) -> int:
    a = tables.acknowledgements
    due = and_(a.c.status == OPEN, a.c.overdue_at.is_(None), a.c.requested_at <= settings.overdue_cutoff(now))
    with engine.connect() as conn:
        correlations = list(conn.execute(select(a.c.correlation_id).where(due).distinct().limit(50)).scalars())
    count = 0
    for correlation_id in correlations:
        while True:          # one event per batch, each in its own unit of work
            with command(correlation_id) as uow:
                rows = [dict(r) for r in uow.conn.execute(_claim(
                    select(a).where(due, a.c.correlation_id == correlation_id)
                    .order_by(a.c.cause, a.c.recipient_kind).limit(settings.batch_size), engine)).mappings()]
                if rows:
                    uow.announce(OVERDUE_EVENT, {"acknowledgements": [overdue_entry(r, now) for r in rows]})
                    uow.conn.execute(update(a).where(a.c.ack_id.in_([r["ack_id"] for r in rows]))
                                     .values(overdue_at=now))
                    count += len(rows)
            if len(rows) < settings.batch_size:
                break
    return count


# --- read side -------------------------------------------------------------------------------------------------

LISTED = ("ack_id", "student_id", "recipient_kind", "recipient_id", "semester", "level", "status", "opened_count",
          "signer_name", "ack_notice_id", "ack_channel", "ack_ip", "ack_user_agent", "closed_note", "correlation_id")
LISTED_TIMES = ("requested_at", "expires_at", "first_opened_at", "acknowledged_at", "reminded_at", "overdue_at",
                "shared_client_at")


def list_acknowledgements(conn, semester: str | None = None, missing: bool = False,
                          student_id: str | None = None) -> list[dict]:
    """Requests with how each went: the channels the link went out through, opened, signed (by whom, through
    which channel, from which client), reminded, handed to the head teacher, flagged; every use of the links."""
    a, n, u = tables.acknowledgements, tables.notices, tables.acknowledgement_uses
    query = select(a).order_by(a.c.semester, a.c.student_id, a.c.recipient_kind, a.c.requested_at)
    if semester:
        query = query.where(a.c.semester == semester)
    if missing:
        query = query.where(a.c.status == OPEN)
    if student_id:
        query = query.where(a.c.student_id == student_id)
    rows = [dict(r) for r in conn.execute(query).mappings()]
    if not rows:
        return []
    causes = sorted({r["cause"] for r in rows} | {ack_policy.reminder_cause(r["ack_id"]) for r in rows})
    sent: dict[tuple[str, str], set[str]] = defaultdict(set)
    for start in range(0, len(causes), 500):
        for r in conn.execute(select(n.c.cause, n.c.recipient_id, n.c.channel).where(
                n.c.cause.in_(causes[start:start + 500]), n.c.status == "sent")):
            sent[(r.cause, r.recipient_id)].add(r.channel)
    ids = [r["ack_id"] for r in rows]
    uses: dict[str, list[dict]] = defaultdict(list)
    for start in range(0, len(ids), 500):
        for r in conn.execute(select(u).where(u.c.ack_id.in_(ids[start:start + 500])).order_by(u.c.at, u.c.use_id)
                              ).mappings():
            uses[r["ack_id"]].append({"at": _iso(r["at"]), "action": r["action"], "detail": r["detail"],
                                      "notice_id": r["notice_id"], "channel": r["channel"], "ip": r["ip"],
                                      "user_agent": r["user_agent"], "same_client": r["same_client"]})
    return [{**{c: row[c] for c in LISTED}, **{t: _iso(row[t]) for t in LISTED_TIMES},
             "change_id": row["cause"], "shared_client": row["shared_client_at"] is not None,
             "sent_via": sorted(sent[(row["cause"], row["recipient_id"])]),
             "reminder_via": sorted(sent[(ack_policy.reminder_cause(row["ack_id"]), row["recipient_id"])]),
             "uses": uses[row["ack_id"]]}
            for row in rows]


def relink_fallback(settings: AckSettings | None, row: Mapping[str, Any], new_notice_id: str, channel: str) -> dict:
    """The texts of a failed notice for the delivery that stands in for it (delivery._fall_back): each link
    re-signed for the new notice, so a use shows the channel it really came through. A guardian's link does not
    move to a channel without the guardian's own address (it is hidden there)."""
    from services.notification.domain.ack_links import hide_tokens

    texts = {k: row.get(k) for k in ("text", "html", "short_text")}
    if not row.get("requires_acknowledgement"):
        return texts
    if row["recipient_kind"] == GUARDIAN and not addressed(channel):
        return {k: hide_tokens(v) for k, v in texts.items()}
    links = signer(settings or AckSettings())
    return {k: links.relink(v, row["notice_id"], new_notice_id) for k, v in texts.items()}
