"""Per-test PostgreSQL databases on the local server (trust auth, user postgres)."""
from __future__ import annotations

import os
import uuid
from contextlib import contextmanager

from sqlalchemy import create_engine, text

from shared import config
from shared.db import dispose_all

ADMIN_URL = "postgresql+psycopg2://postgres@127.0.0.1:5432/postgres"


def run_prefix() -> str:
    """This run's databases (every xdist worker's) start with this: AQ_TEST_RUN is set once per run
    (tests/conftest.py), so a session's end can drop whatever a worker left behind, and nothing of another run."""
    return f"aqt_{os.environ.get('AQ_TEST_RUN', 'local')}_"


USED = False          # whether this process handed out database names (tests/conftest.py cleans up after a run)


@contextmanager
def temporary_databases():
    global USED
    USED = True
    prefix = run_prefix() + uuid.uuid4().hex[:8]
    try:
        yield f"postgresql://postgres@127.0.0.1:5432/{prefix}_{{service}}"
    finally:
        dispose_all()
        drop_databases(prefix + "_")


def drop_databases(prefix: str) -> list[str]:
    """Drops every database whose name starts with ``prefix``; returns their names."""
    admin = create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            names = conn.execute(text("SELECT datname FROM pg_database WHERE starts_with(datname, :p)"),
                                 {"p": prefix}).scalars().all()
            for name in names:
                conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        return list(names)
    finally:
        admin.dispose()


def service_urls(template: str) -> dict[str, str]:
    return {s: template.replace("{service}", s) for s in config.SERVICES}
