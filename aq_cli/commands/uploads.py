"""Feeding the system: roster imports, grade uploads, waiting for a cascade."""
from __future__ import annotations

import sys

import click
from pathlib import Path

from aq_cli import output
from aq_cli.common import client, file_payload, print_rejection, report_settlement, upload_file
from aq_cli.tracking import wait_until_settled


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
@click.option("--timeout", default=600.0, show_default=True, help="Seconds --wait may take.")
def grades_upload(file, wait, uploaded_by, timeout):
    """Upload a grades file; prints the upload id."""
    with client(timeout=max(timeout, 120)) as rpc:
        answer = upload_file(rpc, file, uploaded_by)
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
@click.option("--json", "as_json", is_flag=True)
def grades_history(student_id, course, as_json):
    """A student's records and the corrections made to them."""
    with client() as rpc:
        rows = rpc.call("grades", "history", student_id, course)
    output.emit(rows, ["semester", "course_code", "exam_type", "score", "previous_score", "upload_id",
                       "changed_by", "changed_at"], as_json)
