"""The whole system as separate OS processes, started and stopped through the `aq` command, the way a
user runs it, against the real broker and database."""
from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from shared.rpc_client import RpcClient

REPO = Path(__file__).resolve().parents[2]
SAMPLE = REPO / "demo" / "sample_college"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Cluster:
    def __init__(self, home: Path, amqp_uri: str, database_url: str | None, extra_env: dict | None = None):
        self.home = home
        self.amqp_uri = amqp_uri
        self.env = {**os.environ, "AQ_HOME": str(home), "AQ_AMQP_URI": amqp_uri,
                    "AQ_SMTP_URL": f"smtp://127.0.0.1:{free_port()}", "AQ_MAILSINK": "1",
                    "AQ_RETRY_DELAYS": "0.2,0.5,1", "AQ_OUTBOX_POLL_SECONDS": "0.5",
                    # Task notices (digests, urgent red-warning tasks) are off unless a test turns them on: the
                    # cascade tests count exactly the warning and flag notices policy.md §6 names.
                    "AQ_NOTICE_TASKS": "off",
                    # An e-mail left in doubt by a SIGKILL (handed to the server, outcome not recorded) is sent
                    # again with the same Message-ID here, so the kill tests that compare statuses see "sent"; the
                    # default is at most once ("unconfirmed"), covered by tests/e2e/test_notification_kill.py.
                    "AQ_CHANNEL_EMAIL_DEDUPLICATES": "1",
                    "PYTHONUNBUFFERED": "1",
                    # Several clusters may run at once on one PostgreSQL (100 connections by default).
                    "AQ_DB_POOL_SIZE": "2", "AQ_DB_MAX_OVERFLOW": "3", **(extra_env or {})}
        if database_url:
            self.env["AQ_DATABASE_URL"] = database_url
        else:
            self.env.pop("AQ_DATABASE_URL", None)

    def aq(self, *args: str, check: bool = True, timeout: float = 600) -> subprocess.CompletedProcess:
        result = subprocess.run([sys.executable, "-m", "aq_cli.main", *args], env=self.env, cwd=REPO,
                                capture_output=True, text=True, timeout=timeout)
        if check and result.returncode != 0:
            raise AssertionError(f"aq {' '.join(args)} exited {result.returncode}\n"
                                 f"stdout:\n{result.stdout}\nstderr:\n{result.stderr}\n{self.logs_tail()}")
        return result

    def up(self, replicas: str = ""):
        self.aq("up", "--detach", *(["--replicas", replicas] if replicas else []), timeout=180)

    def down(self):
        self.aq("down", check=False, timeout=120)

    def pid(self, service: str) -> int | None:
        try:
            return int((self.home / "run" / f"{service}.pid").read_text())
        except (OSError, ValueError):
            return None

    def kill(self, service: str) -> None:
        os.kill(self.pid(service), signal.SIGKILL)

    def rpc(self, timeout: float = 60) -> RpcClient:
        return RpcClient(self.amqp_uri, timeout=timeout)

    def json(self, *args: str):
        return json.loads(self.aq(*args, "--json").stdout)

    def upload(self, path: Path, wait: bool = True) -> str:
        result = self.aq("grades", "upload", str(path), *(["--wait"] if wait else []))
        return result.stdout.strip().splitlines()[0]

    def import_sample_roster(self):
        roster = SAMPLE / "csv" / "roster"
        self.aq("roster", "import", *(str(roster / f) for f in ("staff.csv", "classes.csv", "students.csv")))

    def mailbox(self) -> list[Path]:
        return sorted((self.home / "mail").glob("*.eml"))

    def logs_tail(self, lines: int = 30) -> str:
        out = []
        for log in sorted((self.home / "logs").glob("*.log")):
            text = log.read_text(errors="replace").splitlines()[-lines:]
            out.append(f"--- {log.name}\n" + "\n".join(text))
        return "\n".join(out)


def sample_uploads() -> list[Path]:
    return sorted((SAMPLE / "csv" / "uploads").glob("*.csv"))


def wait_for(condition, timeout: float = 60, interval: float = 0.1, message: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {message}")
