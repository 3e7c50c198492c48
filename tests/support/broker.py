"""Per-test RabbitMQ virtual hosts, made with rabbitmqctl on the local broker.

Each rabbitmqctl call starts an Erlang VM (~0.5 s): a vhost costs three (add, permissions, delete). They run in the
background: the next vhost is made while the current test runs, and a used one is deleted while the next test
runs. Names carry the run (AQ_TEST_RUN, set once by the pytest process that starts the run and inherited by its
xdist workers) and the worker, so no two workers or runs share one, and `cleanup(...)` at the end of a session
finds whatever a worker left behind."""
from __future__ import annotations

import os
import subprocess
import uuid
from collections import deque
from contextlib import contextmanager

import pytest

BROKER = "guest:guest@127.0.0.1:5672"
PREFIX = "aq-test-"
_CREATE = 'rabbitmqctl -q add_vhost "$1" && rabbitmqctl -q set_permissions -p "$1" guest ".*" ".*" ".*"'


def run_prefix() -> str:
    """This run's vhosts (every worker's) start with this."""
    return f"{PREFIX}{os.environ.get('AQ_TEST_RUN', 'local')}-"


def _ctl(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["rabbitmqctl", "-q", *args], capture_output=True, text=True, timeout=120)


class VhostPool:
    """This process's vhosts: one made ahead of time, used ones deleted in the background."""

    def __init__(self) -> None:
        self.made = 0
        self.ahead: deque[tuple[str, subprocess.Popen]] = deque()
        self.deleting: list[subprocess.Popen] = []

    def prefix(self) -> str:
        return f"{run_prefix()}{os.environ.get('PYTEST_XDIST_WORKER', 'main')}-"

    def _make_one(self) -> None:
        self.made += 1
        name = f"{self.prefix()}{self.made}-{uuid.uuid4().hex[:6]}"
        try:
            process = subprocess.Popen(["sh", "-c", _CREATE, "sh", name], stdout=subprocess.PIPE,
                                       stderr=subprocess.STDOUT, text=True)
        except OSError as exc:
            pytest.fail(f"cannot run rabbitmqctl to make a vhost: {exc}")
        self.ahead.append((name, process))

    def take(self) -> str:
        if not self.ahead:
            self._make_one()
        name, process = self.ahead.popleft()
        self._make_one()                       # the next test's, made while this one runs
        output, _ = process.communicate(timeout=120)
        if process.returncode != 0:
            pytest.fail(f"cannot create a RabbitMQ vhost (is RabbitMQ running? `rabbitmq-server -detached`): "
                        f"rabbitmqctl exited {process.returncode}: {output}")
        return name

    def give_back(self, name: str) -> None:
        self.deleting = [p for p in self.deleting if p.poll() is None]
        self.deleting.append(subprocess.Popen(["rabbitmqctl", "-q", "delete_vhost", name],
                                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))

    def close(self) -> None:
        """Deletes the vhost made ahead and waits for every background deletion."""
        while self.ahead:
            name, process = self.ahead.popleft()
            process.communicate(timeout=120)
            self.give_back(name)
        for process in self.deleting:
            process.wait(timeout=120)
        self.deleting.clear()


def cleanup(prefix: str) -> list[str]:
    """Deletes every vhost whose name starts with ``prefix``; returns those still there after."""
    listed = _ctl("list_vhosts", "name")
    if listed.returncode != 0:
        return [f"{prefix}* (rabbitmqctl list_vhosts: {listed.stderr.strip()})"]
    names = [n.strip() for n in listed.stdout.splitlines() if n.strip().startswith(prefix)]
    return [name for name in names if _ctl("delete_vhost", name).returncode != 0]


POOL = VhostPool()


@contextmanager
def temporary_vhost():
    name = POOL.take()
    try:
        yield f"amqp://{BROKER}/{name}"
    finally:
        POOL.give_back(name)
