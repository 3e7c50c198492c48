"""deploy/rabbitmq/definitions.json is what contracts/registry.py gives (drift test), and it declares the queues
exactly as the services do with AQ_QUEUE_TYPE=quorum. (tests/interface/test_quorum_queues.py imports it into
the real broker.)"""
import importlib.util
import json
import subprocess
import sys
from pathlib import Path

from contracts.registry import EVENT_TYPES, queue_name
from shared.messaging.topology import PARKED_QUEUE, all_queues

REPO = Path(__file__).resolve().parents[3]
GENERATOR = REPO / "deploy" / "rabbitmq" / "generate_definitions.py"
DEFINITIONS = REPO / "deploy" / "rabbitmq" / "definitions.json"


def _generator():
    spec = importlib.util.spec_from_file_location("aq_generate_definitions", GENERATOR)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_definitions_file_is_up_to_date_with_the_registry():
    assert DEFINITIONS.read_text(encoding="utf-8") == _generator().render(), \
        "run: python deploy/rabbitmq/generate_definitions.py"


def test_every_subscriber_has_a_bound_quorum_queue_and_a_retry_queue_back_to_it():
    definitions = json.loads(DEFINITIONS.read_text(encoding="utf-8"))
    queues = {q["name"]: q for q in definitions["queues"]}
    bindings = {(b["source"], b["destination"], b["routing_key"]) for b in definitions["bindings"]}
    assert {e["name"]: e["type"] for e in definitions["exchanges"]}["aq.events"] == "topic"
    assert queues[PARKED_QUEUE]["arguments"] == {"x-queue-type": "quorum"}
    subscribers = [(spec, service, handler) for spec in EVENT_TYPES for service, handler in spec.subscribers]
    assert subscribers
    for spec, service, handler in subscribers:
        name = queue_name(service, handler)
        assert queues[name]["durable"] and not queues[name]["auto_delete"]
        assert queues[name]["arguments"]["x-queue-type"] == "quorum"
        assert ("aq.events", name, spec.routing_key) in bindings
        retry = queues[name + ".retry"]["arguments"]
        assert retry["x-queue-type"] == "quorum"
        assert (retry["x-dead-letter-exchange"], retry["x-dead-letter-routing-key"]) == ("", name)
    assert len(queues) == 1 + 2 * len(subscribers)


def test_the_definitions_declare_queues_as_the_services_do():
    """RabbitMQ refuses a declaration whose arguments differ from the queue's: the file must carry the very
    arguments of shared.messaging.topology with AQ_QUEUE_TYPE=quorum."""
    definitions = json.loads(DEFINITIONS.read_text(encoding="utf-8"))
    declared = {q.name: (q.durable, q.auto_delete, dict(q.queue_arguments or {})) for q in all_queues("quorum")}
    loaded = {q["name"]: (q["durable"], q["auto_delete"], q["arguments"]) for q in definitions["queues"]}
    assert loaded == declared


def test_the_policies_cover_the_handler_queues_only_where_meant():
    import re
    definitions = json.loads(DEFINITIONS.read_text(encoding="utf-8"))
    policies = {p["name"]: p for p in definitions["policies"]}

    def applied(queue):   # RabbitMQ applies the one matching policy of highest priority
        matching = [p for p in policies.values() if re.search(p["pattern"], queue)]
        return max(matching, key=lambda p: p["priority"])["name"] if matching else None

    assert applied("aq.warnings.on_records_stored") == "aq-handler-queues"
    assert applied("aq.warnings.on_records_stored.retry") == "aq-queues"
    assert applied(PARKED_QUEUE) == "aq-queues"
    assert applied("rpc-warnings") == "nameko-rpc-mirrored"
    assert applied("rpc.reply-warnings-0b8f") is None
    handler = policies["aq-handler-queues"]["definition"]
    assert handler["dead-letter-routing-key"] == PARKED_QUEUE and handler["delivery-limit"] > 0


def test_no_users_or_passwords_in_the_definitions():
    definitions = json.loads(DEFINITIONS.read_text(encoding="utf-8"))
    assert "users" not in definitions and "permissions" not in definitions
    assert "password" not in DEFINITIONS.read_text(encoding="utf-8")


def test_check_mode_fails_on_a_stale_file(tmp_path):
    stale = tmp_path / "definitions.json"
    stale.write_text(DEFINITIONS.read_text(encoding="utf-8").replace('"quorum"', '"classic"', 1))
    result = subprocess.run([sys.executable, str(GENERATOR), "--check", "--output", str(stale)],
                            capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 1 and "out of date" in result.stderr
    result = subprocess.run([sys.executable, str(GENERATOR), "--check"], capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 0, result.stderr
