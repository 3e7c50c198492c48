"""Exchanges and queues, declared from contracts/registry.py before anything is published.

Queue type (AQ_QUEUE_TYPE): ``classic`` (default) or ``quorum`` (replicated Raft queues, for a RabbitMQ
cluster; see docs/operations.md). Every declaration of a queue — the topology below, the EventHandler's
consumer (nameko's QueueConsumer declares the queue it consumes from), `aq dlq` — builds its Queue with the
functions here, so all of them carry the same arguments: RabbitMQ refuses (PRECONDITION_FAILED) a
declaration whose arguments differ from the existing queue's, and a queue's type cannot be changed in place.
"""
from __future__ import annotations

import os

from amqp.exceptions import PreconditionFailed
from kombu import Connection, Exchange, Queue

from contracts.registry import EVENT_TYPES, queue_name

EVENTS_EXCHANGE = Exchange("aq.events", type="topic", durable=True)
PARKED_QUEUE = "aq.parked"
ATTEMPTS_HEADER = "x-aq-attempts"   # how many times a message has failed

QUEUE_TYPE_VARIABLE = "AQ_QUEUE_TYPE"
QUEUE_TYPES = ("classic", "quorum")


class TopologyMismatch(RuntimeError):
    """The broker holds a queue declared with other arguments (typically another AQ_QUEUE_TYPE)."""


def configured_queue_type(value: str | None = None) -> str:
    """``value``, else AQ_QUEUE_TYPE, else ``classic``; anything but classic/quorum is an error."""
    chosen = (os.environ.get(QUEUE_TYPE_VARIABLE, "") if value is None else value).strip().lower() or "classic"
    if chosen not in QUEUE_TYPES:
        raise ValueError(f"{QUEUE_TYPE_VARIABLE}={chosen!r}: the queue type is one of {', '.join(QUEUE_TYPES)}")
    return chosen


def _type_arguments(queue_type: str | None) -> dict:
    # classic: no x-queue-type at all, so queues declared before this setting existed stay equivalent
    # (RabbitMQ treats an explicit "classic" as different from none).
    return {"x-queue-type": "quorum"} if configured_queue_type(queue_type) == "quorum" else {}


def handler_queue(service: str, handler: str, routing_key: str, queue_type: str | None = None) -> Queue:
    return Queue(queue_name(service, handler), exchange=EVENTS_EXCHANGE, routing_key=routing_key,
                 durable=True, auto_delete=False, queue_arguments=_type_arguments(queue_type))


def retry_queue_name(service: str, handler: str) -> str:
    return queue_name(service, handler) + ".retry"


def retry_queue(service: str, handler: str, queue_type: str | None = None) -> Queue:
    # No consumer reads this queue: a message waits out its per-message TTL, then RabbitMQ dead-letters it
    # through the default exchange back to the handler's queue. Quorum queues honour per-message TTL and
    # dead-lettering from RabbitMQ 3.10 on (tests/interface/test_quorum_queues.py); there the dead-lettering
    # is at-least-once (the retry queue keeps a message until the handler's queue confirmed it), which
    # RabbitMQ allows only together with overflow reject-publish.
    arguments = {**_type_arguments(queue_type),
                 "x-dead-letter-exchange": "",
                 "x-dead-letter-routing-key": queue_name(service, handler)}
    if arguments.get("x-queue-type") == "quorum":
        arguments.update({"x-dead-letter-strategy": "at-least-once", "x-overflow": "reject-publish"})
    return Queue(retry_queue_name(service, handler), durable=True, auto_delete=False, queue_arguments=arguments)


def parked_queue(queue_type: str | None = None) -> Queue:
    return Queue(PARKED_QUEUE, durable=True, auto_delete=False, queue_arguments=_type_arguments(queue_type))


def all_queues(queue_type: str | None = None) -> list[Queue]:
    queues = [parked_queue(queue_type)]
    for spec in EVENT_TYPES:
        for service, handler in spec.subscribers:
            queues.append(handler_queue(service, handler, spec.routing_key, queue_type))
            queues.append(retry_queue(service, handler, queue_type))
    return queues


def declare_topology(amqp_uri: str, queue_type: str | None = None) -> None:
    chosen = configured_queue_type(queue_type)
    with Connection(amqp_uri) as conn:
        # AQ_AMQP_URI may list several nodes ("amqp://a;amqp://b"): try each once before giving up.
        conn.ensure_connection(max_retries=max(1, len(conn.alt)))
        channel = conn.channel()
        EVENTS_EXCHANGE(channel).declare()
        for queue in all_queues(chosen):
            try:
                queue(channel).declare()
            except PreconditionFailed as exc:
                raise TopologyMismatch(
                    f"{exc}. The broker's queue {queue.name} was declared with other arguments than "
                    f"{QUEUE_TYPE_VARIABLE}={chosen} gives; a queue's type cannot change in place: see "
                    "'Changing the queue type' in docs/operations.md") from exc
        channel.close()
