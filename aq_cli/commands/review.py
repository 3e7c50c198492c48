"""Review before release and policy versions (docs/warnings.md "Review and release"): the `aq warnings` commands
pending, confirm, exclude, policy-install and policies. results.py adds them to the `aq warnings` group."""
from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from aq_cli import output
from aq_cli.common import client, report_settlement
from aq_cli.tracking import wait_until_settled

CHANGE_COLUMNS = ["student_id", "semester", "kind", "change", "rules", "release_status"]
DECIDED_COLUMNS = CHANGE_COLUMNS + ["excluded_by", "excluded_at", "reason", "superseded_by"]


def _rejected(answer) -> None:
    if isinstance(answer, dict) and answer.get("status") == "rejected":
        raise click.ClickException(answer["message"])


@click.command("pending")
@click.option("--semester", help="Only changes of this semester (YYYY-YYYY-T).")
@click.option("--batch", "batch_id", type=int, help="Only this batch.")
@click.option("--all", "everything", is_flag=True,
              help="Every change of the batches shown: also excluded (who, when, why), superseded and released; "
                   "with --batch, a batch in any state.")
@click.option("--json", "as_json", is_flag=True)
def pending(semester, batch_id, everything, as_json):
    """The computed warning lists waiting for academic-affairs review, batch by batch (one batch per upload or
    policy installation): each student's change from what was announced to what the policy says now."""
    with client() as rpc:
        batches = rpc.call("warnings", "list_pending", semester, batch_id, everything)
    _rejected(batches)
    if as_json:
        click.echo(json.dumps(batches, ensure_ascii=False, indent=2))
        return
    if not batches:
        click.echo("nothing waits for review")
        return
    for batch in batches:
        click.echo(_batch_line(batch))
        rows = [{**c, "change": f"{c['old_level']} → {c['new_level']}"} for c in batch["changes"]]
        output.emit(rows, DECIDED_COLUMNS if everything else CHANGE_COLUMNS, False)
        click.echo("")


def _when(iso: str) -> str:
    """2024-09-02T01:00:00+00:00 -> 2024-09-02 01:00 UTC (times are stored in UTC)."""
    return iso[:16].replace("T", " ") + (" UTC" if iso.endswith("+00:00") else "")


def _batch_line(batch: dict) -> str:
    line = (f"batch {batch['batch_id']}  {batch['status']}  from {batch['correlation_id']}  "
            f"computed {_when(batch['created_at'])}")
    if batch.get("confirmed_by"):
        line += f"  confirmed by {batch['confirmed_by']} {_when(batch['confirmed_at'])}"
    if batch["status"] == "confirmed":
        line += f"  announced at {_when(batch['release_at'])} (objection window)"
    return line + "  " + ", ".join(f"{k} {v}" for k, v in sorted(batch["counts"].items()))


@click.command("confirm")
@click.argument("batch_ids", nargs=-1, type=int)
@click.option("--all", "every", is_flag=True, help="Confirm every pending batch.")
@click.option("--by", "confirmed_by", required=True, help="Staff id of who confirms (recorded).")
@click.option("--wait", is_flag=True, help="Return only when the released warnings' notices and tasks are done.")
@click.option("--timeout", default=600.0, show_default=True, help="Seconds --wait may take.")
def confirm(batch_ids, every, confirmed_by, wait, timeout):
    """Confirm pending BATCH_IDS (or --all): their changes are announced — notices and tasks follow — at once, or
    after the policy's objection window."""
    if bool(batch_ids) == every:
        raise click.UsageError("name the batches to confirm, or --all (aq warnings pending lists them)")
    with client() as rpc:
        if every:
            batch_ids = [b["batch_id"] for b in rpc.call("warnings", "list_pending") if b["status"] == "pending"]
            if not batch_ids:
                click.echo("nothing waits for review")
                return
        released = []
        for batch_id in batch_ids:
            answer = rpc.call("warnings", "confirm_batch", batch_id, confirmed_by)
            _rejected(answer)
            if answer["status"] == "released":
                click.echo(f"batch {batch_id} ({answer['correlation_id']}): {answer['released']} changes confirmed "
                           f"and announced")
                released.append(answer["correlation_id"])
            else:
                click.echo(f"batch {batch_id} ({answer['correlation_id']}): {answer['changes']} changes confirmed; "
                           f"announced at {_when(answer['release_at'])} after the objection window")
        if wait:
            for correlation_id in dict.fromkeys(released):
                state, _ = wait_until_settled(rpc, correlation_id, timeout=timeout)
                if not state.settled:
                    report_settlement(state)
            if released:
                click.echo("cascade settled", err=True)


@click.command("exclude")
@click.argument("batch_id", type=int)
@click.argument("student_id")
@click.option("--reason", required=True, help="Why the student is left out of this release (recorded).")
@click.option("--by", "excluded_by", required=True, help="Staff id of who decides (recorded).")
def exclude(batch_id, student_id, reason, excluded_by):
    """Leave STUDENT_ID out of batch BATCH_ID's release. The exclusion holds while later evaluations give the same
    level; a different level puts the student up for review again."""
    with client() as rpc:
        answer = rpc.call("warnings", "exclude_student", batch_id, student_id, reason, excluded_by)
    _rejected(answer)
    changes = ", ".join(f"{c['semester']} {c['old_level']} → {c['new_level']}" for c in answer["changes"])
    click.echo(f"student {student_id} excluded from batch {batch_id} ({changes})")


@click.command("policy-install")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--by", "installed_by", required=True, help="Staff id of who installs it (recorded).")
def policy_install(file, installed_by):
    """Install the policy FILE as the new version in force for every instance; everybody with grade records is
    re-evaluated and only real level changes go out (through review, if the policy asks for it)."""
    try:
        text = Path(file).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise click.ClickException(f"{file}: cannot read the policy file ({getattr(exc, 'strerror', None) or exc})")
    with client(timeout=900) as rpc:
        answer = rpc.call("warnings", "install_policy", text, installed_by)
    if answer["status"] == "rejected":
        raise click.ClickException(f"{Path(file).name}: {answer['message']}")
    if answer["status"] == "unchanged":
        click.echo(answer["message"])
        return
    line = (f"policy {answer['version']} installed (was {answer['previous']}): {answer['students']} students "
            f"re-evaluated, {answer['changes']} changes")
    if answer["changes"]:
        line += ("; waiting for review (aq warnings pending)" if answer["review_required"]
                 else f"; announced (aq wait {answer['correlation_id']})")
    click.echo(line)


@click.command("policies")
@click.option("--json", "as_json", is_flag=True)
def policies(as_json):
    """The policy in force and every version installed (when, by whom)."""
    with client() as rpc:
        answer = rpc.call("warnings", "list_policies")
    if as_json:
        click.echo(json.dumps(answer, ensure_ascii=False, indent=2))
        return
    review = "review required" if answer["review_required"] else "no review"
    if answer["review_required"] and answer["objection_window_hours"]:
        review += f", {answer['objection_window_hours']:g} h objection window"
    click.echo(f"in force: {answer['in_force']} ({review})")
    if not answer["installed"]:
        click.echo("no version installed yet: the service's policy file is in force", err=True)
        sys.exit(0)
    output.emit(answer["installed"], ["seq", "version", "installed_at", "installed_by"], False)


COMMANDS = (pending, confirm, exclude, policy_install, policies)
