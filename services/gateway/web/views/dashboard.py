"""The vice dean's dashboard: the semester's figures at a glance, two charts, flagged courses and the head
teachers' duties; and the full semester report (assessment's own rendering) as a page or a PDF."""
from __future__ import annotations

from datetime import date

from werkzeug.wrappers import Response

from services.gateway.errors import NotFound
from services.gateway.web import charts
from services.gateway.web.i18n import Translator
from services.gateway.web.views.tasks import semester_arg, today
from shared.academic.semesters import sort_key
from shared.academic.vocabulary import LEVELS      # lowest first, up to dismissal (退学警示)

REPORT_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; font-src 'self'; frame-ancestors 'none'"


def current_semester(on: date) -> str:
    """The semester a day falls in, as the college counts them: autumn from August, spring from February."""
    if on.month >= 8:
        return f"{on.year}-{on.year + 1}-1"
    if on.month == 1:
        return f"{on.year - 1}-{on.year}-1"
    return f"{on.year - 1}-{on.year}-2"


def _report(ctx, semester: str) -> dict:
    return ctx.api("report.semester", semester=semester)


def newest_report(ctx, asked: str | None) -> dict:
    """The report of the semester asked for; without one, of the newest semester that has grades (the report says
    which semesters have them, so at most one more call)."""
    report = _report(ctx, asked or current_semester(today()))
    with_grades = report.get("semesters_with_grades") or []
    if asked or not with_grades or report["semester"] in with_grades:
        return report
    return _report(ctx, max(with_grades, key=sort_key))


def dashboard_charts(report: dict, t: Translator) -> dict:
    w = report["warnings"]
    # A previous semester without grades is no comparison: its zeros would read as "nobody was warned".
    had_before = bool((report["overview"].get("previous_failure") or {}).get("rate") is not None)
    previous = w.get("previous_levels") if had_before else None
    now_label = f"{t('dashboard.this_semester')} {report['semester']}"
    before_label = f"{t('dashboard.last_semester')} {report['previous_semester']}" if previous else None
    levels = charts.column_pairs(
        t("dashboard.chart_levels"),
        [charts.Bar(t(f"level.{level}"), w["levels"].get(level, 0), (previous or {}).get(level),
                    charts.LEVEL_COLOURS[level]) for level in LEVELS],
        now_label, before_label, value_format=lambda v: str(int(v)))
    groups = [g for g in report["grades"]["groups"] if g["failure"]["results"]["denominator"]]
    failure = None
    if groups:
        failure = charts.bar_rows(
            t("dashboard.chart_failure"),
            [charts.Bar(f"{g['cohort']} {g['major']}", g["failure"]["rate"] or 0.0,
                        (g.get("previous_failure") or {}).get("rate")) for g in groups],
            now_label, before_label if any((g.get("previous_failure") or {}).get("rate") is not None
                                           for g in groups) else None,
            value_format=charts.percent)
    return {"levels": levels, "failure": failure}


def dashboard(ctx, request):
    report = newest_report(ctx, semester_arg(request.args.get("semester")))
    semesters = sorted(set(report.get("semesters_with_grades") or ()) | {report["semester"]}, key=sort_key,
                       reverse=True)
    return "dashboard.html", {"report": report, "semesters": semesters, "semester": report["semester"],
                              "charts": dashboard_charts(report, Translator(ctx.lang))}


def _document(ctx, semester: str, fmt: str) -> Response:
    if not semester_arg(semester):
        raise NotFound("no such semester", field="semester")
    return ctx.api("report.semester_document", semester=semester, format=fmt)


def report(ctx, request, semester: str):
    """The full report as a page of this site (shown, not downloaded); its own styles are inline."""
    response = _document(ctx, semester, "html")
    response.headers["Content-Disposition"] = "inline"
    response.headers["Content-Security-Policy"] = REPORT_CSP
    return response


def report_pdf(ctx, request, semester: str):
    return _document(ctx, semester, "pdf")
