"""Counselor lists (辅导员名单, docs/duties.md): per cohort and semester, the students with a warning or a failed
course (aq advising lists / confirm-list).

Who sees what, as the lists are sent: the cohort's counselor (or whoever confirms in their place) and the
college-wide roles see a whole list; a head teacher the students of their classes, a department head those of their
majors (and anyone the part that was sent to them). Only the counselor confirms, in their own staff id.
"""
from __future__ import annotations

from marshmallow import fields, validate

from services.gateway.api.common import Body, Out, check_answer, found, id_field, semester_field
from services.gateway.errors import Forbidden
from services.gateway.routes import endpoint

LIST_STATUSES = ("unconfirmed", "confirmed", "replaced", "all")


def sees_whole(principal, row: dict) -> bool:
    return (principal.college_wide or str(row.get("cohort")) in principal.cohorts
            or (principal.staff_id is not None and principal.staff_id == row.get("confirmer")))


def _sent_to_me(principal, row: dict) -> dict | None:
    return next((r for r in row.get("recipients") or () if r.get("staff_id") == principal.staff_id), None) \
        if principal.staff_id else None


def sees_part(principal, row: dict) -> bool:
    """A list of which this person sees some students: sent to them, or one of its recipients' parts is a class or
    major they cover now (a head teacher who took a class over after the list went out)."""
    if _sent_to_me(principal, row):
        return True
    mine = principal.classes | principal.majors
    return any(set(r.get("scope") or ()) & mine for r in row.get("recipients") or ())


def _visible_entries(principal, row: dict, entries: list[dict]) -> list[dict]:
    if sees_whole(principal, row):
        return entries
    sent = set((_sent_to_me(principal, row) or {}).get("student_ids") or ())
    return [e for e in entries if e["student_id"] in sent
            or principal.scope.covers(e.get("class_name"), None, e.get("major"))]


class ListsQuery(Body):
    semester = semester_field()
    cohort = fields.String(load_default=None, allow_none=True, validate=validate.Regexp(
        r"^\d{4}$", error="a cohort is an entry year, e.g. 2021"))
    status = fields.String(load_default="all", validate=validate.OneOf(LIST_STATUSES))


class ListRow(Out):
    list_id = fields.String()
    semester = fields.String()
    cohort = fields.String()
    version = fields.Integer()
    status = fields.String(metadata={"description": "unconfirmed (the latest, waiting), confirmed, or replaced"})
    students = fields.Integer(metadata={"description": "students on the whole list"})
    warned = fields.Integer()
    failed = fields.Integer()
    confirmer = fields.String(allow_none=True, metadata={"description": "who confirms: the cohort's counselor"})
    confirmed_by = fields.String(allow_none=True)
    confirmed_at = fields.String(allow_none=True)
    comment = fields.String(allow_none=True)
    task_id = fields.String(allow_none=True, metadata={"description": "the confirmation task"})
    created_at = fields.String(allow_none=True)
    whole = fields.Boolean(metadata={"description": "true: you see the whole list; false: your classes' or "
                                                   "majors' part"})


class ListsOut(Out):
    lists = fields.List(fields.Nested(ListRow))


def _row(principal, row: dict) -> dict:
    return {**row, "whole": sees_whole(principal, row)}


@endpoint("GET", "/api/counselor-lists", name="lists.list", permission="lists.read", request=ListsQuery(),
          response=ListsOut(),
          summary="Counselor list versions you see (your cohorts' whole lists; the lists with students of your "
                  "classes or majors), with their status and who confirmed them.")
def list_lists(ctx, body):
    rows = ctx.rpc("advising", "list_lists", semester=body.get("semester"), cohort=body.get("cohort"),
                   status=body["status"], confirmer=None)
    principal = ctx.principal
    return {"lists": [_row(principal, r) for r in rows if sees_whole(principal, r) or sees_part(principal, r)]}


class ListPath(Body):
    list_id = id_field(required=True)


class FailedCourse(Out):
    course_code = fields.String()
    course_name = fields.String(allow_none=True)
    credits = fields.Float(allow_none=True)
    course_type = fields.String(allow_none=True)
    result = fields.String(allow_none=True)


class EntryReason(Out):
    rule = fields.String()
    level = fields.String(allow_none=True)
    measure = fields.Float(allow_none=True)
    threshold = fields.Float(allow_none=True)
    comparison = fields.String(allow_none=True)


class Entry(Out):
    student_id = fields.String()
    name = fields.String(allow_none=True)
    class_name = fields.String(allow_none=True)
    major = fields.String(allow_none=True)
    level = fields.String(allow_none=True, metadata={"description": "the warning at that semester, if any"})
    escalated = fields.Boolean(allow_none=True)
    reasons = fields.List(fields.Nested(EntryReason))
    failed_courses = fields.List(fields.Nested(FailedCourse))
    failed_credits = fields.Float(allow_none=True)


class Recipient(Out):
    staff_id = fields.String()
    role = fields.String()
    covering_for = fields.String(allow_none=True)
    scope = fields.List(fields.String())
    students = fields.Function(lambda r: len(r.get("student_ids") or ()))


class Changes(Out):
    added = fields.List(fields.String())
    removed = fields.List(fields.String())


class ListOut(ListRow):
    entries = fields.List(fields.Nested(Entry))
    changes = fields.Nested(Changes)
    recipients = fields.List(fields.Nested(Recipient))


def _list(ctx, list_id: str) -> dict:
    row = found(ctx.rpc("advising", "get_list", list_id=list_id), "counselor list with this id", "list_id")
    if not (sees_whole(ctx.principal, row) or sees_part(ctx.principal, row)):
        raise Forbidden("this list has none of the students you are responsible for", field="list_id")
    return row


@endpoint("GET", "/api/counselor-lists/<list_id>", name="lists.show", permission="lists.read", request=ListPath(),
          response=ListOut(), audit="read",
          summary="One list version: its students (warning level and rules, failed courses) as far as you see "
                  "them, who was added or removed since the last version, and who it was sent to.")
def show_list(ctx, body):
    principal = ctx.principal
    row = _list(ctx, body["list_id"])
    entries = _visible_entries(principal, row, row.get("entries") or [])
    shown = {e["student_id"] for e in entries}
    whole = sees_whole(principal, row)
    changes = row.get("changes") or {}
    recipients = row.get("recipients") or []
    if not whole:
        changes = {k: [s for s in changes.get(k, ()) if s in shown] for k in ("added", "removed")}
        recipients = [r for r in recipients if r.get("staff_id") == principal.staff_id]
    ctx.audit_subject = {"list_id": body["list_id"], "students": len(entries)}
    return {**row, "whole": whole, "entries": entries, "changes": changes, "recipients": recipients}


class ConfirmListBody(ListPath):
    comment = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=2000),
                            metadata={"description": "a remark kept with the confirmation"})


class ConfirmListOut(Out):
    status = fields.String()
    list_id = fields.String()
    version = fields.Integer()
    semester = fields.String()
    cohort = fields.String()
    task_id = fields.String(allow_none=True)


@endpoint("POST", "/api/counselor-lists/<list_id>/confirm", name="lists.confirm", permission="lists.confirm",
          request=ConfirmListBody(), response=ConfirmListOut(), audit="change",
          summary="The counselor confirms a list (only its latest version, once); the confirmation task closes.")
def confirm_list(ctx, body):
    row = _list(ctx, body["list_id"])
    if not sees_whole(ctx.principal, row) or not ctx.principal.staff_id:
        raise Forbidden("only the cohort's counselor (or whoever confirms in their place) confirms its list",
                        field="list_id")
    comment = (body.get("comment") or "").strip() or None
    ctx.audit_subject = {"list_id": body["list_id"]}
    return check_answer(ctx.rpc("advising", "confirm_list", list_id=body["list_id"],
                                confirmed_by=ctx.principal.staff_id, comment=comment), field="list_id")
