"""Each service's Alembic history builds exactly the tables its code uses, on the real PostgreSQL and on SQLite."""
import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from shared import config
from shared.db import engine_for
from shared.migrations import lz4_available, tables_module, upgrade

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


@pytest.mark.parametrize("service, table, compressed, plain", [
    # the notices' mostly Chinese text and HTML (migration 5b1e7c3d9a20)
    ("notification", "notices", ("text", "html"), "subject"),
    # the records_stored events an upload writes to its outbox, ~280 kB each (migration c3a9f4e1b702)
    ("grades", "outbox", ("body",), "type"),
])
def test_large_texts_are_compressed_with_lz4_where_postgres_has_it(service, table, compressed, plain,
                                                                    pg_url_template):
    """lz4 costs PostgreSQL less CPU than pglz, the default, for the same texts (benchmarks/README.md)."""
    url = pg_url_template.replace("{service}", service)
    upgrade(service, url)
    with engine_for(service, url).connect() as conn:
        if not lz4_available(conn):
            pytest.skip("this PostgreSQL was built without lz4")
        compression = dict(conn.exec_driver_sql(
            "SELECT attname, attcompression FROM pg_attribute WHERE attrelid = %(table)s::regclass "
            "AND attname = ANY(%(columns)s)", {"table": table, "columns": [*compressed, plain]}).all())
    assert compression == {**{c: "l" for c in compressed}, plain: ""}
