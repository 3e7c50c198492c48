"""The warnings service's nameko entrypoints: thin adapters over handlers and queries."""
from __future__ import annotations

import os

from nameko.rpc import rpc

from services.warnings import handlers, queries, tables
from services.warnings.domain.policy import Policy, load_default_policy
from shared.messaging.consumer import event_handler
from shared.messaging.service_base import MessagingService
from shared.messaging.store import Store


def _policy():
    path = os.environ.get("AQ_WARNING_POLICY")
    return Policy.from_file(path) if path else load_default_policy()


class WarningsService(MessagingService):
    name = "warnings"
    store = Store(tables.MESSAGING)
    policy = _policy()

    @event_handler("grades.records_stored")
    def on_records_stored(self, event):
        with self.store.handling(event) as uow:
            handlers.take_records(uow, event["data"]["records"], self.policy)

    @rpc
    def list_warnings(self, semester: str | None = None, status: str = "active") -> list[dict]:
        with self.store.engine.connect() as conn:
            return queries.list_warnings(conn, semester, status)

    def trace_details(self, correlation_id: str) -> dict:
        with self.store.engine.connect() as conn:
            return {"changes": queries.changes_for(conn, correlation_id)}
