"""The assessment service's nameko entrypoints: thin adapters over handlers and queries."""
from __future__ import annotations

import os

from nameko.rpc import RpcProxy, rpc

from services.assessment import handlers, queries, tables
from shared.messaging.consumer import event_handler
from shared.messaging.service_base import MessagingService
from shared.messaging.store import Store

THRESHOLD = float(os.environ.get("AQ_FAILURE_RATE_THRESHOLD", "0.15"))
HOME_COLLEGE = os.environ.get("AQ_HOME_COLLEGE", "机电工程学院")


class AssessmentService(MessagingService):
    name = "assessment"
    store = Store(tables.MESSAGING)
    roster = RpcProxy("roster")

    @event_handler("grades.records_stored")
    def on_records_stored(self, event):
        data = event["data"]
        with self.store.handling(event) as uow:
            complete = handlers.take_records(uow, data["upload_id"], data["records"])
            if complete:
                self._decide(uow, data["upload_id"])

    @event_handler("grades.upload_completed")
    def on_upload_completed(self, event):
        data = event["data"]
        with self.store.handling(event) as uow:
            if handlers.upload_completed(uow, data["upload_id"], data["batches"]):
                self._decide(uow, data["upload_id"])

    def _decide(self, uow, upload_id: str) -> None:
        students = handlers.students_of(uow.conn, handlers.offerings_to_decide(uow.conn, upload_id))
        people = self.roster.responsibles(sorted(students)) if students else {}
        majors_of = {sid: p["major"] for sid, p in people.items() if p.get("major")}
        handlers.decide_flags(uow, upload_id, majors_of, THRESHOLD, HOME_COLLEGE)

    @rpc
    def list_flags(self, semester: str | None = None) -> list[dict]:
        with self.store.engine.connect() as conn:
            return queries.list_flags(conn, semester)

    def trace_details(self, correlation_id: str) -> dict:
        with self.store.engine.connect() as conn:
            return {"flags": queries.flags_for(conn, correlation_id)}
