"""Each service's Alembic history builds exactly the tables its code uses, on the real PostgreSQL and on SQLite."""
import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from shared import config
from shared.db import engine_for
from shared.migrations import tables_module, upgrade

pytestmark = pytest.mark.real


@pytest.mark.parametrize("service", config.SERVICES)
def test_migrations_match_the_tables_on_postgres(service, pg_url_template):
    url = pg_url_template.replace("{service}", service)
    upgrade(service, url)
    upgrade(service, url)     # a second start finds nothing to do
    with engine_for(service, url).connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), tables_module(service).metadata)
    assert diff == [], f"{service}: tables differ from migrations; add a revision: {diff}"


@pytest.mark.parametrize("service", config.SERVICES)
def test_migrations_match_the_tables_on_sqlite(service, tmp_path):
    url = f"sqlite:///{tmp_path / service}.sqlite"
    upgrade(service, url)
    with engine_for(service, url).connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), tables_module(service).metadata)
    assert diff == [], f"{service}: tables differ from migrations; add a revision: {diff}"
