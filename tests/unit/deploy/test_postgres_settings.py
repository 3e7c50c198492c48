"""The PostgreSQL connection settings docs/operations.md and deploy/k8s rely on, against the real PostgreSQL:
AQ_DB_STATEMENT_TIMEOUT_MS cancels a long statement, and an instance opens at most AQ_DB_POOL_SIZE +
AQ_DB_MAX_OVERFLOW connections."""

import pytest
from sqlalchemy import exc, text

from shared.db import engine_for

pytestmark = pytest.mark.real


def test_the_statement_timeout_cancels_a_long_statement(monkeypatch, pg_url_template):
    monkeypatch.setenv("AQ_DB_STATEMENT_TIMEOUT_MS", "300")
    engine = engine_for("roster", pg_url_template.replace("{service}", "roster"))
    with engine.connect() as conn:
        assert conn.execute(text("SHOW statement_timeout")).scalar() == "300ms"
        conn.execute(text("SELECT pg_sleep(0.05)"))                      # a short statement runs
        with pytest.raises(exc.OperationalError, match="statement timeout"):
            conn.execute(text("SELECT pg_sleep(3)"))


def test_without_the_setting_there_is_no_statement_timeout(monkeypatch, pg_url_template):
    monkeypatch.delenv("AQ_DB_STATEMENT_TIMEOUT_MS", raising=False)
    engine = engine_for("grades", pg_url_template.replace("{service}", "grades"))
    with engine.connect() as conn:
        assert conn.execute(text("SHOW statement_timeout")).scalar() == "0"


def test_an_instance_opens_at_most_pool_size_plus_overflow_connections(monkeypatch, pg_url_template):
    monkeypatch.setenv("AQ_DB_POOL_SIZE", "2")
    monkeypatch.setenv("AQ_DB_MAX_OVERFLOW", "1")
    url = pg_url_template.replace("{service}", "warnings")
    engine = engine_for("warnings", url)
    engine.pool._timeout = 0.5           # fail fast instead of waiting 30 s for a free connection
    held = [engine.connect() for _ in range(3)]
    try:
        with pytest.raises(exc.TimeoutError):
            engine.connect()
        database = url.rsplit("/", 1)[1]
        with engine_for("roster", pg_url_template.replace("{service}", "roster")).connect() as other:
            count = other.execute(text("SELECT count(*) FROM pg_stat_activity WHERE datname = :d"),
                                  {"d": database}).scalar()
        assert count == 3
    finally:
        for conn in held:
            conn.close()
