"""The ``aq`` command: run the services, feed them files, and see what they did.

Each subcommand's module is imported only when that subcommand runs (``LazyGroup``): importing all of them (the
RPC client, SQLAlchemy for ``aq users``, the policy plugins…) took ~0.8 s, paid by every call — staff scripts,
``aq up``'s service processes and the end-to-end tests call ``aq`` hundreds of times.
"""
from __future__ import annotations

import importlib
import sys

import click

from shared.rpc_errors import RemoteError, ServiceUnavailable

# name -> "module:attribute" of its click command, in aq_cli/commands/<area>.py
COMMANDS = {
    "up": "running:up", "down": "running:down", "status": "running:status", "health": "running:health",
    "service": "running:service", "migrate": "running:migrate", "mailsink": "running:mailsink",
    "roster": "uploads:roster", "grades": "uploads:grades", "wait": "uploads:wait_command",
    "warnings": "results:warnings", "policy": "policy:policy", "notices": "notices:notices",
    "tasks": "advising:tasks", "records": "advising:records", "symposium": "advising:symposium",
    "handbook": "advising:handbook", "advising": "advising:advising",
    "flags": "assessment:flags", "outcomes": "assessment:outcomes", "scorecard": "assessment:scorecard",
    "report": "assessment:report",
    "trace": "operations:trace", "dlq": "operations:dlq", "demo": "operations:demo", "users": "users:users",
}


class LazyGroup(click.Group):
    """A click group whose subcommands are imported on first use (click's documented lazy-loading pattern)."""

    def __init__(self, *args, lazy: dict[str, str], **kwargs):
        super().__init__(*args, **kwargs)
        self.lazy = lazy

    def list_commands(self, ctx):
        return sorted({*super().list_commands(ctx), *self.lazy})

    def get_command(self, ctx, name):
        if name in self.lazy and name not in self.commands:
            module, attribute = self.lazy[name].split(":")
            command = getattr(importlib.import_module(f"aq_cli.commands.{module}"), attribute)
            if command.name != name:
                raise RuntimeError(f"aq_cli.main.COMMANDS: {name!r} is the command {command.name!r}")
            self.add_command(command)
        return super().get_command(ctx, name)


@click.group(cls=LazyGroup, lazy=COMMANDS)
def cli():
    """academic-quality: grades, academic warnings, notices, duties and indicators."""


def main():
    try:
        cli(standalone_mode=True)
    except (ServiceUnavailable, RemoteError) as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(1)


if __name__ == "__main__":
    main()
