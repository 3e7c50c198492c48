"""The parking queue (aq.parked): messages that failed every retry, or never matched their contract.

Listing takes every message without acknowledging it and then gives them all back, so looking changes
nothing. Replaying sends a message back to the queue it failed on with its attempts reset; consumers are
idempotent, so replaying something that was meanwhile handled does no harm.
"""
from __future__ import annotations

from kombu import Connection

from shared.messaging.topology import ATTEMPTS_HEADER, PARKED_QUEUE, parked_queue


def _drain(channel):
    messages = []
    while True:
        message = channel.basic_get(PARKED_QUEUE, no_ack=False)
        if message is None:
            return messages
        messages.append(message)


def _describe(message) -> dict:
    import json
    headers = message.headers or {}
    try:
        body = json.loads(message.body)
    except (ValueError, TypeError):
        body = {"raw": message.body.decode("utf-8", "replace") if isinstance(message.body, bytes) else str(message.body)}
    return {
        "event_id": body.get("id") if isinstance(body, dict) else None,
        "type": body.get("type") if isinstance(body, dict) else None,
        "correlation_id": body.get("correlation_id") if isinstance(body, dict) else None,
        "queue": headers.get("x-aq-queue"),
        "attempts": headers.get(ATTEMPTS_HEADER),
        "error": headers.get("x-aq-error"),
    }


def list_parked(amqp_uri: str) -> list[dict]:
    with Connection(amqp_uri) as conn:
        channel = conn.channel()
        parked_queue()(channel).declare()
        messages = _drain(channel)
        described = [_describe(m) for m in messages]
        channel.close()   # unacknowledged messages go back to the queue
    return described


def replay_parked(amqp_uri: str, event_ids: set[str] | None = None) -> list[dict]:
    """Send parked messages (all, or those with the given event ids) back to their queues."""
    replayed = []
    with Connection(amqp_uri) as conn:
        channel = conn.channel()
        parked_queue()(channel).declare()
        producer = conn.Producer(channel)
        for message in _drain(channel):
            info = _describe(message)
            if not info["queue"] or (event_ids and info["event_id"] not in event_ids):
                continue
            headers = {k: v for k, v in (message.headers or {}).items() if not k.startswith("x-aq-")}
            headers[ATTEMPTS_HEADER] = 0
            properties = message.properties
            producer.publish(message.body, exchange="", routing_key=info["queue"], headers=headers,
                             delivery_mode=2, content_type=properties.get("content_type", "application/json"),
                             content_encoding=properties.get("content_encoding", "utf-8"),
                             message_id=properties.get("message_id"))
            channel.basic_ack(message.delivery_tag)
            replayed.append(info)
        channel.close()
    return replayed
