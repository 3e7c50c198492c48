"""Alembic, one history per service, run programmatically.

Each service keeps its migrations in services/<name>/migrations; env.py there is two lines that call
:func:`run_env` with the service's metadata. Several instances may start at once: on PostgreSQL an
advisory lock lets one migrate while the others wait; on SQLite BEGIN IMMEDIATE does the same.
"""
from __future__ import annotations

import importlib
from pathlib import Path

from alembic import command
from alembic.config import Config

import services
from shared.db import engine_for, is_postgres

_LOCK_KEY = 0x41510001


def lz4_available(bind) -> bool:
    """Whether ``bind`` is a PostgreSQL built with lz4 (14 and later, as the official images are): migrations that
    move a column's TOAST compression from pglz to lz4 change nothing elsewhere."""
    if bind.dialect.name != "postgresql":
        return False
    return bool(bind.exec_driver_sql(
        "SELECT 'lz4' = ANY(enumvals) FROM pg_settings WHERE name = 'default_toast_compression'").scalar())


def set_compression(op, table: str, columns: tuple[str, ...], method: str) -> None:
    """``ALTER COLUMN … SET COMPRESSION method`` (lz4 or DEFAULT) for a migration, where lz4 is available. Rows
    already stored keep their compression; new values take the column's."""
    if lz4_available(op.get_bind()):
        op.execute(f"ALTER TABLE {table} " + ", ".join(f"ALTER COLUMN {c} SET COMPRESSION {method}" for c in columns))


def migrations_dir(service: str) -> Path:
    return Path(services.__file__).parent / service / "migrations"


def alembic_config(service: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(migrations_dir(service)))
    return cfg


def upgrade(service: str, url: str | None = None) -> None:
    engine = engine_for(service, url)
    cfg = alembic_config(service)
    with engine.begin() as conn:
        if is_postgres(engine):
            conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({_LOCK_KEY})")
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")


def make_revision(service: str, message: str, url: str) -> None:
    """Autogenerate a revision by comparing the service's tables with a database at head (developers only)."""
    upgrade(service, url)
    engine = engine_for(service, url)
    cfg = alembic_config(service)
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.revision(cfg, message=message, autogenerate=True)


def run_env(metadata) -> None:
    """Body of every service's migrations/env.py."""
    from alembic import context
    connection = context.config.attributes["connection"]
    context.configure(connection=connection, target_metadata=metadata, render_as_batch=True,
                      compare_type=True)
    with context.begin_transaction():
        context.run_migrations()


def tables_module(service: str):
    return importlib.import_module(f"services.{service}.tables")
