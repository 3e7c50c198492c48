"""Feeding the system: roster imports, grade uploads, waiting for a cascade."""
from __future__ import annotations

import sys

import click
from pathlib import Path

from aq_cli import output
from aq_cli.common import client, file_payload, print_rejection, report_settlement
from aq_cli.tracking import wait_until_settled
from shared.files.formats import size_problem


@click.group()
def roster():
    """Classes, students, guardians and staff."""


@roster.command("import")
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False))
@click.option("--by", "imported_by", default="cli", help="Who imports (recorded).")
def roster_import(files, imported_by):
    """Import roster files (classes, students, staff; any order)."""
    with client() as rpc:
        answer = rpc.call("roster", "import_files", [file_payload(f) for f in files], imported_by)
    if answer["status"] != "accepted":
        print_rejection(answer)
        sys.exit(1)
    counts = answer["counts"]
    click.echo(f"roster import {answer['import_id']}: {counts['classes']} classes, "
               f"{counts['students']} students, {counts['staff']} staff")


@click.group()
def grades():
    """Grade uploads."""


@grades.command("upload")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--wait", is_flag=True, help="Return only when every service has finished this upload's cascade.")
@click.option("--by", "uploaded_by", default="cli", help="Who uploads (recorded with corrections).")
@click.option("--sheet", default=None, help="The sheet of an .xlsx workbook to read (default: the first).")
@click.option("--timeout", default=600.0, show_default=True, help="Seconds --wait may take.")
def grades_upload(file, wait, uploaded_by, sheet, timeout):
    """Upload a grades file (CSV in any encoding, or .xlsx); prints the upload id.

    A file with any bad row is rejected whole: every bad row is listed and the command exits 1."""
    too_big = size_problem(Path(file).name, Path(file).stat().st_size)
    if too_big is not None:                       # refused here, without reading or sending it
        click.echo(f"{Path(file).name}: rejected, nothing was stored", err=True)
        print_rejection({"report": too_big.as_text()})
        sys.exit(1)
    with client(timeout=max(timeout, 120)) as rpc:
        payload = file_payload(file)
        answer = rpc.call("grades", "upload", payload["filename"], payload["content_b64"], uploaded_by, sheet)
        del payload
        if answer["status"] != "accepted":
            click.echo(f"{Path(file).name}: rejected, nothing was stored", err=True)
            print_rejection(answer)
            sys.exit(1)
        click.echo(answer["upload_id"])
        click.echo(f"{answer['rows']} rows: {answer['new']} new, {answer['corrected']} corrected, "
                   f"{answer['unchanged']} unchanged", err=True)
        if wait:
            state, _ = wait_until_settled(rpc, answer["upload_id"], timeout=timeout)
            report_settlement(state)


@click.command("wait")
@click.argument("upload_id")
@click.option("--timeout", default=600.0, show_default=True)
def wait_command(upload_id, timeout):
    """Wait until an upload's cascade has settled (exit 2 if something is parked, 3 on time-out)."""
    with client() as rpc:
        state, _ = wait_until_settled(rpc, upload_id, timeout=timeout)
    report_settlement(state)


@grades.command("history")
@click.argument("student_id")
@click.argument("course", required=False)
@click.option("--json", "as_json", is_flag=True, help="One JSON array: each record with its corrections.")
def grades_history(student_id, course, as_json):
    """A student's records (of one COURSE code, if given) and every correction made to them:
    old and new value, which upload, who, when."""
    with client() as rpc:
        records = rpc.call("grades", "history", student_id, course)
    if as_json:
        output.emit(records, [], True)
        return
    if not records:
        click.echo(f"no records for student {student_id}" + (f" in course {course}" if course else ""), err=True)
        sys.exit(1)
    rows = []
    for record in records:
        rows.append({**record, "what": "record", "score": record["score"],
                     "change": f"first {record['first_score']!r}" if record["corrections"] else ""})
        for corr in record["corrections"]:
            change = "; ".join(f"{field}: {corr['old'].get(field)!r} -> {corr['new'].get(field)!r}"
                               for field in corr["new"])
            rows.append({"semester": "", "course_code": "", "exam_type": "", "what": "correction",
                         "score": corr["new"].get("score", ""), "change": change, "upload_id": corr["upload_id"],
                         "filename": corr["filename"], "by": corr["changed_by"], "when": corr["changed_at"]})
    output.emit(rows, ["semester", "course_code", "course_name", "exam_type", "what", "score", "change",
                       "upload_id", "filename", "by", "when"], False)
