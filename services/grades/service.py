"""The grades service's nameko entrypoints: thin adapters over handlers and queries."""
from __future__ import annotations

import base64

from nameko.rpc import RpcProxy, rpc

from services.grades import handlers, queries, tables
from services.grades.domain.rows import student_ids_in, validate_grade_rows
from shared.files.report import FileRejected
from shared.messaging.service_base import MessagingService
from shared.messaging.store import Store


class GradesService(MessagingService):
    name = "grades"
    store = Store(tables.MESSAGING)
    roster = RpcProxy("roster")

    @rpc
    def upload(self, filename: str, content_b64: str, uploaded_by: str = "unknown") -> dict:
        data = base64.b64decode(content_b64)
        try:
            # The roster is asked first, outside the transaction: validation needs every student's name.
            students = self.roster.lookup_students(sorted(student_ids_in(filename, data)))
            records = validate_grade_rows(filename, data, {sid: s["name"] for sid, s in students.items()})
        except FileRejected as rejected:
            return {"status": "rejected", "problems": rejected.to_dict()["problems"], "report": rejected.as_text()}
        upload_id = handlers.new_upload_id()
        with self.store.command(upload_id) as uow:
            summary = handlers.store_upload(uow, upload_id, filename, data, uploaded_by, records)
        return {"status": "accepted", **summary}

    @rpc
    def history(self, student_id: str, course_code: str | None = None) -> list[dict]:
        with self.store.engine.connect() as conn:
            return queries.history(conn, student_id, course_code)

    @rpc
    def summary(self) -> dict:
        with self.store.engine.connect() as conn:
            return {"records": queries.record_count(conn)}

    def trace_details(self, correlation_id: str) -> dict:
        with self.store.engine.connect() as conn:
            return {"upload": queries.upload_summary(conn, correlation_id)}
