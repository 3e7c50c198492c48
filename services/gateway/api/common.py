"""What the API modules share: strict request bodies, semester codes, row-level scope, service rejections."""
from __future__ import annotations

import base64
import binascii

from marshmallow import RAISE, Schema, ValidationError, fields, validate, validates_schema

from services.gateway.errors import Forbidden, NotFound, Unprocessable
from shared.academic.semesters import Semester, SemesterError

ID = validate.Regexp(r"^[A-Za-z0-9_\-:.@]{1,64}$", error="an id of letters, digits and _-:.@ (at most 64)")
NAME = validate.Length(min=1, max=200)


class Body(Schema):
    """A request body: unknown fields are an error (a typo must not be silently ignored)."""
    class Meta:
        unknown = RAISE


class Out(Schema):
    """A response body: only declared fields leave the gateway."""
    class Meta:
        ordered = True


def _semester(value: str) -> None:
    try:
        Semester.parse(value)
    except SemesterError:
        raise ValidationError("a semester code YYYY-YYYY-T, e.g. 2023-2024-1 (T: 1 autumn, 2 spring, 3 summer)")


def semester_field(required: bool = False, **kw):
    meta = {"example": "2023-2024-1", "description": "semester code YYYY-YYYY-T"}
    checks = [validate.Regexp(r"^\d{4}-\d{4}-[123]$", error="a semester code YYYY-YYYY-T, e.g. 2023-2024-1"),
              _semester]
    if required:
        return fields.String(required=True, validate=checks, metadata=meta, **kw)
    return fields.String(load_default=None, allow_none=True, validate=checks, metadata=meta, **kw)


def day_field(**kw):
    return fields.Date(load_default=None, allow_none=True, **kw)


def id_field(required: bool = False, **kw):
    if required:
        return fields.String(required=True, validate=ID, **kw)
    return fields.String(load_default=None, allow_none=True, validate=ID, **kw)


class FileBody(Body):
    filename = fields.String(required=True, validate=validate.Length(min=1, max=255))
    content_b64 = fields.String(required=True, metadata={"description": "the file's bytes, base64"})

    @validates_schema
    def _decodes(self, data, **_):
        try:
            base64.b64decode(data.get("content_b64", ""), validate=True)
        except (binascii.Error, ValueError):
            raise ValidationError("not base64", "content_b64")


# --- row-level scope --------------------------------------------------------------------------------------------

def covered_students(ctx, student_ids) -> set[str]:
    """Which of these students the principal's scope covers (asks the roster unless the scope is the college)."""
    ids = {s for s in student_ids if s}
    if not ids:
        return set()
    if ctx.principal.college_wide:
        return ids
    info = ctx.rpc("roster", "responsibles", student_ids=sorted(ids))
    return {sid for sid in ids if ctx.principal.covers_student(info.get(sid))}


def require_student(ctx, student_id: str) -> None:
    if student_id not in covered_students(ctx, [student_id]):
        raise Forbidden("this student is outside the classes, cohorts or majors you are responsible for",
                        field="student_id")


def task_visible(principal, task: dict) -> bool:
    """A task is seen by the college-wide roles, by whoever holds, closed or was escalated it, and by whoever's
    scope covers its class, cohort or major."""
    if principal.college_wide:
        return True
    staff = principal.staff_id
    if staff and staff in (task.get("assignee"), task.get("escalated_to"), task.get("closed_by")):
        return True
    return principal.scope.covers(task.get("class_name"), task.get("cohort"), task.get("major"))


def recipient_student(recipient_id: str) -> str | None:
    """The student a notice's recipient stands for: a student id, or guardian:<student id>."""
    if recipient_id.startswith("guardian:"):
        return recipient_id.split(":", 1)[1]
    return None


def found(value, what: str, field: str):
    if value is None:
        raise NotFound(f"no {what}", field=field)
    return value


def check_answer(answer: dict, field: str | None = None, ok: tuple[str, ...] = ()) -> dict:
    """A service's {"status": "rejected", "message": …} becomes HTTP 422 naming the field it concerns."""
    if answer.get("status") == "rejected" and answer.get("status") not in ok:
        raise Unprocessable(answer.get("message") or "rejected", field=field)
    return answer


def file_rejection(answer: dict):
    """A rejected file: 422 with the row-by-row report the service produced (file, row, field, value, reason)."""
    rows = [{"file": p.get("file"), "row": p.get("row"), "field": p.get("column"), "header": p.get("header"),
             "value": p.get("value"), "reason": p.get("reason_en"), "reason_zh": p.get("reason_zh"),
             "reason_en": p.get("reason_en")} for p in answer.get("problems", [])]
    raise Unprocessable(f"the file was rejected, nothing was stored: {len(rows)} problem(s)", errors=rows,
                        report=answer.get("report"))
