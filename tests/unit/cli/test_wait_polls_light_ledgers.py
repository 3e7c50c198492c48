"""`aq wait` (wait_until_settled) asks each service for its light ledger: the services it waits for are busy with the
very cascade it waits on, and notification's full trace lists every notice of the upload."""
from aq_cli import tracking
from shared import config


class Services:
    """Every service's `trace` answered from a table of ledgers, remembering how it was asked."""

    def __init__(self, ledgers):
        self.ledgers = ledgers
        self.calls = []

    def call(self, service, method, *args, timeout=None, **kwargs):
        self.calls.append((service, method, args))
        return self.ledgers[service]


def test_it_polls_without_details_until_settled(monkeypatch):
    emitted = {"event_id": "E1", "type": "grades.upload_completed", "causation_id": None, "published": True}
    ledgers = {service: {"emitted": [], "consumed": []} for service in config.SERVICES}
    ledgers["grades"]["emitted"] = [emitted]
    ledgers["assessment"]["consumed"] = [{"event_id": "E1", "handler": "on_upload_completed",
                                          "type": "grades.upload_completed", "duration_ms": 1.0}]
    ledgers["notification"]["pending_deliveries"] = 0
    services = Services(ledgers)
    monkeypatch.setattr(tracking, "list_parked", lambda uri: [])

    state, _ = tracking.wait_until_settled(services, "U-1", timeout=5)

    assert state.settled
    assert {(service, method) for service, method, _ in services.calls} == {(s, "trace") for s in config.SERVICES}
    assert {args for _, _, args in services.calls} == {("U-1", False)}
