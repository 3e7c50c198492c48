"""Running the services: up, down, status, one service in the foreground, migrations, the mail sink."""
from __future__ import annotations

import json
import sys
import time

import click

from aq_cli import processes
from aq_cli.common import client
from shared import config
from shared.rpc_client import ServiceUnavailable


@click.command()
@click.option("--detach", is_flag=True, help="Return once every service answers, leaving them running.")
@click.option("--timeout", default=120.0, show_default=True, help="Seconds to wait for the services to answer.")
@click.option("--replicas", default="", metavar="SERVICE=N,…",
              help="Run several instances of services, e.g. warnings=2,notification=2.")
def up(detach, timeout, replicas):
    """Start every service that is not running (so also restart one that died)."""
    try:
        counts = processes.parse_replicas(replicas)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--replicas")
    for name, (pid, started) in processes.up(replicas=counts).items():
        click.echo(f"{name:<13} pid {pid:<7} {'started' if started else 'already running'}")
    wait_for_services(timeout)
    click.echo(f"all services answer (logs: {processes.log_dir()})")
    if detach:
        return
    click.echo("supervising; Ctrl-C stops every service")
    try:
        while True:
            time.sleep(2)
            for name, (pid, started) in processes.up(replicas=counts).items():
                if started:
                    click.echo(f"{name} had stopped; restarted as pid {pid}")
    except KeyboardInterrupt:
        click.echo("stopping")
        processes.down()


def wait_for_services(timeout: float) -> None:
    deadline = time.monotonic() + timeout
    pending = list(processes.RUNNABLE)
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
    for name in sorted(set(processes.names()) | set(processes.running_instances())):
        pid = processes.pid_of(name)
        click.echo(f"{name:<15} {'running, pid ' + str(pid) if pid else 'stopped'}")


@click.command()
@click.argument("names", nargs=-1)
@click.option("--local", is_flag=True,
              help="Judge this machine's own instances by their heartbeat files (for container probes).")
@click.option("--json", "as_json", is_flag=True)
def health(names, local, as_json):
    """Exit 0 when the services (all unless named) reach the broker and their database, and their outbox
    moves; exit 1 otherwise, saying why."""
    from shared.messaging.health import local_verdicts
    verdicts = {}
    for name in names or processes.RUNNABLE:
        if local:
            found = local_verdicts(name)
            verdicts[name] = found or [{"healthy": False, "problems": ["no running instance on this machine"]}]
        else:
            try:
                with client(timeout=5) as rpc:
                    verdicts[name] = [rpc.call(name, "health", timeout=5)]
            except ServiceUnavailable as exc:
                verdicts[name] = [{"healthy": False, "problems": [str(exc)]}]
    healthy = all(v["healthy"] for found in verdicts.values() for v in found)
    if as_json:
        click.echo(json.dumps(verdicts, ensure_ascii=False, indent=2))
    else:
        for name, found in verdicts.items():
            for v in found:
                click.echo(f"{name:<13} {'healthy' if v['healthy'] else 'UNHEALTHY: ' + '; '.join(v['problems'])}")
    sys.exit(0 if healthy else 1)


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
    for name in names or processes.RUNNABLE:
        upgrade(name)
        click.echo(f"{name}: schema up to date")


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on (0.0.0.0 in a container).")
@click.option("--port", default=8025, show_default=True)
def mailsink(host, port):
    """A development SMTP server that keeps every message under AQ_HOME/mail."""
    from aq_cli.mailsink import serve
    serve(port, config.home() / "mail", host=host)
