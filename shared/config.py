"""Configuration from the environment, with defaults that run on one machine.

AQ_AMQP_URI      the broker (RabbitMQ is always real)
AQ_HOME          data directory: SQLite files, logs, pid files, the mail sink's mailbox
AQ_DATABASE_URL  optional; a URL with ``{service}`` in it gives each service its own database
                 (e.g. postgresql://postgres@127.0.0.1/aq_{service}); unset means SQLite under AQ_HOME
"""
from __future__ import annotations

import os
from pathlib import Path

DEFAULT_AMQP_URI = "amqp://guest:guest@127.0.0.1:5672/"
DEFAULT_SMTP_URL = "smtp://127.0.0.1:8025"

SERVICES = ("roster", "grades", "warnings", "notification", "advising", "assessment")


def amqp_uri() -> str:
    return os.environ.get("AQ_AMQP_URI", DEFAULT_AMQP_URI)


def home() -> Path:
    return Path(os.environ.get("AQ_HOME", "./var")).resolve()


def database_url(service: str) -> str:
    template = os.environ.get("AQ_DATABASE_URL", "").strip()
    if not template:
        db_dir = home() / "db"
        db_dir.mkdir(parents=True, exist_ok=True)
        return f"sqlite:///{db_dir / service}.sqlite"
    return template.replace("{service}", service)


def smtp_url() -> str:
    return os.environ.get("AQ_SMTP_URL", DEFAULT_SMTP_URL)


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name, "")
    return int(value) if value.strip() else default
