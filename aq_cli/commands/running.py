"""Running the services: up, down, status, one service in the foreground, migrations, the mail sink."""
from __future__ import annotations

import time

import click

from aq_cli import processes
from aq_cli.common import client
from shared import config
from shared.rpc_client import ServiceUnavailable


@click.command()
@click.option("--detach", is_flag=True, help="Return once every service answers, leaving them running.")
@click.option("--timeout", default=120.0, show_default=True, help="Seconds to wait for the services to answer.")
def up(detach, timeout):
    """Start every service that is not running (so also restart one that died)."""
    for name, (pid, started) in processes.up().items():
        click.echo(f"{name:<13} pid {pid:<7} {'started' if started else 'already running'}")
    wait_for_services(timeout)
    click.echo(f"all services answer (logs: {processes.log_dir()})")
    if detach:
        return
    click.echo("supervising; Ctrl-C stops every service")
    try:
        while True:
            time.sleep(2)
            for name, (pid, started) in processes.up().items():
                if started:
                    click.echo(f"{name} had stopped; restarted as pid {pid}")
    except KeyboardInterrupt:
        click.echo("stopping")
        processes.down()


def wait_for_services(timeout: float) -> None:
    deadline = time.monotonic() + timeout
    pending = list(config.SERVICES)
    with client(timeout=5) as rpc:
        while pending:
            name = pending[0]
            try:
                rpc.call(name, "health", timeout=2)
                pending.pop(0)
            except ServiceUnavailable:
                if time.monotonic() > deadline:
                    raise click.ClickException(f"{name} did not come up within {timeout:.0f}s; "
                                               f"see {processes.log_dir() / (name + '.log')}")
                time.sleep(0.2)
                # Checked twice: while a process execs into nameko its command line is briefly empty.
                if processes.pid_of(name) is None and (time.sleep(0.5) or processes.pid_of(name) is None):
                    raise click.ClickException(f"{name} exited; see {processes.log_dir() / (name + '.log')}")


@click.command()
def down():
    """Stop every service."""
    stopped = processes.down()
    click.echo(f"stopped: {', '.join(stopped) if stopped else 'nothing was running'}")


@click.command()
def status():
    """Which services are running."""
    for name in processes.names():
        pid = processes.pid_of(name)
        click.echo(f"{name:<13} {'running, pid ' + str(pid) if pid else 'stopped'}")


@click.group()
def service():
    """Run one service in the foreground (what `aq up` and containers do)."""


@service.command("run")
@click.argument("name")
def service_run(name):
    processes.exec_service(name)


@click.command()
@click.argument("names", nargs=-1)
def migrate(names):
    """Bring service databases to the newest schema (all services unless named)."""
    from shared.migrations import upgrade
    for name in names or config.SERVICES:
        upgrade(name)
        click.echo(f"{name}: schema up to date")


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on (0.0.0.0 in a container).")
@click.option("--port", default=8025, show_default=True)
def mailsink(host, port):
    """A development SMTP server that keeps every message under AQ_HOME/mail."""
    from aq_cli.mailsink import serve
    serve(port, config.home() / "mail", host=host)
