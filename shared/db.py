"""One SQLAlchemy engine per service database, SQLite or PostgreSQL.

SQLite: WAL, a generous busy timeout, and BEGIN IMMEDIATE so a transaction takes the write lock when it
starts. Handlers read, decide and write; taking the lock late would let two workers decide on the same
stale state (SQLite would then fail one of them with "database is locked" at commit time).
PostgreSQL: the database is created if missing; handlers that must not race lock their rows explicitly.
"""
from __future__ import annotations

import time

from sqlalchemy import create_engine, event, exc, text
from sqlalchemy.engine import Engine, make_url

from shared import config

_engines: dict[str, Engine] = {}


def normalise_url(url: str) -> str:
    """A bare postgresql:// URL means psycopg2 here (SQLAlchemy 2.1 would pick psycopg 3, which psycogreen
    cannot make cooperative under eventlet)."""
    parsed = make_url(url)
    if parsed.drivername == "postgresql":
        return parsed.set(drivername="postgresql+psycopg2").render_as_string(hide_password=False)
    return url


def engine_for(service: str, url: str | None = None) -> Engine:
    url = normalise_url(url or config.database_url(service))
    if url not in _engines:
        _engines[url] = _create(url)
    return _engines[url]


def _create(url: str) -> Engine:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        # One connection per process: a second green worker then waits on the pool (cooperatively)
        # instead of inside sqlite's C busy-wait, which would block the whole eventlet hub -- including
        # the worker holding the lock it waits for.
        engine = create_engine(url, connect_args={"timeout": 60, "check_same_thread": False},
                               pool_size=1, max_overflow=0, pool_timeout=300)
        _configure_sqlite(engine)
        return engine
    ensure_postgres_database(url)
    _make_psycopg_cooperative()
    # values_plus_batch: executemany of UPDATE/DELETE goes in pages, not one round trip per row.
    engine = create_engine(url, pool_size=config.env_int("AQ_DB_POOL_SIZE", 5),
                           max_overflow=config.env_int("AQ_DB_MAX_OVERFLOW", 5),
                           executemany_mode="values_plus_batch", **_statement_timeout())
    _ping_when_idle(engine)
    return engine


def autocommit_engine(engine: Engine) -> Engine:
    """A second, small pool to the same PostgreSQL database, kept in autocommit, for single-statement writes made very
    often (notification's per-notice checkpoints): no BEGIN and COMMIT round trips, and no switching a pooled
    connection's isolation level back and forth (which cost more than the statement itself; benchmarks/README.md).
    AQ_DB_AUTOCOMMIT_POOL_SIZE connections (default 2), no overflow: a statement takes a millisecond, so waiting for
    a connection is cheaper than opening one per burst. Count them in the connection budget (docs/operations.md)."""
    key = "autocommit:" + engine.url.render_as_string(hide_password=False)
    if key not in _engines:
        size = max(1, config.env_int("AQ_DB_AUTOCOMMIT_POOL_SIZE", 2))
        _engines[key] = create_engine(engine.url, isolation_level="AUTOCOMMIT", pool_size=size, max_overflow=0,
                                      **_statement_timeout())
        _ping_when_idle(_engines[key])
    return _engines[key]


PING_AFTER_IDLE_SECONDS = 1.0


def _ping_when_idle(engine: Engine) -> None:
    """pool_pre_ping, but only for a connection that sat in the pool a while: a ping is a round trip per checkout,
    and the notification service checks a connection out several times per notice (benchmarks/README.md). A
    connection given back less than a second ago is used as it is; a dead one found by the ping is replaced."""

    @event.listens_for(engine, "checkin")
    def _checked_in(_dbapi_connection, record):
        record.info["aq_idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _checkout(dbapi_connection, record, _proxy):
        idle_since = record.info.get("aq_idle_since")
        if idle_since is not None and time.monotonic() - idle_since < PING_AFTER_IDLE_SECONDS:
            return
        try:
            alive = engine.dialect.do_ping(dbapi_connection)
        except engine.dialect.loaded_dbapi.Error as error:
            if engine.dialect.is_disconnect(error, dbapi_connection, None):
                raise exc.DisconnectionError(str(error)) from error     # the pool connects afresh and retries
            raise
        if not alive:
            raise exc.DisconnectionError("the database connection did not answer a ping")


def _statement_timeout() -> dict:
    """AQ_DB_STATEMENT_TIMEOUT_MS: PostgreSQL cancels any statement running longer (0 or unset: no limit)."""
    timeout = config.env_int("AQ_DB_STATEMENT_TIMEOUT_MS", 0)
    return {"connect_args": {"options": f"-c statement_timeout={timeout}"}} if timeout else {}


def _make_psycopg_cooperative() -> None:
    """Under eventlet (nameko), psycopg2 must wait through eventlet, or a worker waiting for a row lock
    blocks the hub and the worker holding the lock can never finish."""
    import sys
    if "eventlet" in sys.modules:
        import eventlet.patcher
        if eventlet.patcher.is_monkey_patched("socket"):
            from psycogreen.eventlet import patch_psycopg
            patch_psycopg()


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        dbapi_connection.isolation_level = None   # we issue BEGIN ourselves
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection):
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def ensure_postgres_database(url: str) -> None:
    parsed = make_url(url)
    name = parsed.database
    admin = create_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            exists = conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}).scalar()
            if not exists:
                try:
                    conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
                except Exception:   # another instance created it first
                    if not conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}).scalar():
                        raise
    finally:
        admin.dispose()


def is_postgres(engine: Engine) -> bool:
    return engine.dialect.name == "postgresql"


def dispose_all() -> None:
    for engine in _engines.values():
        engine.dispose()
    _engines.clear()


def lock_keys(conn, keys) -> None:
    """Serialise work on the given keys across workers and instances: a PostgreSQL transaction-scoped
    advisory lock per key, taken in sorted order so two workers never deadlock. On SQLite BEGIN IMMEDIATE
    has already serialised the whole transaction."""
    if conn.dialect.name != "postgresql":
        return
    ordered = sorted(set(keys))
    if ordered:   # one round trip; the subquery's ORDER BY makes the locks come in key order
        conn.exec_driver_sql("SELECT count(pg_advisory_xact_lock(hashtext(k))) "
                             "FROM (SELECT unnest(%(keys)s::text[]) AS k ORDER BY 1) AS wanted", {"keys": ordered})
