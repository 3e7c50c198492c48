"""Warning policies and review before release (docs/warnings.md): check and try a policy file (aq policy check /
what-if), the lists that wait for review (aq warnings pending), confirming a batch or excluding a student from it,
installing a policy version (aq warnings confirm / exclude / policy-install / policies).

Who decides is the principal: confirmations, exclusions and installations are recorded under the signed-in staff
member's id (an API token without one: its token id), never a name sent in the body.
"""
from __future__ import annotations

import base64
import binascii

from marshmallow import ValidationError, fields, post_load, validate, validates_schema

from services.gateway.api.common import Body, Out, check_answer, id_field, semester_field
from services.gateway.errors import NotFound, Unprocessable
from services.gateway.routes import endpoint
from services.warnings.domain.policy import Policy, PolicyError

MAX_POLICY = 200_000      # characters, as the warnings service accepts


class PolicyBody(Body):
    """A policy file: its text as ``policy_text`` (JSON, or a form's text area), or the file itself (a multipart
    form's file field, or JSON ``filename`` + ``content_b64``)."""
    policy_text = fields.String(load_default=None, allow_none=True, validate=validate.Length(min=1, max=MAX_POLICY),
                                metadata={"description": "the YAML text of a policy file"})
    filename = fields.String(load_default=None, allow_none=True, validate=validate.Length(min=1, max=255))
    content_b64 = fields.String(load_default=None, allow_none=True,
                                metadata={"description": "the policy file's bytes, base64 (UTF-8 text)"})

    @validates_schema
    def _one_policy(self, data, **_):
        given = [k for k in ("policy_text", "content_b64") if data.get(k)]
        if len(given) != 1:
            raise ValidationError("send the policy as policy_text, or as a file (filename and content_b64), "
                                  "not both and not neither", "policy_text")

    @post_load
    def _as_text(self, data, **_):
        # The service takes the text: a file's bytes are read here (UTF-8, a BOM allowed), with what is wrong.
        if data.get("content_b64"):
            data = {**data, "policy_text": _file_text(data["content_b64"]), "content_b64": None}
        return data


def _file_text(content_b64: str) -> str:
    try:
        raw = base64.b64decode(content_b64, validate=True)
    except (binascii.Error, ValueError):
        raise ValidationError("not base64", "content_b64")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ValidationError(f"a policy file is UTF-8 text ({exc.reason} at byte {exc.start})", "content_b64")
    if not text.strip():
        raise ValidationError("the policy file is empty", "content_b64")
    if len(text) > MAX_POLICY:
        raise ValidationError(f"the policy file must hold at most {MAX_POLICY} characters", "content_b64")
    return text


def _source(body: dict) -> str:
    return body.get("filename") or "policy"


class WhatIfBody(PolicyBody):
    semester = semester_field()     # only this semester is reported; both policies still see the whole history


class CheckOut(Out):
    status = fields.String()
    version = fields.String()
    rules = fields.List(fields.String())
    escalation = fields.Boolean()
    review_required = fields.Boolean()
    objection_window_hours = fields.Float()


class KindCounts(Out):
    issued = fields.Integer()
    escalated = fields.Integer()
    downgraded = fields.Integer()
    lifted = fields.Integer()
    total = fields.Integer()


class LevelCounts(Out):
    today = fields.Integer()
    candidate = fields.Integer()
    difference = fields.Integer()


class WhatIfChangeOut(Out):
    student_id = fields.String()
    name = fields.String(allow_none=True)
    cohort = fields.String(allow_none=True)
    class_name = fields.String(allow_none=True)
    semester = fields.String()
    kind = fields.String()
    old_level = fields.String()
    new_level = fields.String()
    rules = fields.List(fields.String())


class WhatIfOut(Out):
    current_policy = fields.String()
    candidate_policy = fields.String()
    semester = fields.String(allow_none=True)
    students = fields.Integer(metadata={"description": "students evaluated"})
    by_kind = fields.Nested(KindCounts)
    by_level = fields.Dict(keys=fields.String(), values=fields.Nested(LevelCounts),
                           metadata={"description": "level -> warnings today and under the candidate"})
    by_cohort = fields.Dict(keys=fields.String(), values=fields.Nested(KindCounts))
    by_class = fields.Dict(keys=fields.String(), values=fields.Nested(KindCounts))
    changes = fields.List(fields.Nested(WhatIfChangeOut))


def _actor(ctx) -> str:
    """Who is recorded as deciding: the staff id, or (an API token without one) the token's id."""
    return ctx.principal.staff_id or ctx.principal.user_id


@endpoint("POST", "/api/policies/check", name="policy.check", permission="policy.try", request=PolicyBody(),
          response=CheckOut(),
          summary="Is this a policy file the warnings service can use (aq policy check)? Its version and rules, or "
                  "422 saying what is wrong and where.")
def check_policy(ctx, body):
    try:
        policy = Policy.from_text(body["policy_text"], _source(body))
    except PolicyError as exc:
        raise Unprocessable(str(exc), field="policy_text")
    return {"status": "ok", "version": policy.version, "rules": list(policy.rule_names),
            "escalation": policy.escalation, "review_required": policy.review_required,
            "objection_window_hours": policy.objection_window_hours}


@endpoint("POST", "/api/policies/what-if", name="policy.what_if", permission="policy.try", request=WhatIfBody(),
          response=WhatIfOut(), audit="read",
          summary="Who this policy would warn, escalate, downgrade or lift compared with today, counted by level, "
                  "cohort and class (aq policy what-if). Stores nothing, tells nobody.")
def what_if(ctx, body):
    answer = ctx.rpc("warnings", "what_if", policy_text=body["policy_text"], semester=body.get("semester"),
                     source=_source(body))
    if answer.get("status") != "ok":
        raise Unprocessable(answer.get("error") or "the policy cannot be used", field="policy_text")
    ctx.audit_subject = {"candidate_policy": answer["candidate_policy"], "semester": body.get("semester"),
                         "students": len({c["student_id"] for c in answer["changes"]})}
    return answer


# --- policy versions -------------------------------------------------------------------------------------------

class InstallOut(Out):
    status = fields.String(metadata={"description": "installed, or unchanged (the same version and text again)"})
    message = fields.String(allow_none=True)
    version = fields.String()
    previous = fields.String(allow_none=True)
    students = fields.Integer(allow_none=True, metadata={"description": "students re-evaluated"})
    changes = fields.Integer(allow_none=True)
    correlation_id = fields.String(allow_none=True, metadata={"description": "follow it: /api/uploads/{id}/status"})
    review_required = fields.Boolean(allow_none=True)


@endpoint("POST", "/api/policies", name="policy.install", permission="policy.install", request=PolicyBody(),
          response=InstallOut(), audit="change", status=201,
          summary="Install a policy version for every warnings instance (aq warnings policy-install): everybody "
                  "with grade records is re-evaluated; level changes go through review when the policy asks.")
def install_policy(ctx, body):
    answer = check_answer(ctx.rpc("warnings", "install_policy", policy_text=body["policy_text"],
                                  installed_by=_actor(ctx)), field="policy_text")
    ctx.audit_subject = {"version": answer.get("version"), "status": answer.get("status")}
    return answer


class PolicyVersion(Out):
    seq = fields.Integer()
    version = fields.String()
    installed_at = fields.String(allow_none=True)
    installed_by = fields.String(allow_none=True)


class PoliciesOut(Out):
    in_force = fields.String()
    review_required = fields.Boolean()
    objection_window_hours = fields.Float()
    installed = fields.List(fields.Nested(PolicyVersion))


@endpoint("GET", "/api/policies", name="policy.list", permission="policy.try", response=PoliciesOut(),
          summary="The policy version in force (with its review setting) and every version installed.")
def list_policies(ctx, body):
    return ctx.rpc("warnings", "list_policies")


# --- review before release -------------------------------------------------------------------------------------

class PendingQuery(Body):
    semester = semester_field()
    batch_id = fields.Integer(load_default=None, allow_none=True, validate=validate.Range(min=1, max=2**31 - 1))
    everything = fields.Boolean(load_default=False, metadata={
        "description": "every change of the batches shown (also excluded, superseded, released); with batch_id, "
                       "a batch in any state"})


class ReasonOut(Out):
    rule = fields.String()
    level = fields.String(allow_none=True)
    measure = fields.Float(allow_none=True)
    threshold = fields.Float(allow_none=True)
    comparison = fields.String(allow_none=True)
    courses = fields.List(fields.Dict(), allow_none=True)


class PendingChange(Out):
    change_id = fields.String()
    student_id = fields.String()
    name = fields.String(allow_none=True)
    class_name = fields.String(allow_none=True)
    major = fields.String(allow_none=True)
    cohort = fields.Integer(allow_none=True)
    semester = fields.String()
    kind = fields.String()
    old_level = fields.String()
    new_level = fields.String()
    escalated = fields.Boolean()
    policy_version = fields.String()
    rules = fields.List(fields.String())
    reasons = fields.List(fields.Nested(ReasonOut))
    release_status = fields.String()
    excluded_by = fields.String(allow_none=True)
    excluded_at = fields.String(allow_none=True)
    reason = fields.String(allow_none=True, metadata={"description": "why the student was excluded"})
    superseded_by = fields.String(allow_none=True)
    computed_at = fields.String(allow_none=True)
    released_at = fields.String(allow_none=True)


class Batch(Out):
    batch_id = fields.Integer()
    correlation_id = fields.String(metadata={"description": "the upload, or policy:<version>"})
    status = fields.String(metadata={"description": "pending, confirmed (objection window), released, superseded"})
    created_at = fields.String()
    confirmed_by = fields.String(allow_none=True)
    confirmed_at = fields.String(allow_none=True)
    release_at = fields.String(allow_none=True)
    released_at = fields.String(allow_none=True)
    counts = fields.Dict(keys=fields.String(), values=fields.Integer())
    changes = fields.List(fields.Nested(PendingChange))


class PendingOut(Out):
    batches = fields.List(fields.Nested(Batch))


def _with_people(ctx, batches: list[dict]) -> list[dict]:
    """Each change with the student's name, class, major and cohort; changes of students outside the principal's
    scope left out (the roles that may review cover the college, but the rule holds for any that may later)."""
    ids = sorted({c["student_id"] for b in batches for c in b["changes"]})
    info = ctx.rpc("roster", "responsibles", student_ids=ids) if ids else {}
    shown = []
    for batch in batches:
        changes = []
        for change in batch["changes"]:
            person = info.get(change["student_id"])
            if not ctx.principal.covers_student(person):
                continue
            person = person or {}
            changes.append({**change, **{k: person.get(k) for k in ("name", "class_name", "major", "cohort")}})
        shown.append({**batch, "changes": changes})
    return shown


@endpoint("GET", "/api/warnings/pending", name="warnings.pending", permission="warnings.pending",
          request=PendingQuery(), response=PendingOut(), audit="read",
          summary="The computed warning lists waiting for review, batch by batch (one per upload or policy "
                  "installation): each student's change from what was announced to what the policy says now.")
def pending(ctx, body):
    answer = ctx.rpc("warnings", "list_pending", semester=body.get("semester"), batch_id=body.get("batch_id"),
                     everything=body["everything"])
    check_answer(answer if isinstance(answer, dict) else {}, field="semester")
    batches = _with_people(ctx, answer)
    ctx.audit_subject = {**{k: v for k, v in body.items() if v}, "batches": len(batches),
                         "students": len({c["student_id"] for b in batches for c in b["changes"]})}
    return {"batches": batches}


class BatchPath(Body):
    batch_id = fields.Integer(required=True, validate=validate.Range(min=1, max=2**31 - 1),
                              metadata={"description": "the batch's number (GET /api/warnings/pending)"})


class ConfirmOut(Out):
    status = fields.String(metadata={"description": "released (announced now) or confirmed (after the objection "
                                                   "window)"})
    batch_id = fields.Integer()
    correlation_id = fields.String(metadata={"description": "follow the cascade: /api/uploads/{id}/status"})
    changes = fields.Integer()
    released = fields.Integer()
    release_at = fields.String(allow_none=True)


def _batch_exists(ctx, batch_id: int) -> None:
    known = ctx.rpc("warnings", "list_pending", batch_id=batch_id, everything=True)
    if not isinstance(known, list) or not known:
        raise NotFound(f"no release batch {batch_id} (GET /api/warnings/pending lists those waiting)",
                       field="batch_id")


@endpoint("POST", "/api/warnings/batches/<batch_id>/confirm", name="warnings.confirm",
          permission="warnings.release", request=BatchPath(), response=ConfirmOut(), audit="change",
          summary="Confirm a pending batch: its changes are announced (notices and tasks follow) at once, or after "
                  "the policy's objection window. Refused while the upload is still being evaluated.")
def confirm(ctx, body):
    _batch_exists(ctx, body["batch_id"])
    return check_answer(ctx.rpc("warnings", "confirm_batch", batch_id=body["batch_id"], confirmed_by=_actor(ctx)),
                        field="batch_id")


class ExcludeBody(BatchPath):
    student_id = id_field(required=True)
    reason = fields.String(required=True, validate=validate.Length(max=2000),
                           metadata={"description": "why the student is left out of this release (recorded)"})

    @validates_schema
    def _reason_given(self, data, **_):
        if not (data.get("reason") or "").strip():
            raise ValidationError("give the reason the student is left out of this release", "reason")


class ExcludedChange(Out):
    semester = fields.String()
    kind = fields.String()
    old_level = fields.String()
    new_level = fields.String()


class ExcludeOut(Out):
    status = fields.String()
    batch_id = fields.Integer()
    student_id = fields.String()
    changes = fields.List(fields.Nested(ExcludedChange))


@endpoint("POST", "/api/warnings/batches/<batch_id>/exclude", name="warnings.exclude",
          permission="warnings.release", request=ExcludeBody(), response=ExcludeOut(), audit="change",
          summary="Leave a student out of a batch's release, with the reason (recorded). The exclusion holds while "
                  "later evaluations give the same level.")
def exclude(ctx, body):
    _batch_exists(ctx, body["batch_id"])
    ctx.audit_subject = {"batch_id": body["batch_id"], "student_id": body["student_id"]}
    return check_answer(ctx.rpc("warnings", "exclude_student", batch_id=body["batch_id"],
                                student_id=body["student_id"], reason=body["reason"].strip(),
                                excluded_by=_actor(ctx)), field="student_id")
