"""Notices to students, guardians and staff (aq notices list/show/resend/preview/inbox/channels/prefer/digests).

A notice to a student or guardian is seen by whoever's scope covers the student; a notice to a staff member by
that staff member and the college-wide roles. Texts are shown with phone numbers and e-mail addresses masked.
"""
from __future__ import annotations

from marshmallow import fields, validate

from services.gateway.api.common import Body, Out, covered_students, found, id_field, recipient_student
from services.gateway.domain.masking import mask_text
from services.gateway.errors import Forbidden, Unprocessable
from services.gateway.routes import endpoint

STATUSES = ("pending", "held", "sending", "sent", "failed", "unconfirmed")
RECIPIENT_KINDS = ("student", "guardian", "head_teacher", "counselor", "department_head", "vice_dean")


class NoticesSearch(Body):
    recipient_id = fields.String(load_default=None, allow_none=True, validate=validate.Length(min=1, max=80),
                                 metadata={"description": "student id, guardian:<student id> or staff id"})
    statuses = fields.List(fields.String(validate=validate.OneOf(STATUSES)), load_default=None, allow_none=True)
    failed = fields.Boolean(load_default=False, metadata={"description": "only failed or unconfirmed"})
    upload_id = id_field()
    kinds = fields.List(fields.String(validate=validate.Length(min=1, max=64)), load_default=None, allow_none=True)


class NoticeRow(Out):
    notice_id = fields.String()
    kind = fields.String()
    recipient_kind = fields.String()
    recipient_id = fields.String()
    channel = fields.String()
    cause = fields.String(allow_none=True)
    status = fields.String()
    attempts = fields.Integer()
    last_error = fields.Function(lambda row: mask_text(row.get("last_error")))
    requires_acknowledgement = fields.Boolean()
    subject = fields.String(allow_none=True)
    correlation_id = fields.String(allow_none=True)
    locale = fields.String(allow_none=True)
    fallback_of = fields.String(allow_none=True)
    created_at = fields.String(allow_none=True)
    sent_at = fields.String(allow_none=True)
    next_attempt_at = fields.String(allow_none=True)


class NoticesOut(Out):
    notices = fields.List(fields.Nested(NoticeRow))


class NoticePath(Body):
    notice_id = id_field(required=True)


class NoticeOut(NoticeRow):
    text = fields.Function(lambda row: mask_text(row.get("text")))
    html = fields.Function(lambda row: mask_text(row.get("html")))
    short_text = fields.Function(lambda row: mask_text(row.get("short_text")))
    provider_ref = fields.String(allow_none=True)
    fallbacks = fields.Raw(allow_none=True)


class ResendOut(Out):
    status = fields.String()
    notice_id = fields.String()


class PreviewQuery(Body):
    kind = fields.String(required=True, validate=validate.Length(min=1, max=64))
    recipient_kind = fields.String(load_default=None, allow_none=True, validate=validate.OneOf(RECIPIENT_KINDS))
    locale = fields.String(load_default="zh", validate=validate.OneOf(["zh", "en"]))


class PreviewOut(Out):
    kind = fields.String()
    recipient_kind = fields.String()
    requires_acknowledgement = fields.Boolean()
    subject = fields.String()
    text = fields.String()
    html = fields.String()
    sms = fields.String()
    sms_segments = fields.Integer()


class InboxBody(Body):
    recipient_id = fields.String(load_default=None, allow_none=True, validate=validate.Length(min=1, max=80),
                                 metadata={"description": "default: your own inbox"})


class InboxRow(Out):
    notice_id = fields.String()
    recipient_id = fields.String()
    subject = fields.String(allow_none=True)
    text = fields.Function(lambda row: mask_text(row.get("text")))
    created_at = fields.String(allow_none=True)
    read_at = fields.String(allow_none=True)


class InboxOut(Out):
    messages = fields.List(fields.Nested(InboxRow))


class ChannelOut(Out):
    name = fields.String()
    healthy = fields.Boolean()
    idempotent = fields.Boolean()
    settings = fields.Dict()


class ChannelsOut(Out):
    channels = fields.List(fields.Nested(ChannelOut))
    routes = fields.Dict(keys=fields.String(), values=fields.String())
    locale = fields.String()
    quiet_hours = fields.List(fields.String())
    timezone = fields.String()
    digest_times = fields.List(fields.String())
    tell_tasks = fields.Boolean()


class PreferenceBody(Body):
    recipient_id = fields.String(required=True, validate=validate.Length(min=1, max=80))
    routes = fields.String(load_default=None, allow_none=True, validate=validate.Length(min=1, max=200),
                           metadata={"example": "sms>email"})
    locale = fields.String(load_default=None, allow_none=True, validate=validate.OneOf(["zh", "en"]))
    clear = fields.Boolean(load_default=False)


class PreferenceOut(Out):
    status = fields.String()
    recipient_id = fields.String()
    routes = fields.String(allow_none=True)
    locale = fields.String(allow_none=True)


class DigestsBody(Body):
    recipient_id = fields.String(load_default=None, allow_none=True, validate=validate.Length(min=1, max=80))


class DigestRow(Out):
    recipient_id = fields.String()
    task_id = fields.String()
    item_kind = fields.String()
    urgent = fields.Boolean()
    bucket_at = fields.String(allow_none=True)


class DigestsOut(Out):
    items = fields.List(fields.Nested(DigestRow))


# --- who may see which recipient's notices -----------------------------------------------------------------------

def _student_of(recipient_kind: str | None, recipient_id: str) -> str | None:
    if recipient_kind == "student":
        return recipient_id
    return recipient_student(recipient_id)


def _visible(ctx, rows: list[dict]) -> list[dict]:
    principal = ctx.principal
    if principal.college_wide:
        return rows
    students = covered_students(ctx, {_student_of(r.get("recipient_kind"), r["recipient_id"]) for r in rows})
    return [r for r in rows
            if r["recipient_id"] == principal.staff_id
            or _student_of(r.get("recipient_kind"), r["recipient_id"]) in students]


def _check_recipient(ctx, recipient_id: str) -> None:
    """May this principal look at what was sent to ``recipient_id``?"""
    principal = ctx.principal
    if principal.college_wide or recipient_id == principal.staff_id:
        return
    student = recipient_student(recipient_id) or recipient_id
    if student not in covered_students(ctx, [student]):
        raise Forbidden("this recipient is outside what you are responsible for", field="recipient_id")


# --- endpoints ---------------------------------------------------------------------------------------------------

@endpoint("POST", "/api/notices/search", name="notices.list", permission="notices.read", request=NoticesSearch(),
          response=NoticesOut(), audit="read",
          summary="Notices, one per recipient and channel, of the students (and yourself) you are responsible for.")
def list_notices(ctx, body):
    if body.get("recipient_id"):
        _check_recipient(ctx, body["recipient_id"])
    statuses = body.get("statuses") or (["failed", "unconfirmed"] if body["failed"] else None)
    rows = ctx.rpc("notification", "list_notices", recipient_id=body.get("recipient_id"), statuses=statuses,
                   correlation_id=body.get("upload_id"), kinds=body.get("kinds"))
    return {"notices": _visible(ctx, rows)}


@endpoint("GET", "/api/notices/<notice_id>", name="notices.show", permission="notices.read", request=NoticePath(),
          response=NoticeOut(), audit="read",
          summary="One notice: its status, attempts and the text sent (contacts masked).")
def show_notice(ctx, body):
    row = found(ctx.rpc("notification", "notice", notice_id=body["notice_id"]), "notice with this id", "notice_id")
    if not _visible(ctx, [row]):
        raise Forbidden("this notice went to someone outside what you are responsible for", field="notice_id")
    return row


@endpoint("POST", "/api/notices/<notice_id>/resend", name="notices.resend", permission="notices.manage",
          request=NoticePath(), response=ResendOut(), audit="change",
          summary="Deliver a failed or unconfirmed notice again (same Message-ID / client reference).")
def resend_notice(ctx, body):
    answer = ctx.rpc("notification", "resend", notice_id=body["notice_id"])
    if answer.get("status") != "queued":
        raise Unprocessable(answer.get("message") or "not resent", field="notice_id")
    return {"status": "queued", "notice_id": body["notice_id"]}


@endpoint("GET", "/api/notices/preview", name="notices.preview", permission="notices.preview",
          request=PreviewQuery(), response=PreviewOut(),
          summary="An example notice of a kind, rendered with made-up data (no personal data).")
def preview_notice(ctx, body):
    from services.notification.channels.sms import fit, segments
    from services.notification.domain.examples import KINDS, example
    from services.notification.domain.rendering import render
    if body["kind"] not in KINDS:
        raise Unprocessable(f"unknown kind; one of: {', '.join(KINDS)}", field="kind")
    try:
        spec = example(body["kind"], body.get("recipient_kind"))
        rendered = render(spec, body["locale"])
    except ValueError as error:
        raise Unprocessable(str(error), field="recipient_kind")
    sms = fit(rendered.short, 3)
    return {"kind": body["kind"], "recipient_kind": spec.recipient_kind,
            "requires_acknowledgement": spec.requires_acknowledgement, "subject": rendered.subject,
            "text": rendered.text, "html": rendered.html, "sms": sms, "sms_segments": segments(sms)}


@endpoint("POST", "/api/notices/inbox", name="notices.inbox", permission="notices.read", request=InboxBody(),
          response=InboxOut(), audit="read", summary="An in-app inbox: yours, or one you are responsible for.")
def inbox(ctx, body):
    recipient = body.get("recipient_id") or ctx.principal.staff_id
    if not recipient:
        raise Unprocessable("you have no staff id: name the recipient", field="recipient_id")
    _check_recipient(ctx, recipient)
    return {"messages": ctx.rpc("notification", "inbox", recipient_id=recipient)}


@endpoint("GET", "/api/notices/channels", name="notices.channels", permission="notices.channels",
          response=ChannelsOut(), summary="Enabled channels with health and settings (no secrets), routes, quiet "
                                          "hours and digest times.")
def channels(ctx, body):
    return ctx.rpc("notification", "channels")


@endpoint("POST", "/api/notices/preferences", name="notices.prefer", permission="notices.manage",
          request=PreferenceBody(), response=PreferenceOut(), audit="change",
          summary="Set how one recipient is told (channels with fallbacks, language), or clear it.")
def prefer(ctx, body):
    if not body["clear"] and not body.get("routes") and not body.get("locale"):
        raise Unprocessable("give routes and/or locale, or clear", field="routes")
    answer = ctx.rpc("notification", "set_preference", recipient_id=body["recipient_id"],
                     routes=None if body["clear"] else body.get("routes"),
                     locale=None if body["clear"] else body.get("locale"))
    if answer.get("status") != "saved":
        raise Unprocessable(answer.get("message") or "not saved", field="routes")
    return {"recipient_id": body["recipient_id"], **answer}


@endpoint("POST", "/api/notices/digests", name="notices.digests", permission="notices.read", request=DigestsBody(),
          response=DigestsOut(),
          summary="Task assignments and reminders waiting for a staff member's digest (yours by default).")
def digests(ctx, body):
    principal = ctx.principal
    recipient = body.get("recipient_id") or (None if principal.college_wide else principal.staff_id)
    if not principal.college_wide and (recipient is None or recipient != principal.staff_id):
        raise Forbidden("only your own digest", field="recipient_id")
    return {"items": ctx.rpc("notification", "task_items", recipient_id=recipient)}

