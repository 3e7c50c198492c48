"""Per-test RabbitMQ virtual hosts, made with rabbitmqctl on the local broker."""
from __future__ import annotations

import subprocess
import uuid
from contextlib import contextmanager

import pytest

BROKER = "guest:guest@127.0.0.1:5672"


def _ctl(*args: str) -> None:
    subprocess.run(["rabbitmqctl", "-q", *args], check=True, capture_output=True, timeout=60)


@contextmanager
def temporary_vhost():
    name = "aq-test-" + uuid.uuid4().hex[:10]
    try:
        _ctl("add_vhost", name)
        _ctl("set_permissions", "-p", name, "guest", ".*", ".*", ".*")
    except (FileNotFoundError, subprocess.CalledProcessError) as exc:
        pytest.fail(f"cannot create a RabbitMQ vhost (is RabbitMQ running? `rabbitmq-server -detached`): {exc}")
    try:
        yield f"amqp://{BROKER}/{name}"
    finally:
        subprocess.run(["rabbitmqctl", "-q", "delete_vhost", name], capture_output=True, timeout=60)
