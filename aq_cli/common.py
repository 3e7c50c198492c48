"""What several commands share: the RPC client, file payloads, and how outcomes are reported."""
from __future__ import annotations

import base64
import json
import sys
from pathlib import Path

import click

from shared import config
from shared.rpc_client import RpcClient


def client(timeout: float = 120.0) -> RpcClient:
    return RpcClient(config.amqp_uri(), timeout=timeout)


def file_payload(path: str) -> dict:
    data = Path(path).read_bytes()
    return {"filename": Path(path).name, "content_b64": base64.b64encode(data).decode("ascii")}


def print_rejection(answer: dict) -> None:
    click.echo(answer.get("report") or json.dumps(answer.get("problems"), ensure_ascii=False, indent=2), err=True)


def upload_file(rpc: RpcClient, path: str, uploaded_by: str) -> dict:
    payload = file_payload(path)
    return rpc.call("grades", "upload", payload["filename"], payload["content_b64"], uploaded_by)


def report_settlement(state) -> None:
    if state.settled:
        click.echo("cascade settled", err=True)
        return
    for item in state.stuck:
        click.echo(f"STUCK in aq.parked: {item['type']} on {item['queue']}: {item['error']}", err=True)
    for line in state.waiting[:20]:
        click.echo(f"waiting: {line}", err=True)
    sys.exit(2 if state.stuck else 3)
