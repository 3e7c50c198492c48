"""Indicators (kpis.md): course flags, outcomes, scorecards and the semester report."""
from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from aq_cli import output
from aq_cli.common import client, file_payload, print_rejection

AS_OF_HELP = "Judge overdue tasks as of this day (YYYY-MM-DD); default today in the college's time zone."


@click.group()
def flags():
    """Courses whose failure rate is above the review threshold."""


@flags.command("list")
@click.option("--semester")
@click.option("--json", "as_json", is_flag=True)
def flags_list(semester, as_json):
    with client() as rpc:
        rows = rpc.call("assessment", "list_flags", semester)
    output.emit(rows, ["semester", "course_code", "course_name", "teacher", "rate", "failed", "total",
                       "previous_rate"], as_json)


@click.group()
def outcomes():
    """Outcomes: CET-4/6, certificates, destinations, awards, enrolment (files.md "Outcomes")."""


@outcomes.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--by", "imported_by", default="cli", help="Who imports (recorded).")
def outcomes_import(file, imported_by):
    """Import an outcomes file; a file with any bad row is rejected whole, every bad row listed."""
    payload = file_payload(file)
    with client() as rpc:
        answer = rpc.call("assessment", "import_outcomes", payload["filename"], payload["content_b64"], imported_by)
    if answer["status"] != "accepted":
        click.echo(f"{Path(file).name}: rejected, nothing was stored", err=True)
        print_rejection(answer)
        sys.exit(1)
    click.echo(f"outcomes import {answer['import_id']}: {answer['rows']} rows: {answer['new']} new, "
               f"{answer['changed']} changed, {answer['unchanged']} unchanged")


@outcomes.command("summary")
@click.option("--json", "as_json", is_flag=True)
def outcomes_summary(as_json):
    """What assessment holds: outcomes by kind, imports, and its projections of other services' events."""
    with client() as rpc:
        answer = rpc.call("assessment", "outcomes_summary")
    if as_json:
        click.echo(json.dumps(answer, ensure_ascii=False, indent=2))
        return
    click.echo("outcomes by kind: " + (", ".join(f"{k} {v}" for k, v in sorted(answer["by_kind"].items())) or "none"))
    click.echo("projections: " + ", ".join(f"{k} {v}" for k, v in answer["projections"].items()))


def _fail_unless_ok(answer: dict) -> None:
    if answer.get("status") != "ok":
        raise click.ClickException(answer.get("message") or str(answer))


@click.group()
def scorecard():
    """Scorecards: a head teacher's classes, a department's year."""


def _pct(value) -> str:
    return "—" if value is None else f"{value * 100:.1f}%"


def _num(value) -> str:
    return "—" if value is None else (f"{value:.0f}" if float(value).is_integer() else f"{value:.2f}")


RATE_METRICS = {"failure_rate", "cet4_pass_rate", "cet6_pass_rate", "further_study_rate", "employment_rate",
                "dual_certificate_rate", "talks_done_rate", "parent_contacts_done_rate"}


@scorecard.command("head-teacher")
@click.argument("staff_id")
@click.option("--semester", required=True, help="e.g. 2023-2024-1")
@click.option("--as-of", help=AS_OF_HELP)
@click.option("--json", "as_json", is_flag=True)
def scorecard_head_teacher(staff_id, semester, as_of, as_json):
    """A head teacher's classes beside the cohort's and the college's mean class (kpis.md)."""
    with client() as rpc:
        card = rpc.call("assessment", "head_teacher_scorecard", staff_id, semester, as_of)
    _fail_unless_ok(card)
    if as_json:
        click.echo(json.dumps(card, ensure_ascii=False, indent=2))
        return
    click.echo(f"班主任 head teacher {card['name']} ({staff_id}) · {semester} · as of {card['as_of']}")
    columns = [c["class_name"] for c in card["classes"]] + [f"{k}级 mean" for k in card["cohort_average"]] + ["college mean"]
    values = [c["metrics"] for c in card["classes"]] + list(card["cohort_average"].values()) + [card["college_average"]]
    rows = []
    for key, label in card["metrics"].items():
        fmt = _pct if key in RATE_METRICS else _num
        rows.append({"indicator": f"{label['zh']} {label['en']}", **{col: fmt(v[key]) for col, v in zip(columns, values)}})
    output.emit(rows, ["indicator"] + columns, False)
    for c in card["classes"]:
        d = c["duties"]
        click.echo(f"{c['class_name']}: talks {d['talks']['numerator']}/{d['talks']['denominator']} "
                   f"({d['talks_on_time']} on time), parent contacts {d['parent_contacts']['numerator']}/"
                   f"{d['parent_contacts']['denominator']}, overdue {d['overdue']}")


@scorecard.command("department")
@click.argument("major")
@click.option("--year", required=True, type=int, help="Graduating / intake year, e.g. 2025.")
@click.option("--as-of", help=AS_OF_HELP)
@click.option("--json", "as_json", is_flag=True)
def scorecard_department(major, year, as_of, as_json):
    """A major's indicators for one year (policy art. 9)."""
    with client() as rpc:
        card = rpc.call("assessment", "department_scorecard", major, year, as_of)
    _fail_unless_ok(card)
    if as_json:
        click.echo(json.dumps(card, ensure_ascii=False, indent=2))
        return
    enrol = card["enrolment"]
    click.echo(f"专业 major {major} · {year} · as of {card['as_of']}")
    rows = [
        {"indicator": "招生完成率 enrolment completion",
         "value": f"{_pct(enrol['rate'])} ({enrol['numerator']}/{enrol['denominator']})" if enrol else "not imported"},
        {"indicator": "应届毕业生 graduates", "value": str(card["graduates"]["graduates"])},
        {"indicator": "考研录取率 postgraduate admission", "value": _pct(card["postgraduate_rate"])},
        {"indicator": "就业率 employment", "value": _pct(card["employment_rate"])},
        {"indicator": "双证率 dual certificate", "value": _pct(card["dual_certificate_rate"])},
        {"indicator": "CET-4 通过率", "value": _pct(card["cet4_pass_rate"])},
        {"indicator": "CET-6 通过率", "value": _pct(card["cet6_pass_rate"])},
        {"indicator": "超标课程 flagged courses", "value": str(len(card["flagged_courses"]))},
    ]
    output.emit(rows, ["indicator", "value"], False)
    for f in card["flagged_courses"]:
        click.echo(f"  {f['semester']} {f['course_code']} {f['course_name']} ({f['teacher']}): {_pct(f['rate'])}, "
                   f"review {f['review']['status']}")


@click.group()
def report():
    """Reports."""


@report.command("semester")
@click.argument("semester")
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False), help="Directory to write into.")
@click.option("--as-of", help=AS_OF_HELP)
@click.option("--format", "formats", default="html,pdf", show_default=True, help="html, pdf or both.")
@click.option("--json", "as_json", is_flag=True, help="Also write the figures as JSON.")
def report_semester(semester, out_dir, as_of, formats, as_json):
    """The semester report for the vice dean's meeting, as HTML and PDF (kpis.md)."""
    from services.assessment.report.render import write_report
    with client(timeout=300) as rpc:
        data = rpc.call("assessment", "semester_report", semester, as_of)
    _fail_unless_ok(data)
    wanted = tuple(f.strip() for f in formats.split(",") if f.strip())
    unknown = set(wanted) - {"html", "pdf"}
    if unknown:
        raise click.BadParameter(f"unknown format(s): {', '.join(sorted(unknown))}", param_hint="--format")
    written = write_report(data, out_dir, wanted)
    if as_json:
        path = Path(out_dir) / f"semester-report-{semester}.json"
        path.write_text(json.dumps(data, ensure_ascii=False, indent=2), encoding="utf-8")
        written.append(path)
    for path in written:
        click.echo(str(path))
