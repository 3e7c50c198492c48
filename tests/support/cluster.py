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

import yaml

from services.warnings.domain.policy import DEFAULT_POLICY_PATH
from shared.rpc_client import RpcClient

REPO = Path(__file__).resolve().parents[2]
SAMPLE = REPO / "demo" / "sample_college"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def policy_without_review(directory: Path) -> Path:
    """The default warning policy with review before release switched off: warnings are announced at once."""
    policy = yaml.safe_load(DEFAULT_POLICY_PATH.read_text(encoding="utf-8"))
    policy["review"] = {"required": False}
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "policy-without-review.yml"
    path.write_text(yaml.safe_dump(policy, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


class Cluster:
    """``review``: the warning policy's review before release (the policy's default: on). Off unless a test asks
    for it: most tests are about what follows an announced warning; those that keep it on confirm the computed
    lists like academic-affairs staff would (``confirm_pending``)."""

    def __init__(self, home: Path, amqp_uri: str, database_url: str | None, extra_env: dict | None = None,
                 review: bool = False):
        self.home = home
        self.review = review
        self.amqp_uri = amqp_uri
        self.env = {**os.environ, "AQ_HOME": str(home), "AQ_AMQP_URI": amqp_uri,
                    "AQ_SMTP_URL": f"smtp://127.0.0.1:{free_port()}", "AQ_MAILSINK": "1",
                    # `aq up` starts the HTTP gateway too; several clusters may run at once.
                    "AQ_GATEWAY_PORT": str(free_port()),
                    "AQ_RETRY_DELAYS": "0.2,0.5,1", "AQ_OUTBOX_POLL_SECONDS": "0.5",
                    # Task notices (digests, urgent red-warning tasks) are off unless a test turns them on: the
                    # cascade tests count exactly the warning and flag notices policy.md §6 names.
                    "AQ_NOTICE_TASKS": "off",
                    # Counselor lists (a timer issues them once a semester is quiet) are off unless a test turns
                    # them on, for the same reason: tests/e2e/test_counselor_lists_and_history.py does.
                    "AQ_COUNSELOR_LISTS": "off",
                    # An e-mail left in doubt by a SIGKILL (handed to the server, outcome not recorded) is sent
                    # again with the same Message-ID here, so the kill tests that compare statuses see "sent"; the
                    # default is at most once ("unconfirmed"), covered by tests/e2e/test_notification_kill.py.
                    "AQ_CHANNEL_EMAIL_DEDUPLICATES": "1",
                    "PYTHONUNBUFFERED": "1",
                    # Several clusters may run at once on one PostgreSQL (100 connections by default).
                    "AQ_DB_POOL_SIZE": "2", "AQ_DB_MAX_OVERFLOW": "3", **(extra_env or {})}
        if not review and "AQ_WARNING_POLICY" not in (extra_env or {}):
            self.env["AQ_WARNING_POLICY"] = str(policy_without_review(home))
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

    @property
    def gateway_url(self) -> str:
        return f"http://127.0.0.1:{self.env['AQ_GATEWAY_PORT']}"

    def rpc(self, timeout: float = 60) -> RpcClient:
        return RpcClient(self.amqp_uri, timeout=timeout)

    def json(self, *args: str):
        return json.loads(self.aq(*args, "--json").stdout)

    def upload(self, path: Path, wait: bool = True) -> str:
        result = self.aq("grades", "upload", str(path), *(["--wait"] if wait else []))
        return result.stdout.strip().splitlines()[0]

    def confirm_pending(self, by: str = "jwc01") -> str:
        """Academic affairs confirm every computed warning list that waits; returns once the cascade settled."""
        return self.aq("warnings", "confirm", "--all", "--by", by, "--wait").stdout

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
