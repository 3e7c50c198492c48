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

from tests.support import broker, postgres  # noqa: E402
from tests.support.broker import temporary_vhost  # noqa: E402
from tests.support.postgres import temporary_databases  # noqa: E402

_WORKER = _os.environ.get("PYTEST_XDIST_WORKER")
_workers_used_resources = False


def pytest_configure(config):
    if not _WORKER:
        # Names this run's vhosts and databases (tests/support/broker.py, postgres.py); xdist's workers, started
        # after this, inherit it.
        _os.environ["AQ_TEST_RUN"] = uuid.uuid4().hex[:8]


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node, error):
    """The controller of an xdist run: note whether a worker made vhosts or databases (or died before saying)."""
    global _workers_used_resources
    if error or getattr(node, "workeroutput", {}).get("aq_used_resources", True):
        _workers_used_resources = True


def pytest_sessionfinish(session):
    """No vhost or database outlives the run: each process waits for its background deletions and deletes what it
    made ahead; the process that started the run then sweeps everything named for this run (what a worker that
    died left behind)."""
    used = broker.POOL.made > 0 or postgres.USED
    broker.POOL.close()
    if _WORKER:
        session.config.workeroutput["aq_used_resources"] = used
        return
    if not (used or _workers_used_resources):
        return
    vhosts = broker.cleanup(broker.run_prefix())
    try:
        postgres.drop_databases(postgres.run_prefix())
        databases = []
    except Exception as exc:  # noqa: BLE001 (the run's outcome stands; say what is left)
        databases = [f"{postgres.run_prefix()}* ({exc})"]
    if vhosts or databases:
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        if reporter:
            reporter.write_line(f"left behind: vhosts {vhosts}, databases {databases}", red=True)


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
