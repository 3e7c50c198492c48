"""contracts/asyncapi.yaml: a valid AsyncAPI 2.6 document that lists every event type of the registry."""
import json
from pathlib import Path

import jsonschema
import pytest
import yaml
from referencing import Registry, Resource

from contracts import generate
from contracts.registry import EVENT_TYPES, queue_name

SCHEMAS = Path(__file__).resolve().parent / "schemas"
TYPES = [pytest.param(e, id=e.routing_key) for e in EVENT_TYPES]


@pytest.fixture(scope="module")
def doc() -> dict:
    return yaml.safe_load(generate.ASYNCAPI_PATH.read_text(encoding="utf-8"))


def resolve(doc: dict, ref: str) -> dict:
    assert ref.startswith("#/"), ref
    node = doc
    for part in ref[2:].split("/"):
        node = node[part]
    return node


def test_document_validates_against_the_asyncapi_2_6_schema(doc):
    schema = json.loads((SCHEMAS / "asyncapi-2.6.0.json").read_text(encoding="utf-8"))
    jsonschema.Draft7Validator(schema).validate(doc)
    assert doc["asyncapi"] == "2.6.0"


def test_amqp_bindings_validate_against_the_binding_schemas(doc):
    registry = Registry().with_resource(   # the binding schemas' only outside reference: "any x-* value"
        "http://asyncapi.com/definitions/3.0.0/specificationExtension.json",
        Resource.from_contents({"$schema": "http://json-schema.org/draft-07/schema#"}))
    binding = {}
    for kind in ("channel", "operation", "message"):
        schema = json.loads((SCHEMAS / "amqp-bindings-0.2.0" / f"{kind}.json").read_text(encoding="utf-8"))
        binding[kind] = jsonschema.Draft7Validator(schema, registry=registry)
    for name, channel in doc["channels"].items():
        binding["channel"].validate(channel["bindings"]["amqp"])
        for op in ("publish", "subscribe"):
            binding["operation"].validate(channel[op]["bindings"]["amqp"])
    for message in doc["components"]["messages"].values():
        binding["message"].validate(message["bindings"]["amqp"])
    assert not binding["channel"].is_valid({"is": "routingKey", "exchange": {"type": "sideways"}})


def test_every_registry_event_type_has_a_channel_and_nothing_else(doc):
    assert sorted(doc["channels"]) == sorted(e.routing_key for e in EVENT_TYPES)


def test_server_is_amqp_on_port_5672(doc):
    (server,) = doc["servers"].values()
    assert server["url"] == "amqp://{host}:5672"
    assert server["protocol"] == "amqp"
    assert "host" in server["variables"]


@pytest.mark.parametrize("spec", TYPES)
def test_channel_describes_the_exchange_producer_and_subscribers(doc, spec):
    channel = doc["channels"][spec.routing_key]
    amqp = channel["bindings"]["amqp"]
    assert amqp["is"] == "routingKey"
    assert amqp["exchange"] == {"name": "aq.events", "type": "topic", "durable": True, "autoDelete": False,
                                "vhost": "/"}
    assert channel["x-producer"] == spec.producer
    assert [(s["service"], s["handler"]) for s in channel["x-subscribers"]] == list(spec.subscribers)
    for sub in channel["x-subscribers"]:
        assert sub["queue"] == queue_name(sub["service"], sub["handler"])
        assert sub["retryQueue"] == sub["queue"] + ".retry"
        assert sub["queue"] in channel["description"]
    assert channel["publish"]["bindings"]["amqp"]["deliveryMode"] == 2
    assert channel["publish"]["message"] == channel["subscribe"]["message"]


@pytest.mark.parametrize("spec", TYPES)
def test_message_payload_is_the_per_type_json_schema(doc, spec):
    message = resolve(doc, doc["channels"][spec.routing_key]["subscribe"]["message"]["$ref"])
    assert message["contentType"] == "application/json"
    payload = resolve(doc, message["payload"]["$ref"])
    on_disk = json.loads((generate.JSONSCHEMA_DIR / f"{spec.routing_key}.json").read_text(encoding="utf-8"))
    assert payload == {k: v for k, v in on_disk.items() if not k.startswith("$")}
    assert message["x-json-schema"] == f"contracts/jsonschema/{spec.routing_key}.json"
    for example in message["examples"]:
        jsonschema.Draft7Validator(payload).validate(example["payload"])


def test_operation_ids_are_unique(doc):
    ids = [ch[op]["operationId"] for ch in doc["channels"].values() for op in ("publish", "subscribe")]
    assert len(ids) == len(set(ids)) == 2 * len(EVENT_TYPES)


def test_it_tells_another_system_how_to_subscribe(doc):
    text = " ".join(doc["info"]["description"].split())
    for needle in ("durable queue", "aq.events", "routing key", "persistent", "application/json",
                   "at-least-once", "envelope `id`"):
        assert needle in text, needle
