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


def test_notice_texts_are_compressed_with_lz4_where_postgres_has_it(pg_url_template):
    """Cheaper than pglz for the notices' mostly Chinese text and HTML (migration 5b1e7c3d9a20)."""
    url = pg_url_template.replace("{service}", "notification")
    upgrade("notification", url)
    with engine_for("notification", url).connect() as conn:
        if not conn.exec_driver_sql("SELECT 'lz4' = ANY(enumvals) FROM pg_settings "
                                    "WHERE name = 'default_toast_compression'").scalar():
            pytest.skip("this PostgreSQL was built without lz4")
        compression = dict(conn.exec_driver_sql(
            "SELECT attname, attcompression FROM pg_attribute WHERE attrelid = 'notices'::regclass "
            "AND attname IN ('text', 'html', 'subject')").all())
    assert compression == {"text": "l", "html": "l", "subject": ""}
