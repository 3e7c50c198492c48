"""AQ_QUEUE_TYPE=quorum against the real RabbitMQ (each test in its own vhost): the topology really is quorum
queues, the retry path (per-message TTL, dead-lettered back) still works on them, a nameko service whose
consumers declare the same queues starts and retries and parks through them, the broker definitions that
deploy/rabbitmq/ loads at broker start match what the services declare, and a service given several broker
URIs (`amqp://a;amqp://b`) reaches the one that answers."""
import json
import os
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import eventlet
import pytest
from kombu import Connection
from nameko.containers import ServiceContainer
from sqlalchemy import Column, MetaData, String, Table, select

from contracts.envelope import make_envelope
from contracts.registry import queue_name
from shared.db import engine_for
from shared.messaging.consumer import event_handler
from shared.messaging.parking import list_parked, replay_parked
from shared.messaging.store import Store
from shared.messaging.tables import add_messaging_tables
from shared.messaging.topology import (
    EVENTS_EXCHANGE,
    PARKED_QUEUE,
    TopologyMismatch,
    all_queues,
    configured_queue_type,
    declare_topology,
    retry_queue_name,
)
from tests.support.cluster import wait_for

pytestmark = pytest.mark.real

REPO = Path(__file__).resolve().parents[2]
HANDLER_QUEUE = queue_name("warnings", "on_records_stored")

metadata = MetaData()
effects = Table("quorum_effects", metadata, Column("event_id", String(64), primary_key=True))
MESSAGING = add_messaging_tables(metadata)
FAILURES = {"remaining": 0}


class QuorumWarnings:
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


def vhost_of(uri: str) -> str:
    return uri.rsplit("/", 1)[1]


def broker_queues(uri: str) -> dict[str, dict]:
    """What the broker itself says about the vhost's queues: name -> {type, arguments}."""
    out = subprocess.run(["rabbitmqctl", "-q", "list_queues", "-p", vhost_of(uri), "name", "type", "arguments",
                          "durable", "auto_delete", "messages", "consumers", "--formatter", "json"],
                         check=True, capture_output=True, text=True, timeout=60).stdout
    return {q["name"]: q for q in json.loads(out)}


def arguments_of(queue: dict) -> dict:
    # rabbitmqctl's JSON gives arguments as [[key, AMQP type, value], ...]
    return {key: value for key, _type, value in queue["arguments"]}


def records_stored(upload_id="U-q"):
    return make_envelope("grades.records_stored", 1, "grades", {"upload_id": upload_id, "batch": 1, "records": []},
                         correlation_id=upload_id, causation_id=upload_id)


def publish(uri, body, routing_key="grades.records_stored.v1"):
    with Connection(uri) as conn:
        conn.Producer().publish(body, exchange=EVENTS_EXCHANGE, routing_key=routing_key, serializer="json",
                                delivery_mode=2)


def count_effects(url):
    with engine_for("warnings", url).connect() as conn:
        return len(conn.execute(select(effects)).all())


def closed_port() -> int:
    """A local port nothing listens on (a broker node that is down)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def quorum(monkeypatch):
    monkeypatch.setenv("AQ_QUEUE_TYPE", "quorum")
    monkeypatch.setenv("AQ_MIGRATE_ON_START", "0")


@pytest.fixture
def run_service(sqlite_url):
    containers = []

    def start(amqp_uri):
        metadata.create_all(engine_for("warnings", sqlite_url))
        container = ServiceContainer(QuorumWarnings, {"AMQP_URI": amqp_uri, "DATABASE_URL": sqlite_url,
                                                       "RETRY_DELAYS": "0.1,0.2", "OUTBOX_POLL_SECONDS": 0.2})
        containers.append(container)
        container.start()
        return container

    yield start, sqlite_url
    for container in containers:
        try:
            with eventlet.Timeout(20):
                container.stop()
        except BaseException:   # a container that failed to start may not stop cleanly
            container.kill()
    FAILURES["remaining"] = 0


def test_the_queue_type_is_classic_unless_configured(monkeypatch):
    monkeypatch.delenv("AQ_QUEUE_TYPE", raising=False)
    assert configured_queue_type() == "classic"
    monkeypatch.setenv("AQ_QUEUE_TYPE", " Quorum ")
    assert configured_queue_type() == "quorum"
    monkeypatch.setenv("AQ_QUEUE_TYPE", "stream")
    with pytest.raises(ValueError, match="classic, quorum"):
        configured_queue_type()


def test_configured_quorum_declares_every_queue_as_a_quorum_queue(quorum, vhost_uri):
    declare_topology(vhost_uri)
    queues = broker_queues(vhost_uri)
    expected = {q.name for q in all_queues()}
    assert PARKED_QUEUE in expected and HANDLER_QUEUE in expected and HANDLER_QUEUE + ".retry" in expected
    assert set(queues) == expected
    for name, queue in queues.items():
        assert queue["type"] == "quorum", name
        assert queue["durable"] is True and queue["auto_delete"] is False, name
        args = arguments_of(queue)
        assert args["x-queue-type"] == "quorum", name
        if name.endswith(".retry"):
            assert args["x-dead-letter-exchange"] == ""
            assert args["x-dead-letter-routing-key"] == name.removesuffix(".retry")
            assert args["x-dead-letter-strategy"] == "at-least-once"


def test_default_stays_classic_and_a_type_change_is_refused_with_a_hint(monkeypatch, vhost_uri):
    monkeypatch.delenv("AQ_QUEUE_TYPE", raising=False)
    declare_topology(vhost_uri)
    queues = broker_queues(vhost_uri)
    assert {q["type"] for q in queues.values()} == {"classic"}
    assert "x-queue-type" not in arguments_of(queues[HANDLER_QUEUE])   # as declared before the setting existed
    declare_topology(vhost_uri)                                        # declaring again is a no-op
    with pytest.raises(TopologyMismatch, match="Changing the queue type"):
        declare_topology(vhost_uri, queue_type="quorum")


def test_a_message_on_a_quorum_retry_queue_expires_back_to_its_handler_queue(quorum, vhost_uri):
    declare_topology(vhost_uri)
    retry = retry_queue_name("warnings", "on_records_stored")
    event = records_stored()
    with Connection(vhost_uri) as conn:
        producer = conn.Producer()
        started = time.monotonic()
        producer.publish(event, exchange="", routing_key=retry, serializer="json", delivery_mode=2,
                         expiration=0.3)
        channel = conn.default_channel
        assert channel.basic_get(HANDLER_QUEUE, no_ack=True) is None    # not before its TTL
        message = wait_for(lambda: channel.basic_get(HANDLER_QUEUE, no_ack=True), timeout=10,
                           message="the expired message back on the handler's queue")
        waited = time.monotonic() - started
    assert json.loads(message.body)["id"] == event["id"]
    death = message.headers["x-death"][0]
    assert death["queue"] == retry and death["reason"] == "expired"
    assert 0.25 <= waited < 5


def test_a_service_configured_for_quorum_starts_retries_and_parks_through_quorum_queues(quorum, vhost_uri,
                                                                                        run_service):
    start, url = run_service
    declare_topology(vhost_uri)          # what every service does at start; the consumer declares it again
    start(vhost_uri)
    FAILURES["remaining"] = 2            # fails twice, the third delivery (after two retries) succeeds
    publish(vhost_uri, records_stored("U-retried"))
    wait_for(lambda: count_effects(url) == 1, timeout=15, message="the effect after two quorum retries")

    FAILURES["remaining"] = -1           # fails for ever: parked after the two retries
    event = records_stored("U-parked")
    publish(vhost_uri, event)
    parked = wait_for(lambda: list_parked(vhost_uri), timeout=15, message="the message to be parked")
    assert [p["event_id"] for p in parked] == [event["id"]] and parked[0]["attempts"] == 3
    FAILURES["remaining"] = 0
    replay_parked(vhost_uri)
    wait_for(lambda: count_effects(url) == 2, timeout=15, message="the replayed message's effect")
    assert {q["type"] for q in broker_queues(vhost_uri).values() if q["name"].startswith("aq.")} == {"quorum"}


def test_a_service_configured_for_quorum_does_not_consume_from_classic_queues(monkeypatch, vhost_uri, run_service):
    start, _ = run_service
    monkeypatch.delenv("AQ_QUEUE_TYPE", raising=False)
    declare_topology(vhost_uri)                       # an existing classic deployment
    monkeypatch.setenv("AQ_QUEUE_TYPE", "quorum")
    monkeypatch.setenv("AQ_MIGRATE_ON_START", "0")
    try:
        with eventlet.Timeout(8):
            start(vhost_uri)
    except TopologyMismatch as exc:                   # the relay's declaration was refused first
        assert "x-queue-type" in str(exc)
    except eventlet.Timeout:
        pass   # nameko's consumer was refused first: it retries (and logs) for ever, never ready
    else:
        pytest.fail("a quorum-configured service started on classic queues")
    assert broker_queues(vhost_uri)[HANDLER_QUEUE]["consumers"] == 0


def test_a_service_given_several_broker_uris_reaches_the_node_that_answers(quorum, vhost_uri, run_service):
    start, url = run_service
    failover = f"amqp://guest:guest@127.0.0.1:{closed_port()}/{vhost_of(vhost_uri)};{vhost_uri}"
    declare_topology(failover)
    start(failover)
    FAILURES["remaining"] = 1        # the retry is published through the failover URI too
    publish(vhost_uri, records_stored("U-failover"))
    wait_for(lambda: count_effects(url) == 1, timeout=15, message="the effect through the second URI")
    assert FAILURES["remaining"] == 0


# --- deploy/rabbitmq/definitions.json: loaded at broker start, must match what the services declare ---------

def import_definitions_into(vhost_uri: str) -> dict:
    """The generated definitions, moved into the test's vhost and imported with rabbitmqctl (as the broker
    does at boot with load_definitions)."""
    definitions = json.loads((REPO / "deploy" / "rabbitmq" / "definitions.json").read_text(encoding="utf-8"))
    vhost = vhost_of(vhost_uri)
    moved = {"vhosts": [{"name": vhost}]}
    for key in ("exchanges", "queues", "bindings", "policies"):
        moved[key] = [{**item, "vhost": vhost} for item in definitions.get(key, [])]
    # rabbitmqctl runs as the rabbitmq user, who cannot read pytest's private tmp_path (and 3.10 does not
    # read "-" as stdin): a readable file of our own in the system temp directory, removed afterwards.
    with tempfile.NamedTemporaryFile("w", suffix=".json", prefix="aq-definitions-", delete=False) as file:
        json.dump(moved, file)
    try:
        os.chmod(file.name, 0o644)
        result = subprocess.run(["rabbitmqctl", "-q", "import_definitions", file.name], capture_output=True,
                                text=True, timeout=60, check=False)
    finally:
        os.unlink(file.name)
    assert result.returncode == 0, result.stdout + result.stderr
    # The import may finish after rabbitmqctl returns.
    wait_for(lambda: len(broker_queues(vhost_uri)) == len(moved["queues"]), timeout=30,
             message="the imported queues")
    return definitions


def test_the_broker_definitions_are_quorum_queues_that_a_quorum_service_accepts(quorum, vhost_uri, run_service):
    definitions = import_definitions_into(vhost_uri)
    queues = broker_queues(vhost_uri)
    assert set(queues) == {q.name for q in all_queues()}
    assert {q["type"] for q in queues.values()} == {"quorum"}
    policies = json.loads(subprocess.run(
        ["rabbitmqctl", "-q", "list_policies", "-p", vhost_of(vhost_uri), "--formatter", "json"],
        check=True, capture_output=True, text=True, timeout=60).stdout)
    assert {p["name"] for p in policies} == {p["name"] for p in definitions["policies"]}

    declare_topology(vhost_uri)      # a service's declarations are equivalent: no PRECONDITION_FAILED
    start, url = run_service
    start(vhost_uri)
    publish(vhost_uri, records_stored("U-defs"))
    wait_for(lambda: count_effects(url) == 1, timeout=15, message="the effect through the imported topology")


def test_the_broker_definitions_refuse_a_classic_service(monkeypatch, vhost_uri):
    import_definitions_into(vhost_uri)
    monkeypatch.delenv("AQ_QUEUE_TYPE", raising=False)
    with pytest.raises(TopologyMismatch):
        declare_topology(vhost_uri)


def test_a_message_that_keeps_coming_back_unsettled_is_parked_by_the_delivery_limit(quorum, vhost_uri):
    """The handler-queue policy: a message whose handling process dies again and again (returned unsettled
    each time) goes to aq.parked after the delivery limit instead of looping or being dropped."""
    definitions = import_definitions_into(vhost_uri)
    limit = next(p for p in definitions["policies"] if p["name"] == "aq-handler-queues")["definition"]["delivery-limit"]
    event = records_stored("U-poison")
    publish(vhost_uri, event)
    with Connection(vhost_uri) as conn:
        channel = conn.default_channel
        returned, deadline = 0, time.monotonic() + 30
        while channel.queue_declare(queue=PARKED_QUEUE, passive=True).message_count == 0:
            assert time.monotonic() < deadline, f"not parked after {returned} returns"
            message = channel.basic_get(HANDLER_QUEUE)
            if message is None:
                time.sleep(0.02)
                continue
            channel.basic_reject(message.delivery_tag, requeue=True)   # as if the worker's process died
            returned += 1
    assert returned == limit + 1
    assert [p["event_id"] for p in list_parked(vhost_uri)] == [event["id"]]
