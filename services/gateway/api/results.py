"""What the cascade produced for students: academic warnings (aq warnings list)."""
from __future__ import annotations

from marshmallow import fields, validate

from services.gateway.api.common import Body, Out, semester_field
from services.gateway.routes import endpoint


class WarningsQuery(Body):
    semester = semester_field()
    status = fields.String(load_default="active", validate=validate.OneOf(["active", "lifted", "all"]))
    class_name = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=64),
                               metadata={"description": "only this class"})


class WarningOut(Out):
    student_id = fields.String()
    name = fields.String(allow_none=True)
    class_name = fields.String(allow_none=True)
    major = fields.String(allow_none=True)
    cohort = fields.Integer(allow_none=True)
    semester = fields.String()
    level = fields.String()
    status = fields.String()
    escalated = fields.Boolean()
    rules = fields.List(fields.String())
    reasons = fields.List(fields.Dict())
    policy_version = fields.String(allow_none=True)
    updated_at = fields.String()


class WarningsOut(Out):
    warnings = fields.List(fields.Nested(WarningOut))


@endpoint("GET", "/api/warnings", name="warnings.list", permission="warnings.read", request=WarningsQuery(),
          response=WarningsOut(), audit="read",
          summary="Academic warnings (学业预警) of the students your role covers, with their class.")
def list_warnings(ctx, body):
    rows = ctx.rpc("warnings", "list_warnings", semester=body.get("semester"), status=body["status"])
    info = ctx.rpc("roster", "responsibles", student_ids=sorted({r["student_id"] for r in rows})) if rows else {}
    principal, wanted_class = ctx.principal, body.get("class_name")
    result = []
    for row in rows:
        student = info.get(row["student_id"])
        if not principal.covers_student(student):
            continue
        if wanted_class and (student or {}).get("class_name") != wanted_class:
            continue
        student = student or {}
        result.append({**row, "name": student.get("name"), "class_name": student.get("class_name"),
                       "major": student.get("major"), "cohort": student.get("cohort")})
    ctx.audit_subject = {**{k: v for k, v in body.items() if v}, "students": len({r["student_id"] for r in result})}
    return {"warnings": result}
