"""Following and repairing: traces, parked messages, the demo."""
from __future__ import annotations

import json

import click

from aq_cli import output
from aq_cli.common import client
from aq_cli.tracking import collect_ledgers, settlement
from shared import config


@click.command()
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


@click.group()
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


@click.command()
@click.option("--data", "data_dir", type=click.Path(exists=True, file_okay=False),
              help="A sample college folder (default: the one shipped in demo/sample_college).")
@click.option("--keep-running", is_flag=True, help="Leave the services running afterwards.")
def demo(data_dir, keep_running):
    """Start everything, import the sample college, upload its 14 grade files and summarise."""
    from aq_cli.demo import run_demo
    run_demo(data_dir, keep_running)
