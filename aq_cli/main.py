"""The ``aq`` command: run the services, feed them files, and see what they did."""
from __future__ import annotations

import base64
import json
import sys
import time
from collections import Counter
from pathlib import Path

import click

from aq_cli import output, processes
from aq_cli.tracking import collect_ledgers, settlement, wait_until_settled
from shared import config
from shared.rpc_client import RemoteError, RpcClient, ServiceUnavailable


def client(timeout: float = 120.0) -> RpcClient:
    return RpcClient(config.amqp_uri(), timeout=timeout)


@click.group()
def cli():
    """academic-quality: grades, academic warnings, notices, duties and indicators."""


# --- running the services ---------------------------------------------------------------------------

@cli.command()
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


@cli.command()
def down():
    """Stop every service."""
    stopped = processes.down()
    click.echo(f"stopped: {', '.join(stopped) if stopped else 'nothing was running'}")


@cli.command()
def status():
    """Which services are running."""
    for name in processes.names():
        pid = processes.pid_of(name)
        click.echo(f"{name:<13} {'running, pid ' + str(pid) if pid else 'stopped'}")


@cli.group()
def service():
    """Run one service in the foreground (what `aq up` and containers do)."""


@service.command("run")
@click.argument("name")
def service_run(name):
    processes.exec_service(name)


@cli.command()
@click.argument("names", nargs=-1)
def migrate(names):
    """Bring service databases to the newest schema (all services unless named)."""
    from shared.migrations import upgrade
    for name in names or config.SERVICES:
        upgrade(name)
        click.echo(f"{name}: schema up to date")


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on (0.0.0.0 in a container).")
@click.option("--port", default=8025, show_default=True)
def mailsink(host, port):
    """A development SMTP server that keeps every message under AQ_HOME/mail."""
    from aq_cli.mailsink import serve
    serve(port, config.home() / "mail", host=host)


# --- roster and grades ------------------------------------------------------------------------------

def _file_payload(path: str) -> dict:
    data = Path(path).read_bytes()
    return {"filename": Path(path).name, "content_b64": base64.b64encode(data).decode("ascii")}


def _print_rejection(answer: dict) -> None:
    click.echo(answer.get("report") or json.dumps(answer.get("problems"), ensure_ascii=False, indent=2), err=True)


@cli.group()
def roster():
    """Classes, students, guardians and staff."""


@roster.command("import")
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False))
@click.option("--by", "imported_by", default="cli", help="Who imports (recorded).")
def roster_import(files, imported_by):
    """Import roster files (classes, students, staff; any order)."""
    with client() as rpc:
        answer = rpc.call("roster", "import_files", [_file_payload(f) for f in files], imported_by)
    if answer["status"] != "accepted":
        _print_rejection(answer)
        sys.exit(1)
    counts = answer["counts"]
    click.echo(f"roster import {answer['import_id']}: {counts['classes']} classes, "
               f"{counts['students']} students, {counts['staff']} staff")


@cli.group()
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
            _print_rejection(answer)
            sys.exit(1)
        click.echo(answer["upload_id"])
        click.echo(f"{answer['rows']} rows: {answer['new']} new, {answer['corrected']} corrected, "
                   f"{answer['unchanged']} unchanged", err=True)
        if wait:
            state, _ = wait_until_settled(rpc, answer["upload_id"], timeout=timeout)
            _report_settlement(state)


def upload_file(rpc: RpcClient, path: str, uploaded_by: str) -> dict:
    payload = _file_payload(path)
    return rpc.call("grades", "upload", payload["filename"], payload["content_b64"], uploaded_by)


def _report_settlement(state) -> None:
    if state.settled:
        click.echo("cascade settled", err=True)
        return
    for item in state.stuck:
        click.echo(f"STUCK in aq.parked: {item['type']} on {item['queue']}: {item['error']}", err=True)
    for line in state.waiting[:20]:
        click.echo(f"waiting: {line}", err=True)
    sys.exit(2 if state.stuck else 3)


@cli.command("wait")
@click.argument("upload_id")
@click.option("--timeout", default=600.0, show_default=True)
def wait_command(upload_id, timeout):
    """Wait until an upload's cascade has settled (exit 2 if something is parked, 3 on time-out)."""
    with client() as rpc:
        state, _ = wait_until_settled(rpc, upload_id, timeout=timeout)
    _report_settlement(state)


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


# --- what the cascade produced ----------------------------------------------------------------------

@cli.group()
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


@cli.group()
def notices():
    """Notices sent to students, guardians and staff."""


@notices.command("list")
@click.option("--json", "as_json", is_flag=True)
def notices_list(as_json):
    with client() as rpc:
        rows = rpc.call("notification", "list_notices")
    output.emit(rows, ["recipient_kind", "recipient_id", "channel", "kind", "cause", "status"], as_json)


@cli.group()
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


@cli.group()
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


@cli.command()
@click.argument("upload_id")
@click.option("--json", "as_json", is_flag=True)
def trace(upload_id, as_json):
    """One upload's cascade as a tree: records -> warning changes -> notices -> tasks."""
    from aq_cli.trace_tree import render
    from shared.messaging.parking import list_parked
    with client() as rpc:
        ledgers = collect_ledgers(rpc, upload_id)
    state = settlement(ledgers, list_parked(config.amqp_uri()), upload_id)
    if as_json:
        click.echo(json.dumps({"ledgers": ledgers, "settled": state.settled, "waiting": state.waiting,
                               "stuck": state.stuck}, ensure_ascii=False, indent=2, default=str))
        return
    click.echo(render(upload_id, ledgers, state))


@cli.group()
def dlq():
    """Parked messages: those that failed every retry."""


@dlq.command("list")
@click.option("--json", "as_json", is_flag=True)
def dlq_list(as_json):
    from shared.messaging.parking import list_parked
    output.emit(list_parked(config.amqp_uri()), ["event_id", "type", "queue", "attempts", "error"], as_json)


@dlq.command("replay")
@click.argument("event_ids", nargs=-1)
@click.option("--all", "replay_all", is_flag=True, help="Replay every parked message.")
def dlq_replay(event_ids, replay_all):
    """Send parked messages back to the queue they failed on."""
    from shared.messaging.parking import replay_parked
    if not event_ids and not replay_all:
        raise click.UsageError("name the event ids to replay, or --all")
    replayed = replay_parked(config.amqp_uri(), set(event_ids) if event_ids else None)
    for item in replayed:
        click.echo(f"replayed {item['event_id']} to {item['queue']}")
    click.echo(f"{len(replayed)} replayed")


@cli.command()
@click.option("--data", "data_dir", type=click.Path(exists=True, file_okay=False),
              help="A sample college folder (default: the one shipped in demo/sample_college).")
@click.option("--keep-running", is_flag=True, help="Leave the services running afterwards.")
def demo(data_dir, keep_running):
    """Start everything, import the sample college, upload its 14 grade files and summarise."""
    from aq_cli.demo import run_demo
    run_demo(data_dir, keep_running)


def main():
    try:
        cli(standalone_mode=True)
    except (ServiceUnavailable, RemoteError) as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(1)


if __name__ == "__main__":
    main()
