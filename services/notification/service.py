"""The notification service's nameko entrypoints: thin adapters over handlers and queries.

Notices are decided when a warning change or course flag arrives and delivered right after that commits;
a timer delivers whatever is left (retries, a crash's leftovers, quiet-hour holds later).
"""
from __future__ import annotations

import os

from nameko.rpc import RpcProxy, rpc
from nameko.timer import timer

from services.notification import handlers, queries, tables
from services.notification.channels import load_channels
from shared import config
from shared.messaging.consumer import event_handler
from shared.messaging.service_base import MessagingService
from shared.messaging.store import Store

LEASE_SECONDS = float(os.environ.get("AQ_DELIVERY_LEASE_SECONDS", "60"))


def channel_settings() -> dict:
    return {"email": {"smtp_url": config.smtp_url(),
                      "from": os.environ.get("AQ_MAIL_FROM", "academic-quality@college.example.edu.cn")},
            "in_app": {}}


class NotificationService(MessagingService):
    name = "notification"
    store = Store(tables.MESSAGING)
    roster = RpcProxy("roster")
    channels = load_channels(channel_settings())

    @event_handler("warnings.changed")
    def on_warnings_changed(self, event):
        students = sorted({c["student_id"] for c in event["data"]["changes"]})
        people = {sid: handlers.people_for_student(p) for sid, p in self.roster.responsibles(students).items()}
        with self.store.handling(event) as uow:
            handlers.on_warning_changes(uow, event, people)
        self._deliver(event["correlation_id"])

    @event_handler("assessment.course_flags_changed")
    def on_course_flags_changed(self, event):
        officers = self.roster.officers()
        with self.store.handling(event) as uow:
            handlers.on_course_flags(uow, event, officers)
        self._deliver(event["correlation_id"])

    @timer(interval=float(os.environ.get("AQ_DELIVERY_POLL_SECONDS", "2")))
    def deliver_due(self):
        self._deliver(None)

    def _deliver(self, correlation_id: str | None) -> None:
        while True:
            claimed = handlers.claim_due(self.store.engine, lease_seconds=LEASE_SECONDS, correlation_id=correlation_id)
            if not claimed:
                return
            contacts = {c["id"]: c for c in self.roster.contacts(handlers.recipients_of(claimed))} \
                if handlers.recipients_of(claimed) else {}
            handlers.deliver(self.store.engine, claimed, self.channels, contacts)

    @rpc
    def list_notices(self, recipient_id: str | None = None) -> list[dict]:
        with self.store.engine.connect() as conn:
            return queries.list_notices(conn, recipient_id=recipient_id)

    @rpc
    def inbox(self, recipient_id: str) -> list[dict]:
        with self.store.engine.connect() as conn:
            return queries.inbox(conn, recipient_id)

    def trace_details(self, correlation_id: str) -> dict:
        with self.store.engine.connect() as conn:
            return {"notices": queries.list_notices(conn, correlation_id=correlation_id),
                    "pending_deliveries": handlers.pending_count(conn, correlation_id)}
