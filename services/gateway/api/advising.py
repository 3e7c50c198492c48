"""Duties as tasks and records, symposium feedback, the head-teacher handbook (aq tasks/records/symposium/handbook).

Whoever acts is the principal: closing, submitting, reviewing, routing and answering are done in the signed-in
staff member's name (the CLI's --by), so nobody can act for someone else through the gateway.
"""
from __future__ import annotations

from marshmallow import fields, validate

from services.gateway.api.common import (Body, Out, check_answer, day_field, found, id_field, require_student,
                                         semester_field, task_visible)
from services.gateway.domain.masking import mask_values
from services.gateway.errors import Forbidden, Unprocessable
from services.gateway.routes import endpoint

TASK_STATUSES = ("open", "submitted", "done", "unfinished", "all")
ANSWER_KINDS = {"feedback": "feedback", "resolution": "resolution", "explanation": "explanation",
                "反馈": "feedback", "解决": "resolution", "解释": "explanation"}


def _staff_id(ctx) -> str:
    if not ctx.principal.staff_id:
        raise Forbidden("only a staff member of the roster can do this (your account has no staff id)")
    return ctx.principal.staff_id


class TasksSearch(Body):
    assignee = id_field()
    status = fields.String(load_default="all", validate=validate.OneOf(TASK_STATUSES))
    semester = semester_field()
    kind = fields.String(load_default=None, allow_none=True, validate=validate.Length(min=1, max=64))
    student_id = id_field()
    class_name = fields.String(load_default=None, allow_none=True, validate=validate.Length(min=1, max=64))
    escalated_to = id_field()
    overdue = fields.Boolean(load_default=False)
    mine = fields.Boolean(load_default=False, metadata={"description": "only tasks you hold"})


class TaskRow(Out):
    task_id = fields.String()
    kind = fields.String()
    assignee = fields.String(allow_none=True)
    student_id = fields.String(allow_none=True)
    class_name = fields.String(allow_none=True)
    major = fields.String(allow_none=True)
    cohort = fields.Integer(allow_none=True)
    course_code = fields.String(allow_none=True)
    semester = fields.String(allow_none=True)
    due = fields.String()
    status = fields.String()
    note = fields.String(allow_none=True)
    cause = fields.String(allow_none=True)
    duty_role = fields.String(allow_none=True)
    escalated_to = fields.String(allow_none=True)
    escalated_at = fields.String(allow_none=True)
    closed_by = fields.String(allow_none=True)
    closed_at = fields.String(allow_none=True)


class TasksOut(Out):
    tasks = fields.List(fields.Nested(TaskRow))


class TaskPath(Body):
    task_id = id_field(required=True)


def _masked(key: str):
    return fields.Function(lambda row: mask_values(row.get(key)))


class HistoryRow(Out):
    at = fields.String()
    action = fields.String()
    actor = fields.String(allow_none=True)
    detail = _masked("detail")


class TaskOut(TaskRow):
    detail = _masked("detail")
    record = _masked("record")
    outcome = _masked("outcome")
    history = fields.List(fields.Nested(HistoryRow))


class RecordBody(TaskPath):
    record = fields.Dict(keys=fields.String(), required=True,
                         metadata={"description": "the record the duty asks for (docs/duties.md)",
                                   "example": {"date": "2024-10-08", "place": "办公室"}})


class TaskActionOut(Out):
    status = fields.String()
    task_id = fields.String(allow_none=True)
    reviewer = fields.String(allow_none=True)
    follow_up = fields.Raw(allow_none=True)


class ReviewBody(TaskPath):
    decision = fields.String(required=True, validate=validate.OneOf(["approve", "return"]))
    comment = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=2000))


class OpenSemesterBody(Body):
    semester = semester_field(required=True)
    start = day_field(metadata={"description": "first day of teaching week 1; default: from the calendar"})
    weeks = fields.Integer(load_default=None, allow_none=True, validate=validate.Range(min=1, max=30))


class OpenSemesterOut(Out):
    status = fields.String()
    semester = fields.String(allow_none=True)
    start = fields.String(allow_none=True)
    weeks = fields.Integer(allow_none=True)
    created = fields.Integer(allow_none=True)
    already = fields.Integer(allow_none=True)
    problems = fields.List(fields.String())


class SemesterRow(Out):
    semester = fields.String()
    start = fields.String(allow_none=True)
    weeks = fields.Integer(allow_none=True)
    opened_at = fields.String(allow_none=True)
    opened_by = fields.String(allow_none=True)
    tasks = fields.Integer(allow_none=True)


class SemestersOut(Out):
    semesters = fields.List(fields.Nested(SemesterRow))


class RemindBody(Body):
    now = fields.String(load_default=None, allow_none=True, validate=validate.Length(min=10, max=40),
                        metadata={"description": "test mode only: remind as of this moment"})


class ReminderRow(Out):
    task_id = fields.String()
    task_kind = fields.String(allow_none=True)
    reminder = fields.String(allow_none=True)
    assignee = fields.String(allow_none=True)
    due = fields.String(allow_none=True)
    overdue_days = fields.Integer(allow_none=True)
    escalate_to = fields.String(allow_none=True)


class RemindOut(Out):
    status = fields.String()
    reminders = fields.List(fields.Nested(ReminderRow))


class ClockBody(Body):
    when = fields.String(required=True, allow_none=True, validate=validate.Length(min=10, max=40),
                         metadata={"description": "YYYY-MM-DD or ISO date-time; null gives back the real time"})


class ClockOut(Out):
    now = fields.String()
    moved = fields.Boolean(allow_none=True)
    settable = fields.Boolean(allow_none=True)
    status = fields.String(allow_none=True)


class RecordsSearch(Body):
    assignee = id_field()
    kind = fields.String(load_default=None, allow_none=True, validate=validate.Length(min=1, max=64))
    semester = semester_field()
    student_id = id_field()
    class_name = fields.String(load_default=None, allow_none=True, validate=validate.Length(min=1, max=64))


class RecordRow(Out):
    task_id = fields.String()
    kind = fields.String()
    semester = fields.String(allow_none=True)
    date = fields.String(allow_none=True)
    assignee = fields.String(allow_none=True)
    student_id = fields.String(allow_none=True)
    class_name = fields.String(allow_none=True)
    course_code = fields.String(allow_none=True)
    status = fields.String()
    closed_by = fields.String(allow_none=True)
    record = _masked("record")


class RecordsOut(Out):
    records = fields.List(fields.Nested(RecordRow))


class ItemRaise(Body):
    semester = semester_field(required=True)
    topic = fields.String(required=True, validate=validate.Length(min=1, max=2000))
    course_code = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=32))
    course_name = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=128))
    teacher = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=64))
    raised_by = fields.String(required=True, validate=validate.Length(min=1, max=64),
                              metadata={"description": "the class representative who raised it"})
    raised_on = fields.Date(required=True)


class ItemPath(Body):
    item_id = id_field(required=True)


class ItemRoute(ItemPath):
    department = fields.String(load_default=None, allow_none=True, validate=validate.Length(min=1, max=128),
                               metadata={"description": "a major: its department head answers"})
    teacher = id_field(metadata={"description": "a teacher's staff id"})


class ItemAnswer(ItemPath):
    answer_kind = fields.String(required=True, validate=validate.OneOf(list(ANSWER_KINDS)))
    answer = fields.String(required=True, validate=validate.Length(min=1, max=4000))
    answered_on = fields.Date(required=True)


class ItemClose(ItemPath):
    outcome = fields.String(required=True, validate=validate.OneOf(["adopted", "explained"]))


class ItemActionOut(Out):
    status = fields.String()
    item_id = fields.String(allow_none=True)
    assignee = fields.String(allow_none=True)
    task_id = fields.String(allow_none=True)


class ItemsSearch(Body):
    open_only = fields.Boolean(load_default=False)
    semester = semester_field()
    assignee = id_field()


class ItemRow(Out):
    item_id = fields.String()
    semester = fields.String()
    status = fields.String()
    open = fields.Boolean()
    age_days = fields.Integer(allow_none=True)
    topic = _masked("topic")
    course_code = fields.String(allow_none=True)
    course_name = fields.String(allow_none=True)
    teacher = fields.String(allow_none=True)
    raised_by = fields.String(allow_none=True)
    raised_on = fields.String(allow_none=True)
    routed_to = fields.String(allow_none=True)
    assignee = fields.String(allow_none=True)
    answer_kind = fields.String(allow_none=True)
    answer = _masked("answer")
    closed_on = fields.String(allow_none=True)


class ItemsOut(Out):
    items = fields.List(fields.Nested(ItemRow))


class HandbookBody(Body):
    staff_id = id_field(metadata={"description": "whose handbook (default: yours)"})
    semester = semester_field(required=True)
    format = fields.String(load_default="html", validate=validate.OneOf(["html", "md"]))


class HandbookOut(Out):
    status = fields.String()
    tasks = fields.Integer()
    format = fields.String()
    document = _masked("document")


# --- tasks ---------------------------------------------------------------------------------------------------------

def _task(ctx, task_id: str) -> dict:
    task = found(ctx.rpc("advising", "get_task", task_id=task_id), "task with this id", "task_id")
    if not task_visible(ctx.principal, task):
        raise Forbidden("this task is outside what you are responsible for", field="task_id")
    return task


@endpoint("POST", "/api/tasks/search", name="tasks.list", permission="tasks.read", request=TasksSearch(),
          response=TasksOut(), audit="read",
          summary="Duties (talks, parent contacts, class meetings, course reviews…) you hold or are responsible for.")
def list_tasks(ctx, body):
    if body.get("student_id"):
        require_student(ctx, body["student_id"])
    assignee = ctx.principal.staff_id if body["mine"] else body.get("assignee")
    rows = ctx.rpc("advising", "list_tasks", assignee=assignee, status=body["status"],
                   semester=body.get("semester"), kind=body.get("kind"), student_id=body.get("student_id"),
                   class_name=body.get("class_name"), escalated_to=body.get("escalated_to"),
                   overdue=body["overdue"])
    return {"tasks": [t for t in rows if task_visible(ctx.principal, t)]}


@endpoint("GET", "/api/tasks/<task_id>", name="tasks.show", permission="tasks.read", request=TaskPath(),
          response=TaskOut(), audit="read", summary="A task with its record and everything that happened to it.")
def show_task(ctx, body):
    return _task(ctx, body["task_id"])


@endpoint("POST", "/api/tasks/<task_id>/close", name="tasks.close", permission="tasks.work", request=RecordBody(),
          response=TaskActionOut(), audit="change",
          summary="Close your task with the record its duty asks for (also `aq records add`).")
def close_task(ctx, body):
    _task(ctx, body["task_id"])
    answer = check_answer(ctx.rpc("advising", "close_task", task_id=body["task_id"], closed_by=_staff_id(ctx),
                                  record=body["record"]), field="record")
    return {"task_id": body["task_id"], **answer}


@endpoint("POST", "/api/tasks/<task_id>/submit", name="tasks.submit", permission="tasks.work",
          request=RecordBody(), response=TaskActionOut(), audit="change",
          summary="Submit a course review (analysis, causes, measures) for the department head's review.")
def submit_task(ctx, body):
    _task(ctx, body["task_id"])
    answer = check_answer(ctx.rpc("advising", "submit_task", task_id=body["task_id"], submitted_by=_staff_id(ctx),
                                  record=body["record"]), field="record")
    return {"task_id": body["task_id"], **answer}


@endpoint("POST", "/api/tasks/<task_id>/review", name="tasks.review", permission="tasks.review",
          request=ReviewBody(), response=TaskActionOut(), audit="change",
          summary="The department head approves or returns a submitted course review.")
def review_task(ctx, body):
    _task(ctx, body["task_id"])
    answer = check_answer(ctx.rpc("advising", "review_task", task_id=body["task_id"], reviewer=_staff_id(ctx),
                                  decision=body["decision"], comment=body.get("comment")), field="decision")
    return {"task_id": body["task_id"], **answer}


@endpoint("POST", "/api/semesters", name="tasks.open_semester", permission="tasks.open_semester",
          request=OpenSemesterBody(), response=OpenSemesterOut(), status=201,
          summary="Create a semester's recurring duties (class meetings, observations, plans, tutoring…).")
def open_semester(ctx, body):
    start = body.get("start")
    answer = check_answer(ctx.rpc("advising", "open_semester", semester=body["semester"],
                                  start=start.isoformat() if start else None, weeks=body.get("weeks"),
                                  opened_by=ctx.principal.user_id), field="start")
    return {"semester": body["semester"], **answer}


@endpoint("GET", "/api/semesters", name="tasks.semesters", permission="semesters.read", response=SemestersOut(),
          summary="Semesters whose recurring duties were created.")
def semesters(ctx, body):
    return {"semesters": ctx.rpc("advising", "list_semesters")}


@endpoint("POST", "/api/tasks/remind", name="tasks.remind", permission="tasks.remind", request=RemindBody(),
          response=RemindOut(), summary="Send the reminders and escalations due now (the timer does this too).")
def remind(ctx, body):
    return check_answer(ctx.rpc("advising", "run_reminders", now=body.get("now")), field="now")


@endpoint("GET", "/api/clock", name="tasks.clock", permission="tasks.clock", response=ClockOut(),
          summary="The advising service's clock.")
def clock(ctx, body):
    return ctx.rpc("advising", "get_clock")


@endpoint("POST", "/api/clock", name="tasks.clock_set", permission="tasks.clock", request=ClockBody(),
          response=ClockOut(), summary="Move the advising clock (test mode only, AQ_TEST_CLOCK=1).")
def clock_set(ctx, body):
    return check_answer(ctx.rpc("advising", "set_clock", when=body["when"]), field="when")


# --- records -------------------------------------------------------------------------------------------------------

@endpoint("POST", "/api/records/search", name="records.list", permission="tasks.read", request=RecordsSearch(),
          response=RecordsOut(), audit="read",
          summary="Records that closed duties (talks, parent contacts, meetings…) within what you are responsible for.")
def list_records(ctx, body):
    if body.get("student_id"):
        require_student(ctx, body["student_id"])
    rows = ctx.rpc("advising", "list_records", assignee=body.get("assignee"), kind=body.get("kind"),
                   semester=body.get("semester"), student_id=body.get("student_id"),
                   class_name=body.get("class_name"))
    principal = ctx.principal
    if principal.college_wide:
        return {"records": rows}
    # A record row has no cohort or major: its task says (one lookup per record not in an obviously covered class).
    visible = []
    for row in rows:
        if row.get("assignee") == principal.staff_id or row.get("closed_by") == principal.staff_id \
                or principal.scope.covers(row.get("class_name")):
            visible.append(row)
        elif principal.cohorts or principal.majors:
            task = ctx.rpc("advising", "get_task", task_id=row["task_id"])
            if task and task_visible(principal, task):
                visible.append(row)
    return {"records": visible}


# --- symposium feedback --------------------------------------------------------------------------------------------

@endpoint("POST", "/api/symposium/items", name="symposium.raise", permission="symposium.raise",
          request=ItemRaise(), response=ItemActionOut(), status=201,
          summary="Record one piece of mid-term symposium (期中教学座谈会) feedback as an item.")
def raise_item(ctx, body):
    item = {**body, "raised_on": body["raised_on"].isoformat()}
    return check_answer(ctx.rpc("advising", "raise_item", item=item), field="topic")


@endpoint("POST", "/api/symposium/items/<item_id>/route", name="symposium.route", permission="symposium.route",
          request=ItemRoute(), response=ItemActionOut(),
          summary="Route an item to a department (a major) or a teacher (staff id), who gets a task to answer it.")
def route_item(ctx, body):
    if bool(body.get("department")) == bool(body.get("teacher")):
        raise Unprocessable("route to a department or to a teacher (one of them)", field="department")
    answer = check_answer(ctx.rpc("advising", "route_item", item_id=body["item_id"], routed_by=ctx.principal.user_id,
                                  department=body.get("department"), teacher=body.get("teacher")), field="item_id")
    return {"item_id": body["item_id"], **answer}


@endpoint("POST", "/api/symposium/items/<item_id>/answer", name="symposium.answer", permission="symposium.answer",
          request=ItemAnswer(), response=ItemActionOut(),
          summary="Answer an item routed to you: feedback (反馈), resolution (解决) or explanation (解释).")
def answer_item(ctx, body):
    record = {"date": body["answered_on"].isoformat(), "answer_kind": ANSWER_KINDS[body["answer_kind"]],
              "answer": body["answer"]}
    answer = check_answer(ctx.rpc("advising", "answer_item", item_id=body["item_id"], answered_by=_staff_id(ctx),
                                  record=record), field="item_id")
    return {"item_id": body["item_id"], **answer}


@endpoint("POST", "/api/symposium/items/<item_id>/close", name="symposium.close", permission="symposium.close",
          request=ItemClose(), response=ItemActionOut(),
          summary="The vice dean closes an answered item: adopted, or explained.")
def close_item(ctx, body):
    answer = check_answer(ctx.rpc("advising", "close_item", item_id=body["item_id"], closed_by=_staff_id(ctx),
                                  outcome=body["outcome"]), field="item_id")
    return {"item_id": body["item_id"], **answer}


@endpoint("POST", "/api/symposium/search", name="symposium.list", permission="symposium.read",
          request=ItemsSearch(), response=ItemsOut(), summary="Symposium items and how long each has been open.")
def list_items(ctx, body):
    return {"items": ctx.rpc("advising", "list_items", open_only=body["open_only"], semester=body.get("semester"),
                             assignee=body.get("assignee"))}


# --- the handbook ----------------------------------------------------------------------------------------------

@endpoint("POST", "/api/handbook", name="handbook.export", permission="tasks.read", request=HandbookBody(),
          response=HandbookOut(), audit="export",
          summary="A staff member's head-teacher handbook (班主任手册) for a semester, as HTML or Markdown: yours, "
                  "or (college-wide roles, or whoever's scope covers all their classes) another's.")
def export_handbook(ctx, body):
    principal = ctx.principal
    staff_id = body.get("staff_id") or _staff_id(ctx)
    if staff_id != principal.staff_id and not principal.college_wide:
        led = [c for c in ctx.rpc("roster", "classes") if c["head_teacher_id"] == staff_id]
        if not led or not all(principal.covers_class(c) for c in led):
            raise Forbidden("only your own handbook, or that of a head teacher of classes you cover",
                            field="staff_id")
    answer = check_answer(ctx.rpc("advising", "export_handbook", staff_id=staff_id, semester=body["semester"],
                                  fmt=body["format"]), field="format")
    return {**answer, "format": body["format"]}
