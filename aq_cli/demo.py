"""`aq demo`: the sample college through the whole cascade, then a summary."""
from __future__ import annotations

import time
from collections import Counter
from pathlib import Path

import click

from aq_cli import processes
from aq_cli.tracking import wait_until_settled
from shared import config
from shared.academic.vocabulary import LEVELS
from shared.rpc_client import RpcClient

SAMPLE = Path(__file__).resolve().parents[1] / "demo" / "sample_college"
ROSTER_FILES = ("staff.csv", "classes.csv", "students.csv")


def run_demo(data_dir: str | None, keep_running: bool) -> None:
    from aq_cli.common import file_payload, upload_file
    from aq_cli.commands.running import wait_for_services
    sample = Path(data_dir) if data_dir else SAMPLE
    uploads = sorted((sample / "csv" / "uploads").glob("*.csv"))
    if not uploads:
        raise click.ClickException(f"no uploads under {sample / 'csv' / 'uploads'}")
    started = time.monotonic()
    click.echo(f"starting services (data in {config.home()})")
    processes.up()
    try:
        wait_for_services(180)
        with RpcClient(config.amqp_uri(), timeout=300) as rpc:
            answer = rpc.call("roster", "import_files",
                              [file_payload(str(sample / "csv" / "roster" / f)) for f in ROSTER_FILES], "demo")
            if answer["status"] != "accepted":
                raise click.ClickException(answer["report"])
            click.echo(f"roster: {answer['counts']}")
            for path in uploads:
                t0 = time.monotonic()
                result = upload_file(rpc, str(path), "demo")
                if result["status"] != "accepted":
                    raise click.ClickException(result["report"])
                state, _ = wait_until_settled(rpc, result["upload_id"], timeout=600)
                if not state.settled:
                    raise click.ClickException(f"{path.name}: cascade did not settle: {state.waiting[:5]} {state.stuck[:3]}")
                click.echo(f"{path.name:<32} {result['rows']:>5} rows  {result['new']:>4} new  "
                           f"{result['corrected']:>3} corrected  settled in {time.monotonic() - t0:.2f}s")
                confirm_like_academic_affairs(rpc)
            print_summary(rpc)
        click.echo(f"demo finished in {time.monotonic() - started:.1f}s")
    finally:
        if not keep_running:
            processes.down()


def confirm_like_academic_affairs(rpc: RpcClient) -> None:
    """Review before release (docs/warnings.md): the computed warning list waits until academic affairs confirm
    it; only then are students, parents and staff told, and tasks created."""
    pending = [b for b in rpc.call("warnings", "list_pending") if b["status"] == "pending"]
    if not pending:
        click.echo("  academic affairs: no warning list to review")
        return
    for batch in pending:
        t0 = time.monotonic()
        kinds = ", ".join(f"{k} {v}" for k, v in sorted(Counter(c["kind"] for c in batch["changes"]).items()))
        answer = rpc.call("warnings", "confirm_batch", batch["batch_id"], "academic-affairs (demo)")
        if answer["status"] == "rejected":
            raise click.ClickException(answer["message"])
        line = f"  academic affairs confirms the list (batch {batch['batch_id']}: {kinds})"
        if answer["status"] != "released":
            click.echo(f"{line}: announced at {answer['release_at'][:16]} after the objection window")
            continue
        state, _ = wait_until_settled(rpc, answer["correlation_id"], timeout=600)
        if not state.settled:
            raise click.ClickException(f"batch {batch['batch_id']}: cascade did not settle: {state.waiting[:5]} "
                                       f"{state.stuck[:3]}")
        click.echo(f"{line}: notices and tasks settled in {time.monotonic() - t0:.2f}s")


def print_summary(rpc: RpcClient) -> None:
    records = rpc.call("grades", "summary")["records"]
    warnings = rpc.call("warnings", "list_warnings", None, "all")
    notices = rpc.call("notification", "list_notices")
    tasks = rpc.call("advising", "list_tasks", None, "all")
    flags = rpc.call("assessment", "list_flags", None)
    active = Counter(w["level"] for w in warnings if w["status"] == "active")
    click.echo("")
    click.echo("summary")
    click.echo(f"  grade records stored      {records}")
    click.echo("  warnings (active)         " + ", ".join(f"{k} {active.get(k, 0)}" for k in LEVELS)
               + f"; lifted {sum(1 for w in warnings if w['status'] == 'lifted')}")
    by_kind = Counter(n["recipient_kind"] for n in notices)
    by_status = Counter(n["status"] for n in notices)
    click.echo("  notices by recipient      " + ", ".join(f"{k} {v}" for k, v in sorted(by_kind.items())))
    click.echo("  notices by status         " + ", ".join(f"{k} {v}" for k, v in sorted(by_status.items())))
    click.echo("  tasks by kind             " + ", ".join(f"{k} {v}" for k, v in sorted(Counter(t['kind'] for t in tasks).items())))
    click.echo(f"  courses flagged (>15%)    {len(flags)}")
    click.echo(f"  e-mails in the mail sink  {len(list((config.home() / 'mail').glob('*.eml')))}  ({config.home() / 'mail'})")
