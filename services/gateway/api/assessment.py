"""Indicators (aq flags list, outcomes summary, scorecard head-teacher / department, report semester)."""
from __future__ import annotations

from marshmallow import fields, validate
from werkzeug.wrappers import Response

from services.gateway.api.common import Body, Out, day_field, id_field, semester_field
from services.gateway.errors import Forbidden, NotFound, Unprocessable
from services.gateway.routes import endpoint


class FlagsQuery(Body):
    semester = semester_field()


class FlagRow(Out):
    semester = fields.String()
    course_code = fields.String()
    course_name = fields.String()
    teacher = fields.String(allow_none=True)
    offering_college = fields.String(allow_none=True)
    external = fields.Boolean(allow_none=True)
    rate = fields.Float(allow_none=True)
    failed = fields.Integer()
    total = fields.Integer()
    threshold = fields.Float(allow_none=True)
    previous_rate = fields.Float(allow_none=True)
    previous_semester = fields.String(allow_none=True)
    majors = fields.List(fields.String())


class FlagsOut(Out):
    flags = fields.List(fields.Nested(FlagRow))


class OutcomesSummaryOut(Out):
    by_kind = fields.Dict(keys=fields.String(), values=fields.Integer())
    imports = fields.Raw(allow_none=True)
    projections = fields.Dict(keys=fields.String(), values=fields.Raw())


class HeadTeacherCardBody(Body):
    staff_id = id_field(metadata={"description": "the head teacher (default: you)"})
    semester = semester_field(required=True)
    as_of = day_field(metadata={"description": "judge overdue tasks as of this day (default today)"})


class HeadTeacherCardOut(Out):
    staff_id = fields.String()
    name = fields.String(allow_none=True)
    semester = fields.String()
    as_of = fields.String()
    classes = fields.List(fields.Dict())
    cohort_average = fields.Dict()
    college_average = fields.Dict()
    class_count = fields.Dict()
    metrics = fields.Dict()


class DepartmentCardBody(Body):
    major = fields.String(required=True, validate=validate.Length(min=1, max=128))
    year = fields.Integer(required=True, validate=validate.Range(min=1950, max=2100))
    as_of = day_field()


class DepartmentCardOut(Out):
    major = fields.String()
    year = fields.Integer()
    intake_year = fields.Integer(allow_none=True)
    as_of = fields.String()
    enrolment = fields.Dict(allow_none=True)
    graduates = fields.Dict()
    postgraduate_rate = fields.Float(allow_none=True)
    employment_rate = fields.Float(allow_none=True)
    dual_certificate_rate = fields.Float(allow_none=True)
    cet4_pass_rate = fields.Float(allow_none=True)
    cet6_pass_rate = fields.Float(allow_none=True)
    flagged_courses = fields.List(fields.Dict())
    reviews = fields.Dict()


class ReportBody(Body):
    semester = semester_field(required=True)
    as_of = day_field()


REPORT_PARTS = ("status", "semester", "previous_semester", "as_of", "overview", "bands", "grades", "warnings", "flags",
                "earlier_open_reviews", "duties", "classes", "class_average", "graduates", "departments",
                "intervention", "staff_names", "symposium", "outcomes", "semesters_with_grades")
# The report is aggregate figures (kpis.md); each part is passed on as the assessment service shaped it.
ReportOut = Out.from_dict({part: fields.Raw(allow_none=True) for part in REPORT_PARTS}, name="ReportOut")


class ReportDocumentBody(ReportBody):
    format = fields.String(load_default="html", validate=validate.OneOf(["html", "pdf"]))


def _as_of(body) -> str | None:
    return body["as_of"].isoformat() if body.get("as_of") else None


def _ok(answer: dict, field: str) -> dict:
    if answer.get("status") == "not_found":
        raise NotFound(answer.get("message") or "not found", field=field)
    if answer.get("status") != "ok":
        raise Unprocessable(answer.get("message") or str(answer.get("status")), field=field)
    return answer


@endpoint("GET", "/api/flags", name="flags.list", permission="flags.read", request=FlagsQuery(),
          response=FlagsOut(), summary="Courses whose failure rate is above the review threshold.")
def list_flags(ctx, body):
    return {"flags": ctx.rpc("assessment", "list_flags", semester=body.get("semester"))}


@endpoint("GET", "/api/outcomes/summary", name="outcomes.summary", permission="outcomes.read",
          response=OutcomesSummaryOut(),
          summary="What assessment holds: outcomes by kind, imports, and its projections of other services' events.")
def outcomes_summary(ctx, body):
    return ctx.rpc("assessment", "outcomes_summary")


@endpoint("POST", "/api/scorecards/head-teacher", name="scorecards.head_teacher", permission="scorecards.read",
          request=HeadTeacherCardBody(), response=HeadTeacherCardOut(), audit="read",
          summary="A head teacher's classes beside the cohort's and the college's mean class: yours, or one whose "
                  "classes your scope covers.")
def head_teacher_card(ctx, body):
    principal = ctx.principal
    staff_id = body.get("staff_id") or principal.staff_id
    if not staff_id:
        raise Unprocessable("name the head teacher (staff_id)", field="staff_id")
    if staff_id != principal.staff_id and not principal.college_wide:
        led = [c for c in ctx.rpc("roster", "classes") if c["head_teacher_id"] == staff_id]
        if not led or not all(principal.covers_class(c) for c in led):
            raise Forbidden("only your own scorecard, or a head teacher's whose classes you cover", field="staff_id")
    return _ok(ctx.rpc("assessment", "head_teacher_scorecard", staff_id=staff_id, semester=body["semester"],
                       as_of=_as_of(body)), "staff_id")


@endpoint("POST", "/api/scorecards/department", name="scorecards.department", permission="scorecards.read",
          request=DepartmentCardBody(), response=DepartmentCardOut(),
          summary="A major's indicators for one year: the department head of that major, or the college-wide roles.")
def department_card(ctx, body):
    principal = ctx.principal
    if not principal.college_wide and body["major"] not in principal.majors:
        raise Forbidden("only the majors you head", field="major")
    return _ok(ctx.rpc("assessment", "department_scorecard", major=body["major"], year=body["year"],
                       as_of=_as_of(body)), "major")


@endpoint("POST", "/api/reports/semester", name="report.semester", permission="report.read", request=ReportBody(),
          response=ReportOut(), summary="The semester report's figures for the vice dean's meeting (JSON).")
def semester_report(ctx, body):
    return _ok(ctx.rpc("assessment", "semester_report", semester=body["semester"], as_of=_as_of(body)), "semester")


@endpoint("POST", "/api/reports/semester/document", name="report.semester_document", permission="report.read",
          request=ReportDocumentBody(), response=None,
          summary="The semester report as an HTML page or a PDF file (charts with Chinese labels).")
def semester_report_document(ctx, body):
    from eventlet import tpool
    from services.assessment.report.render import render_html, render_pdf
    data = _ok(ctx.rpc("assessment", "semester_report", semester=body["semester"], as_of=_as_of(body)), "semester")
    name = f"semester-report-{body['semester']}.{body['format']}"
    # Charts and PDF take seconds of CPU: in a real thread, so other requests are served meanwhile.
    if body["format"] == "pdf":
        content, mimetype = tpool.execute(render_pdf, data), "application/pdf"
    else:
        content, mimetype = tpool.execute(render_html, data), "text/html"
    return Response(content, mimetype=mimetype, headers={"Content-Disposition": f'attachment; filename="{name}"'})
