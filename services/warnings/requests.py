"""The bodies of the review and policy RPCs (aq warnings pending|confirm|exclude|policy-install), checked at the
boundary: a bad request is answered with ``{"status": "rejected", "message": …}`` naming the field and why."""
from __future__ import annotations

from marshmallow import Schema, ValidationError, fields, validate, validates

from shared.academic.semesters import Semester

_who = dict(required=True, validate=validate.Length(min=1, max=128))


class _Stripped(fields.String):
    """Text whose surrounding blanks are dropped, so "  " counts as missing."""

    def _deserialize(self, value, attr, data, **kwargs):
        return super()._deserialize(value, attr, data, **kwargs).strip()


class PendingRequest(Schema):
    semester = fields.String(load_default=None, allow_none=True)
    batch_id = fields.Integer(load_default=None, allow_none=True, strict=True)
    everything = fields.Boolean(load_default=False)

    @validates("semester")
    def _semester(self, value, **kwargs):
        if value is not None:
            try:
                Semester.parse(value)
            except ValueError as exc:
                raise ValidationError(str(exc)) from exc


class ConfirmRequest(Schema):
    batch_id = fields.Integer(required=True, strict=True, validate=validate.Range(min=1))
    confirmed_by = _Stripped(**_who)


class ExcludeRequest(Schema):
    batch_id = fields.Integer(required=True, strict=True, validate=validate.Range(min=1))
    student_id = _Stripped(required=True, validate=validate.Length(min=1, max=32))
    reason = _Stripped(required=True, validate=validate.Length(min=1, max=2000,
                                                               error="give the reason (1 to 2000 characters)"))
    excluded_by = _Stripped(**_who)


class InstallRequest(Schema):
    policy_text = fields.String(required=True, validate=validate.Length(min=1, max=200_000))
    installed_by = _Stripped(**_who)


def load(schema: type[Schema], body: dict) -> tuple[dict | None, dict | None]:
    """(the checked body, None) or (None, a rejection naming every bad field)."""
    try:
        return schema().load(body), None
    except ValidationError as exc:
        problems = "; ".join(f"{field}: {' '.join(map(str, messages)) if isinstance(messages, list) else messages}"
                             for field, messages in sorted(exc.messages.items()))
        return None, {"status": "rejected", "message": f"bad request: {problems}"}
