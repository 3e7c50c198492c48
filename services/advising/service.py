"""The advising service's nameko entrypoints: thin adapters over handlers and queries."""
from __future__ import annotations

from nameko.rpc import RpcProxy, rpc

from services.advising import handlers, queries, tables
from shared.clock import event_time
from shared.messaging.consumer import event_handler
from shared.messaging.service_base import MessagingService
from shared.messaging.store import Store


class AdvisingService(MessagingService):
    name = "advising"
    store = Store(tables.MESSAGING)
    roster = RpcProxy("roster")

    @event_handler("warnings.changed")
    def on_warnings_changed(self, event):
        changes = event["data"]["changes"]
        people = handlers.responsibles_from(self.roster.responsibles(sorted({c["student_id"] for c in changes})))
        with self.store.handling(event) as uow:
            handlers.on_warning_changes(uow, changes, people, event_time(event))

    @event_handler("grades.records_stored")
    def on_records_stored(self, event):
        records = event["data"]["records"]
        cheating = handlers.cheating_students(records)
        people = handlers.responsibles_from(self.roster.responsibles(cheating)) if cheating else {}
        with self.store.handling(event) as uow:
            handlers.on_cheating_records(uow, records, people, event_time(event))

    @event_handler("assessment.course_flags_changed")
    def on_course_flags_changed(self, event):
        officers = self.roster.officers()
        with self.store.handling(event) as uow:
            handlers.on_course_flags(uow, event["data"]["flags"], officers, event_time(event))

    @rpc
    def list_tasks(self, assignee: str | None = None, status: str = "all") -> list[dict]:
        with self.store.engine.connect() as conn:
            return queries.list_tasks(conn, assignee, status)

    @rpc
    def close_task(self, task_id: str, closed_by: str, record: dict) -> dict:
        with self.store.command("task:" + task_id) as uow:
            return handlers.close_task(uow, task_id, closed_by, record)

    def trace_details(self, correlation_id: str) -> dict:
        with self.store.engine.connect() as conn:
            return {"tasks": queries.list_tasks(conn, correlation_id=correlation_id)}
