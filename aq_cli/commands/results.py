"""What the cascade produced: warnings, notices, tasks, course flags."""
from __future__ import annotations

import json

import click

from aq_cli import output
from aq_cli.common import client


@click.group()
def warnings():
    """Academic warnings (学业预警)."""


@warnings.command("list")
@click.option("--semester")
@click.option("--status", type=click.Choice(["active", "lifted", "all"]), default="active", show_default=True)
@click.option("--json", "as_json", is_flag=True)
def warnings_list(semester, status, as_json):
    with client() as rpc:
        rows = rpc.call("warnings", "list_warnings", semester, status)
    output.emit(rows, ["student_id", "semester", "level", "status", "escalated", "rules"], as_json)


@click.group()
def notices():
    """Notices sent to students, guardians and staff."""


@notices.command("list")
@click.option("--json", "as_json", is_flag=True)
def notices_list(as_json):
    with client() as rpc:
        rows = rpc.call("notification", "list_notices")
    output.emit(rows, ["recipient_kind", "recipient_id", "channel", "kind", "cause", "status"], as_json)


@click.group()
def tasks():
    """Duties: talks, parent contacts, course reviews…"""


@tasks.command("list")
@click.option("--assignee")
@click.option("--status", type=click.Choice(["open", "done", "all"]), default="all", show_default=True)
@click.option("--json", "as_json", is_flag=True)
def tasks_list(assignee, status, as_json):
    with client() as rpc:
        rows = rpc.call("advising", "list_tasks", assignee, status)
    output.emit(rows, ["task_id", "kind", "assignee", "student_id", "course_code", "semester", "due", "status",
                       "note"], as_json)


@tasks.command("close")
@click.argument("task_id")
@click.option("--by", "closed_by", required=True, help="Staff id of the owner closing it.")
@click.option("--record", "record_json", required=True,
              help='The record, as JSON, e.g. \'{"date": "2024-10-08", "place": "办公室", "summary": "…"}\'')
def tasks_close(task_id, closed_by, record_json):
    """Close a task with the record the duty asks for."""
    try:
        record = json.loads(record_json)
    except ValueError as exc:
        raise click.BadParameter(f"--record is not JSON: {exc}")
    with client() as rpc:
        answer = rpc.call("advising", "close_task", task_id, closed_by, record)
    if answer["status"] != "closed":
        raise click.ClickException(answer["message"])
    click.echo(f"task {task_id} closed")


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
