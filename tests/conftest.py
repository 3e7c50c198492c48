# nameko's pytest plugin no longer monkey-patches eventlet; in-process nameko containers need it first.
import eventlet

from tests.support.xdist_eventlet import keep_execnet_on_real_threads

keep_execnet_on_real_threads()    # a no-op unless this is a pytest-xdist worker (`make test` runs two)
eventlet.monkey_patch()

import os as _os  # noqa: E402

# Producers check every record of every event they announce while tests run (by default they check a
# sample; consumers always check everything).
_os.environ.setdefault("AQ_VALIDATE_OUTGOING", "all")

import uuid  # noqa: E402

import pytest  # noqa: E402

from tests.support.broker import temporary_vhost  # noqa: E402
from tests.support.postgres import temporary_databases  # noqa: E402


@pytest.fixture
def vhost_uri():
    """A RabbitMQ virtual host of this test's own, deleted afterwards (real broker)."""
    with temporary_vhost() as uri:
        yield uri


@pytest.fixture
def pg_url_template():
    """A PostgreSQL URL template with {service}; the test's databases are dropped afterwards."""
    with temporary_databases() as template:
        yield template


@pytest.fixture
def sqlite_url(tmp_path):
    return f"sqlite:///{tmp_path / ('t-' + uuid.uuid4().hex[:6])}.sqlite"
