"""Health of one service process: broker reachable, database reachable, outbox not stuck.

Each process writes its verdict to a heartbeat file every few seconds (AQ_HOME/run/health-<service>-<pid>.json);
`aq health --local SERVICE` reads the files of live processes. This checks THIS instance — which is what a
container's liveness and readiness probes need — where an RPC would be answered by any instance.
"""
from __future__ import annotations

import json
import os
import time
from pathlib import Path

from kombu import Connection

from shared import config
from shared.messaging.ledger import outbox_backlog


def check(engine, tables, amqp_uri: str, stuck_after: float) -> dict:
    problems = []
    try:
        with Connection(amqp_uri, connect_timeout=3) as conn:
            conn.ensure_connection(max_retries=1)
    except Exception as exc:   # any failure to reach the broker is the finding, not an error of ours
        problems.append(f"broker unreachable: {exc}")
    backlog = None
    try:
        backlog = outbox_backlog(engine, tables)
        if backlog["oldest_seconds"] > stuck_after:
            problems.append(f"outbox stuck: {backlog['unpublished']} events unpublished, "
                            f"oldest {backlog['oldest_seconds']:.0f}s")
    except Exception as exc:
        problems.append(f"database unreachable: {exc}")
    return {"healthy": not problems, "problems": problems, "outbox": backlog}


def heartbeat_path(service: str, pid: int | None = None) -> Path:
    folder = config.home() / "run"
    folder.mkdir(parents=True, exist_ok=True)
    return folder / f"health-{service}-{pid or os.getpid()}.json"


def write_heartbeat(service: str, verdict: dict) -> None:
    path = heartbeat_path(service)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps({**verdict, "service": service, "pid": os.getpid(), "at": time.time()}))
    tmp.replace(path)


def local_verdicts(service: str, fresh_within: float = 30.0) -> list[dict]:
    """Verdicts of this machine's live processes of ``service`` (stale or dead ones count as unhealthy)."""
    verdicts = []
    for path in sorted((config.home() / "run").glob(f"health-{service}-*.json")):
        try:
            verdict = json.loads(path.read_text())
        except (OSError, ValueError):
            continue
        if not Path(f"/proc/{verdict['pid']}").exists():
            path.unlink(missing_ok=True)
            continue
        if time.time() - verdict["at"] > fresh_within:
            verdict = {**verdict, "healthy": False, "problems": [f"no heartbeat for {time.time() - verdict['at']:.0f}s"]}
        verdicts.append(verdict)
    return verdicts
