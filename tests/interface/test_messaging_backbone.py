"""The messaging bones against the real RabbitMQ: a failing message is retried, then parked, listed and
replayed; a redelivered event has its effect once; announced events leave through the outbox."""
import time

import pytest
from kombu import Connection
from nameko.containers import ServiceContainer
from sqlalchemy import Column, MetaData, String, Table, select

from contracts.envelope import make_envelope
from shared.db import engine_for
from shared.messaging.consumer import event_handler
from shared.messaging.parking import list_parked, replay_parked
from shared.messaging.store import Store
from shared.messaging.tables import add_messaging_tables
from shared.messaging.topology import EVENTS_EXCHANGE, declare_topology
from tests.support.cluster import wait_for

pytestmark = pytest.mark.real

metadata = MetaData()
effects = Table("effects", metadata, Column("event_id", String(64), primary_key=True))
MESSAGING = add_messaging_tables(metadata)
FAILURES = {"remaining": 0}


class FlakyWarnings:
    """Stands in for the warnings service: same name and handler, so the real topology applies."""
    name = "warnings"
    store = Store(MESSAGING)

    @event_handler("grades.records_stored")
    def on_records_stored(self, event):
        with self.store.handling(event) as uow:
            if FAILURES["remaining"] != 0:
                FAILURES["remaining"] -= 1
                raise RuntimeError("database on fire")
            uow.conn.execute(effects.insert().values(event_id=event["id"]))
            uow.announce("warnings.changed", {"changes": []})


def records_stored(upload_id="U-1"):
    return make_envelope("grades.records_stored", 1, "grades", {"upload_id": upload_id, "batch": 1, "records": []},
                         correlation_id=upload_id, causation_id=upload_id)


def publish(uri, body, routing_key="grades.records_stored.v1"):
    with Connection(uri) as conn:
        conn.Producer().publish(body, exchange=EVENTS_EXCHANGE, routing_key=routing_key, serializer="json",
                                delivery_mode=2)


def count_effects(url):
    with engine_for("warnings", url).connect() as conn:
        return len(conn.execute(select(effects)).all())


def outbox_rows(url):
    with engine_for("warnings", url).connect() as conn:
        return conn.execute(select(MESSAGING[0])).mappings().all()


@pytest.fixture
def flaky_service(vhost_uri, sqlite_url, monkeypatch):
    metadata.create_all(engine_for("warnings", sqlite_url))
    declare_topology(vhost_uri)
    config = {"AMQP_URI": vhost_uri, "DATABASE_URL": sqlite_url, "RETRY_DELAYS": "0.1,0.2",
              "OUTBOX_POLL_SECONDS": 0.2}
    monkeypatch.setenv("AQ_MIGRATE_ON_START", "0")
    container = ServiceContainer(FlakyWarnings, config)
    container.start()
    yield vhost_uri, sqlite_url
    container.stop()
    FAILURES["remaining"] = 0


def test_a_failing_message_is_retried_until_it_succeeds(flaky_service):
    uri, url = flaky_service
    FAILURES["remaining"] = 2          # fails twice, the third delivery succeeds
    publish(uri, records_stored())
    wait_for(lambda: count_effects(url) == 1, timeout=15, message="the effect after two retries")
    assert list_parked(uri) == []


def test_a_message_failing_every_retry_is_parked_listed_and_replayed(flaky_service):
    uri, url = flaky_service
    FAILURES["remaining"] = -1         # fails for ever
    event = records_stored("U-parked")
    publish(uri, event)
    parked = wait_for(lambda: list_parked(uri), timeout=15, message="the message to be parked")
    assert parked[0]["event_id"] == event["id"]
    assert parked[0]["queue"] == "aq.warnings.on_records_stored"
    assert parked[0]["attempts"] == 3 and "database on fire" in parked[0]["error"]
    assert list_parked(uri) == parked   # listing is not consuming
    assert count_effects(url) == 0

    FAILURES["remaining"] = 0          # the operator fixed the cause
    assert [p["event_id"] for p in replay_parked(uri)] == [event["id"]]
    wait_for(lambda: count_effects(url) == 1, timeout=15, message="the replayed message's effect")
    assert list_parked(uri) == []


def test_a_redelivered_event_has_its_effect_once(flaky_service):
    uri, url = flaky_service
    event = records_stored()
    publish(uri, event)
    publish(uri, event)
    wait_for(lambda: count_effects(url) == 1, timeout=10, message="the first effect")
    time.sleep(0.5)
    assert count_effects(url) == 1
    assert len(outbox_rows(url)) == 1


def test_announced_events_leave_through_the_outbox(flaky_service, vhost_uri):
    uri, url = flaky_service
    from kombu import Queue
    with Connection(uri) as conn:
        listener = Queue("test-listener", exchange=EVENTS_EXCHANGE, routing_key="warnings.changed.v1")
        listener(conn.channel()).declare()
        event = records_stored("U-out")
        publish(uri, event)
        wait_for(lambda: all(r["published_at"] for r in outbox_rows(url)) and outbox_rows(url), timeout=10,
                 message="the outbox row to be published")
        message = wait_for(lambda: conn.SimpleQueue(listener).get(block=True, timeout=5), timeout=10)
        body = message.payload
        assert body["type"] == "warnings.changed" and body["correlation_id"] == "U-out"
        assert body["causation_id"] == event["id"]
        assert message.properties["delivery_mode"] == 2


def test_an_invalid_message_is_parked_at_once(flaky_service):
    uri, url = flaky_service
    bad = records_stored()
    del bad["data"]["records"]
    publish(uri, bad)
    parked = wait_for(lambda: list_parked(uri), timeout=10, message="the invalid message to be parked")
    assert parked[0]["attempts"] == 0 and "does not match the contract" in parked[0]["error"]
    assert count_effects(url) == 0


def _scrape(port):
    import urllib.request
    return urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5).read().decode()


def _handled(text):
    for line in text.splitlines():
        if line.startswith('aq_messages_handled_total{') and 'handler="on_records_stored"' in line:
            return float(line.rsplit(" ", 1)[1])
    return 0.0


def test_metrics_count_handled_messages(vhost_uri, sqlite_url, tmp_path, monkeypatch):
    monkeypatch.setenv("AQ_HOME", str(tmp_path))
    monkeypatch.setenv("AQ_METRICS_PORT", "0")
    from shared.messaging import metrics
    monkeypatch.setattr(metrics, "_started", False)
    metadata.create_all(engine_for("warnings", sqlite_url))
    declare_topology(vhost_uri)
    monkeypatch.setenv("AQ_MIGRATE_ON_START", "0")
    container = ServiceContainer(FlakyWarnings, {"AMQP_URI": vhost_uri, "DATABASE_URL": sqlite_url,
                                                 "RETRY_DELAYS": "0.1", "OUTBOX_POLL_SECONDS": 0.2})
    container.start()
    try:
        port = int(wait_for(lambda: list((tmp_path / "run").glob("metrics-warnings-*.port")), timeout=10)[0].read_text())
        before = _handled(_scrape(port))
        publish(vhost_uri, records_stored("U-metrics"))
        wait_for(lambda: count_effects(sqlite_url) == 1, timeout=10, message="the effect")
        text = wait_for(lambda: (t := _scrape(port)) and _handled(t) == before + 1 and t, timeout=10,
                        message="the handled counter to rise by one")
        assert "aq_handler_seconds_bucket" in text and "aq_events_published_total" in text
    finally:
        container.stop()
