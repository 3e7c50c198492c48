"""A student's or guardian's acknowledgement (回执) of a formal notice, through the signed link in that notice.

The link's token is the only credential: no session, no CSRF (no cookie is used), and the answer shows only what
the notification service's page shows (masked name and id, level, reasons, what happens next).
"""
from __future__ import annotations

from marshmallow import fields, validate

from services.gateway.api.common import Body, Out
from services.gateway.errors import ApiError, NotFound, Unprocessable
from services.gateway.routes import PUBLIC, endpoint

TOKEN = validate.Length(min=8, max=2048)


class Gone(ApiError):
    status = 410


class Conflict(ApiError):
    status = 409


_ERRORS = {"invalid": NotFound, "expired": Gone, "withdrawn": Gone, "already_acknowledged": Conflict,
           "bad_request": Unprocessable}
_FIELDS = {"bad_request": "signer_name", "invalid": "token"}


class AckPath(Body):
    token = fields.String(required=True, validate=TOKEN)


class AckBody(AckPath):
    signer_name = fields.String(required=True, validate=validate.Length(min=1, max=64),
                                metadata={"description": "who signs: the guardian's or student's name"})


class StudentOut(Out):
    name = fields.String(allow_none=True)
    id = fields.String(allow_none=True)


class AckOut(Out):
    status = fields.String()
    role = fields.String()
    student = fields.Nested(StudentOut)
    semester = fields.String()
    level = fields.String()
    change = fields.String(allow_none=True)
    old_level = fields.String(allow_none=True)
    escalated = fields.Boolean()
    reasons = fields.List(fields.Dict())
    follow_up = fields.Dict(allow_none=True)
    locale = fields.String()
    acknowledged = fields.Boolean()
    expires_at = fields.String(allow_none=True)
    acknowledged_at = fields.String(allow_none=True)


def _client(ctx) -> dict:
    request = ctx.request
    agent = request.headers.get("User-Agent") if request is not None else None
    return {"ip": ctx.client if ctx.client != "-" else None, "user_agent": agent}


def _answer(answer: dict) -> dict:
    if answer.get("status") == "error":
        error = _ERRORS.get(answer.get("error"), Unprocessable)
        extra = {k: answer[k] for k in ("expired_at", "acknowledged_at") if answer.get(k)}
        raise error(answer.get("message") or answer.get("error"), field=_FIELDS.get(answer.get("error")),
                    error=answer.get("error"), **extra)
    return answer


@endpoint("GET", "/api/ack/<token>", name="acknowledgement.open", permission=PUBLIC, request=AckPath(),
          response=AckOut(), summary="What a signed acknowledgement link shows: 404 invalid, 410 expired or "
                                     "withdrawn.")
def open_acknowledgement(ctx, body):
    return _answer(ctx.rpc("notification", "open_acknowledgement", token=body["token"], client=_client(ctx)))


@endpoint("POST", "/api/ack/<token>", name="acknowledgement.sign", permission=PUBLIC, request=AckBody(),
          response=AckOut(), summary="Acknowledge the notice (signer's name): 409 if already acknowledged.")
def acknowledge(ctx, body):
    return _answer(ctx.rpc("notification", "acknowledge", token=body["token"], client=_client(ctx),
                           signer_name=body["signer_name"]))


# --- for staff: which notices were acknowledged --------------------------------------------------------------------

class AcksSearch(Body):
    semester = fields.String(load_default=None, allow_none=True,
                             validate=validate.Regexp(r"^\d{4}-\d{4}-[123]$", error="a semester code YYYY-YYYY-T"))
    missing = fields.Boolean(load_default=False, metadata={"description": "only those not acknowledged yet"})
    student_id = fields.String(load_default=None, allow_none=True, validate=validate.Length(min=1, max=64))


def _ip(value: str | None) -> str | None:
    """Enough of an address to tell two clients apart, not to find a household: the last part is hidden."""
    if not value:
        return value
    sep = ":" if ":" in value else "."
    head, _, _ = value.rpartition(sep)
    return f"{head}{sep}*" if head else "*"


class UseRow(Out):
    at = fields.String(allow_none=True)
    action = fields.String(allow_none=True)
    detail = fields.String(allow_none=True)
    channel = fields.String(allow_none=True)
    ip = fields.Function(lambda row: _ip(row.get("ip")))
    same_client = fields.Boolean(allow_none=True)


class AckRow(Out):
    ack_id = fields.String(allow_none=True)
    student_id = fields.String()
    recipient_kind = fields.String()
    semester = fields.String(allow_none=True)
    level = fields.String(allow_none=True)
    status = fields.String()
    requested_at = fields.String(allow_none=True)
    expires_at = fields.String(allow_none=True)
    opened_count = fields.Integer(allow_none=True)
    acknowledged_at = fields.String(allow_none=True)
    signer_name = fields.String(allow_none=True)
    ack_channel = fields.String(allow_none=True)
    reminded_at = fields.String(allow_none=True)
    overdue_at = fields.String(allow_none=True)
    shared_client = fields.Boolean()
    sent_via = fields.List(fields.String())
    reminder_via = fields.List(fields.String())
    uses = fields.List(fields.Nested(UseRow))


class AcksOut(Out):
    acknowledgements = fields.List(fields.Nested(AckRow))


@endpoint("POST", "/api/acknowledgements/search", name="acknowledgement.list", permission="notices.read",
          request=AcksSearch(), response=AcksOut(), audit="read",
          summary="Acknowledgements (回执) of formal warning notices for the students you are responsible for: "
                  "sent through, opened, signed by whom, reminded, overdue, and a guardian's link used from the "
                  "student's own client (addresses shown without their last part).")
def list_acknowledgements(ctx, body):
    from services.gateway.api.common import covered_students, require_student
    if body.get("student_id"):
        require_student(ctx, body["student_id"])
    rows = ctx.rpc("notification", "acknowledgements", semester=body.get("semester"), missing=body["missing"],
                   student_id=body.get("student_id"))
    covered = covered_students(ctx, {r["student_id"] for r in rows})
    return {"acknowledgements": [r for r in rows if r["student_id"] in covered]}
