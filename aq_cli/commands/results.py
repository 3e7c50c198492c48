"""What the cascade produced: warnings (notices: aq_cli/commands/notices.py; tasks: aq_cli/commands/advising.py; course flags: aq_cli/commands/assessment.py)."""
from __future__ import annotations

import click

from aq_cli import output
from aq_cli.commands import history, review
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


for _command in review.COMMANDS:     # pending, confirm, exclude, policy-install, policies
    warnings.add_command(_command)


warnings.add_command(history.history)     # aq warnings history STUDENT_ID
