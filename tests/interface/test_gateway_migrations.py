"""The gateway's Alembic history builds exactly the tables its code uses, on the real PostgreSQL and on SQLite
(test_migrations.py checks the six services the same way)."""
import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from services.gateway.tables import metadata
from shared.db import engine_for
from shared.migrations import upgrade

pytestmark = pytest.mark.real


def _diff(url):
    upgrade("gateway", url)
    upgrade("gateway", url)      # a second start finds nothing to do
    with engine_for("gateway", url).connect() as conn:
        return compare_metadata(MigrationContext.configure(conn), metadata)


def test_gateway_migrations_match_the_tables_on_postgres(pg_url_template):
    assert _diff(pg_url_template.replace("{service}", "gateway")) == []


def test_gateway_migrations_match_the_tables_on_sqlite(tmp_path):
    assert _diff(f"sqlite:///{tmp_path / 'gateway'}.sqlite") == []
