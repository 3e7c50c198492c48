"""Per-test PostgreSQL databases on the local server (trust auth, user postgres)."""
from __future__ import annotations

import uuid
from contextlib import contextmanager

from sqlalchemy import create_engine, text

from shared import config
from shared.db import dispose_all

ADMIN_URL = "postgresql+psycopg2://postgres@127.0.0.1:5432/postgres"


@contextmanager
def temporary_databases():
    prefix = "aqt_" + uuid.uuid4().hex[:8]
    try:
        yield f"postgresql://postgres@127.0.0.1:5432/{prefix}_{{service}}"
    finally:
        dispose_all()
        admin = create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            names = conn.execute(text("SELECT datname FROM pg_database WHERE datname LIKE :p"),
                                 {"p": prefix + "_%"}).scalars().all()
            for name in names:
                conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


def service_urls(template: str) -> dict[str, str]:
    return {s: template.replace("{service}", s) for s in config.SERVICES}
