"""`aq warnings history STUDENT_ID`: one student's warnings across semesters with their reasons, the notices and
acknowledgements they caused, the tasks and records of staff, and the counselor lists the student was on
(aq_cli/timeline.py arranges them)."""
from __future__ import annotations

import json

import click

from aq_cli import timeline
from aq_cli.common import client


@click.command("history")
@click.argument("student_id")
@click.option("--locale", type=click.Choice(["zh", "en"]), default="zh", show_default=True)
@click.option("--timeout", type=float, default=15.0, show_default=True,
              help="Seconds to wait for each service; a part that does not answer is reported missing.")
@click.option("--json", "as_json", is_flag=True)
def history(student_id, locale, timeout, as_json):
    """A student's warning timeline: warnings, notices, acknowledgements, tasks and lists, by semester."""
    def call(service, method, sid):
        with client(timeout) as rpc:      # one connection per part: a part that fails leaves the others alone
            return rpc.call(service, method, sid)

    answers, missing = timeline.gather(call, student_id)
    merged = timeline.merge(student_id, answers, missing)
    if as_json:
        click.echo(json.dumps(merged, ensure_ascii=False, indent=2))
    else:
        click.echo(timeline.render(merged, locale))
    if len(missing) == len(timeline.PARTS):
        raise SystemExit(1)     # nothing answered: not a timeline
