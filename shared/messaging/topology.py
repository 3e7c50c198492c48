"""Exchanges and queues, declared from contracts/registry.py before anything is published."""
from __future__ import annotations

from kombu import Connection, Exchange, Queue

from contracts.registry import EVENT_TYPES, queue_name

EVENTS_EXCHANGE = Exchange("aq.events", type="topic", durable=True)
PARKED_QUEUE = "aq.parked"
ATTEMPTS_HEADER = "x-aq-attempts"   # how many times a message has failed


def handler_queue(service: str, handler: str, routing_key: str) -> Queue:
    return Queue(queue_name(service, handler), exchange=EVENTS_EXCHANGE, routing_key=routing_key,
                 durable=True, auto_delete=False)


def retry_queue_name(service: str, handler: str) -> str:
    return queue_name(service, handler) + ".retry"


def retry_queue(service: str, handler: str) -> Queue:
    # No consumer reads this queue: a message waits out its per-message TTL, then RabbitMQ dead-letters it
    # through the default exchange back to the handler's queue.
    return Queue(retry_queue_name(service, handler), durable=True, auto_delete=False,
                 queue_arguments={"x-dead-letter-exchange": "",
                                  "x-dead-letter-routing-key": queue_name(service, handler)})


def parked_queue() -> Queue:
    return Queue(PARKED_QUEUE, durable=True, auto_delete=False)


def all_queues() -> list[Queue]:
    queues = [parked_queue()]
    for spec in EVENT_TYPES:
        for service, handler in spec.subscribers:
            queues.append(handler_queue(service, handler, spec.routing_key))
            queues.append(retry_queue(service, handler))
    return queues


def declare_topology(amqp_uri: str) -> None:
    with Connection(amqp_uri) as conn:
        channel = conn.channel()
        EVENTS_EXCHANGE(channel).declare()
        for queue in all_queues():
            queue(channel).declare()
        channel.close()
