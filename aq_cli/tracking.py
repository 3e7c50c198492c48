"""Following one upload through the services: has its cascade settled, and if not, where is it?

Every service reports, for the upload's correlation id, the events it emitted and consumed (its ledger).
The cascade has settled when every emitted event is published and was handled by every handler that
subscribes to its type (contracts/registry.py), and notification has no delivery still pending. A
message of the upload sitting in the parking queue means the cascade is stuck, not slow.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field

from contracts.registry import event_type
from shared import config
from shared.messaging.parking import list_parked
from shared.rpc_client import RpcClient, ServiceUnavailable


@dataclass
class Settlement:
    settled: bool
    waiting: list[str] = field(default_factory=list)
    stuck: list[dict] = field(default_factory=list)


def collect_ledgers(client: RpcClient, correlation_id: str, timeout: float = 10.0,
                    details: bool = True) -> dict[str, dict]:
    """Every service's ledger of the upload; ``details`` false: without what each made for it (records, notices,
    tasks…), enough for :func:`settlement` and light enough to poll while the cascade runs."""
    return {service: client.call(service, "trace", correlation_id, details, timeout=timeout)
            for service in config.SERVICES}


def settlement(ledgers: dict[str, dict], parked: list[dict], correlation_id: str) -> Settlement:
    waiting: list[str] = []
    handled = {(service, c["handler"], c["event_id"])
               for service, ledger in ledgers.items() for c in ledger["consumed"]}
    for service, ledger in ledgers.items():
        for event in ledger["emitted"]:
            if not event["published"]:
                waiting.append(f"{service}: {event['type']} {event['event_id']} not yet published")
                continue
            for subscriber, handler in event_type(event["type"]).subscribers:
                if (subscriber, handler, event["event_id"]) not in handled:
                    waiting.append(f"{subscriber}.{handler}: {event['type']} {event['event_id']} not yet handled")
        pending = ledger.get("pending_deliveries", 0)
        if pending:
            waiting.append(f"{service}: {pending} notice deliveries pending")
    stuck = [p for p in parked if p.get("correlation_id") == correlation_id]
    return Settlement(settled=not waiting and not stuck, waiting=waiting, stuck=stuck)


def wait_until_settled(client: RpcClient, correlation_id: str, timeout: float = 600.0,
                       poll: float = 0.1) -> tuple[Settlement, dict[str, dict]]:
    """Poll the services' ledgers until the upload's cascade settles, sticks, or time runs out. The ledgers
    returned are the light ones (``collect_ledgers(..., details=False)``)."""
    deadline = time.monotonic() + timeout
    amqp_uri = config.amqp_uri()
    while True:
        try:
            ledgers = collect_ledgers(client, correlation_id, details=False)
        except ServiceUnavailable as exc:
            ledgers, state = {}, Settlement(False, [str(exc)])
        else:
            state = settlement(ledgers, [], correlation_id)
            if not state.settled:
                # Only look in the parking queue when not settled: listing it costs a round trip per message.
                state = settlement(ledgers, list_parked(amqp_uri), correlation_id)
        if state.settled or state.stuck or time.monotonic() > deadline:
            return state, ledgers
        time.sleep(poll)
        poll = min(poll * 1.5, 0.5)   # light ledgers (details=False): polling twice a second costs little
