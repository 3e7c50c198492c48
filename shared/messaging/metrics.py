"""Prometheus metrics of a service process: messages handled, failures, retries, parked, handler time,
outbox lag. Served over HTTP when AQ_METRICS_PORT is set (0 picks a free port and writes it to
AQ_HOME/run/metrics-<service>-<pid>.port, for several instances on one machine)."""
from __future__ import annotations

import os

from prometheus_client import Counter, Gauge, Histogram, start_http_server

from shared import config

HANDLED = Counter("aq_messages_handled_total", "Events handled successfully", ["service", "handler", "type"])
DUPLICATES = Counter("aq_messages_duplicate_total", "Redelivered events acknowledged without effect",
                     ["service", "handler"])
FAILURES = Counter("aq_messages_failed_total", "Handler failures (each attempt)", ["service", "handler"])
RETRIES = Counter("aq_messages_retried_total", "Messages sent to a retry queue", ["service", "handler"])
PARKED = Counter("aq_messages_parked_total", "Messages parked in aq.parked", ["service", "handler"])
HANDLER_SECONDS = Histogram("aq_handler_seconds", "Time a handler took", ["service", "handler"],
                            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30))
PUBLISHED = Counter("aq_events_published_total", "Events the outbox relay published", ["service"])
OUTBOX_UNPUBLISHED = Gauge("aq_outbox_unpublished", "Events waiting in the outbox", ["service"])
OUTBOX_LAG = Gauge("aq_outbox_lag_seconds", "Age of the oldest unpublished event", ["service"])

_started = False


def serve(service: str) -> int | None:
    """Start the metrics endpoint once per process, if configured; returns the port."""
    global _started
    port = os.environ.get("AQ_METRICS_PORT", "").strip()
    if _started or not port:
        return None
    server, _thread = start_http_server(int(port), addr=os.environ.get("AQ_METRICS_ADDR", "0.0.0.0"))
    _started = True
    actual = server.server_port
    run = config.home() / "run"
    run.mkdir(parents=True, exist_ok=True)
    (run / f"metrics-{service}-{os.getpid()}.port").write_text(str(actual))
    return actual
