"""The ``aq`` command: run the services, feed them files, and see what they did."""
from __future__ import annotations

import sys

import click

from aq_cli.commands import advising, assessment, history, notices, operations, policy, results, running, uploads
from aq_cli.commands import users
from shared.rpc_client import RemoteError, ServiceUnavailable


@click.group()
def cli():
    """academic-quality: grades, academic warnings, notices, duties and indicators."""


for command in (running.up, running.down, running.status, running.health, running.service, running.migrate, running.mailsink,
                uploads.roster, uploads.grades, uploads.wait_command,
                results.warnings, policy.policy, notices.notices,
                advising.tasks, advising.records, advising.symposium, advising.handbook, advising.advising,
                assessment.flags, assessment.outcomes, assessment.scorecard, assessment.report,
                operations.trace, operations.dlq, operations.demo, users.users):
    cli.add_command(command)


results.warnings.add_command(history.history)     # aq warnings history STUDENT_ID


def main():
    try:
        cli(standalone_mode=True)
    except (ServiceUnavailable, RemoteError) as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(1)


if __name__ == "__main__":
    main()
