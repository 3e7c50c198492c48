"""``event_handler``: a nameko entrypoint that never drops a message.

nameko's own consumers acknowledge a message whose handler raised, and the message is gone. Here a failed
message is re-published to the handler's retry queue with a growing delay, and after the last attempt to
``aq.parked`` with the error, where ``aq dlq list`` shows it and ``aq dlq replay`` sends it back. Only then
is the original acknowledged. A message whose envelope or data does not match its contract is parked at
once: retrying cannot fix it.
"""
from __future__ import annotations

import logging
import time
import traceback

from nameko.messaging import Consumer
from nameko.amqp.publish import Publisher

from contracts.envelope import EnvelopeSchema
from shared.messaging import metrics
from contracts.registry import event_type
from shared.messaging.rpc import PromptQueueConsumer
from shared.messaging.schema_check import errors_of
from shared.messaging.topology import ATTEMPTS_HEADER, PARKED_QUEUE, handler_queue, retry_queue_name
from shared.messaging.unit_of_work import AlreadyProcessed

log = logging.getLogger(__name__)

DEFAULT_RETRY_DELAYS = (1, 5, 30, 120, 600)   # seconds; then the message is parked


class InvalidEvent(Exception):
    pass


class Reject(Exception):
    """Raised by a handler for a message that can never succeed as it is (e.g. a batch of grades that fails
    validation): it is parked at once with this reason, without retries. The handler commits whatever it must
    still do (e.g. tell the publisher) in its own unit of work before raising."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def check_event(body) -> dict:
    """The envelope and its data, validated against the contract; raises InvalidEvent."""
    if not isinstance(body, dict):
        raise InvalidEvent("message body is not a JSON object")
    errors = errors_of(EnvelopeSchema, body)       # in full, as marshmallow would; see schema_check.py
    if errors:
        raise InvalidEvent(f"envelope does not match the contract: {errors}")
    try:
        spec = event_type(body["type"])
    except KeyError as exc:
        raise InvalidEvent(str(exc)) from None
    if body["version"] != spec.version:
        raise InvalidEvent(f"{body['type']} version {body['version']} is not handled (expects {spec.version})")
    errors = errors_of(spec.schema, body["data"])
    if errors:
        raise InvalidEvent(f"{body['type']} data does not match the contract: {errors}")
    return body


class EventHandler(Consumer):
    queue_consumer = PromptQueueConsumer()     # the service's RPC consumer too; stops promptly (rpc.py)

    def __init__(self, type_name: str, **kwargs):
        self.type_name = type_name
        super().__init__(queue=None, **kwargs)

    def setup(self):
        spec = event_type(self.type_name)
        service = self.container.service_name
        if (service, self.method_name) not in spec.subscribers:
            raise RuntimeError(f"{service}.{self.method_name} handles {self.type_name} but contracts/registry.py "
                               "does not list it as a subscriber; add it there so its queue is declared")
        self.queue = handler_queue(service, self.method_name, spec.routing_key)
        self.retry_queue = retry_queue_name(service, self.method_name)
        config = self.container.config
        delays = config.get("RETRY_DELAYS") or DEFAULT_RETRY_DELAYS
        if isinstance(delays, str):
            delays = [float(d) for d in delays.split(",") if d.strip()]
        self.retry_delays = [float(d) for d in delays]
        self.publisher = Publisher(config["AMQP_URI"])
        self._started: dict[int, float] = {}
        metrics.serve(service)
        super().setup()

    def handle_message(self, body, message):
        try:
            event = check_event(body)
        except InvalidEvent as exc:
            log.error("parking invalid message on %s: %s", self.queue.name, exc)
            self._settle(message, body, attempts=0, error=str(exc), park=True)
            return
        self._started[id(message)] = time.perf_counter()
        super().handle_message(event, message)

    def handle_result(self, message, worker_ctx, result=None, exc_info=None):
        labels = (self.container.service_name, self.method_name)
        started = self._started.pop(id(message), None)
        if started is not None:
            metrics.HANDLER_SECONDS.labels(*labels).observe(time.perf_counter() - started)
        event = worker_ctx.args[0] if worker_ctx.args else {}
        if exc_info is None:
            metrics.HANDLED.labels(*labels, event.get("type", "?")).inc()
            log.info("handled %s", event.get("type"), extra={"aq": {
                "handler": self.method_name, "event_id": event.get("id"), "correlation_id": event.get("correlation_id"),
                "seconds": round(time.perf_counter() - started, 4) if started else None}})
        elif issubclass(exc_info[0], AlreadyProcessed):
            metrics.DUPLICATES.labels(*labels).inc()
        return super().handle_result(message, worker_ctx, result, exc_info)

    def handle_message_processed(self, message, result=None, exc_info=None):
        if exc_info is None or issubclass(exc_info[0], AlreadyProcessed):
            self.queue_consumer.ack_message(message)
            return
        metrics.FAILURES.labels(self.container.service_name, self.method_name).inc()
        attempts = int((message.headers or {}).get(ATTEMPTS_HEADER, 0)) + 1
        error = "".join(traceback.format_exception_only(exc_info[0], exc_info[1])).strip()
        park = attempts > len(self.retry_delays) or issubclass(exc_info[0], Reject)
        if issubclass(exc_info[0], Reject):
            error = exc_info[1].reason
        (metrics.PARKED if park else metrics.RETRIES).labels(self.container.service_name, self.method_name).inc()
        body = message.payload if isinstance(message.payload, dict) else {}
        log.warning("%s failed (attempt %s): %s%s", self.queue.name, attempts, error,
                    "; parking it" if park else "; will retry",
                    extra={"aq": {"handler": self.method_name, "event_id": body.get("id"),
                                  "correlation_id": body.get("correlation_id"), "attempts": attempts}})
        self._settle(message, message.payload, attempts, error, park)

    def _settle(self, message, body, attempts: int, error: str, park: bool):
        """Move the message on (to retry or to the parking queue), then ack it. If that publish fails the
        message is requeued instead, so it is never lost."""
        headers = dict(message.headers or {})
        headers[ATTEMPTS_HEADER] = attempts
        headers["x-aq-error"] = error[:2000]
        headers["x-aq-queue"] = self.queue.name
        properties = {"message_id": message.properties.get("message_id")}
        try:
            if park:
                self.publisher.publish(body, exchange=None, routing_key=PARKED_QUEUE, headers=headers,
                                       delivery_mode=2, serializer="json", **properties)
            else:
                delay_ms = int(self.retry_delays[attempts - 1] * 1000)
                self.publisher.publish(body, exchange=None, routing_key=self.retry_queue, headers=headers,
                                       delivery_mode=2, serializer="json", expiration=delay_ms / 1000,
                                       **properties)
        except Exception:
            log.exception("could not move a failed message on; requeueing it")
            self.queue_consumer.requeue_message(message)
            return
        self.queue_consumer.ack_message(message)


event_handler = EventHandler.decorator
