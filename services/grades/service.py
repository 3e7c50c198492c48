"""The grades service's nameko entrypoints: thin adapters over handlers and queries."""
from __future__ import annotations

import base64
import hashlib
import json
import logging
import os

from services.grades import handlers, queries, tables
from services.grades.domain.rows import check_grade_file, grade_table, released_table
from services.grades.spool import Spool
from shared.files.report import FileRejected
from shared.messaging.consumer import Reject, event_handler
from shared.messaging.rpc import RpcProxy, rpc
from shared.messaging.service_base import MessagingService
from shared.messaging.store import Store
from shared.messaging.unit_of_work import AlreadyProcessed, UnitOfWork

log = logging.getLogger(__name__)
RECORDS_PER_EVENT = handlers.records_per_event(os.environ)


def _rejection(rejected: FileRejected) -> dict:
    return {"status": "rejected", "problems": rejected.to_dict()["problems"], "report": rejected.as_text()}


class GradesService(MessagingService):
    name = "grades"
    store = Store(tables.MESSAGING)
    roster = RpcProxy("roster")

    def _validated(self, open_table, spool: Spool) -> None:
        """Stream the table through validation into ``spool``; raises FileRejected with every problem. The roster
        is asked for the names of the students the file names once validation has read them, outside any
        transaction."""
        def names_of(ids: list[str]) -> dict[str, str]:
            return {sid: s["name"] for sid, s in self.roster.lookup_students(ids).items()}
        problems = check_grade_file(open_table, names_of, spool.extend)
        if problems:
            raise FileRejected(problems)

    @rpc
    def upload(self, filename: str, content_b64: str, uploaded_by: str = "unknown", sheet: str | None = None) -> dict:
        data = base64.b64decode(content_b64)
        del content_b64
        with Spool() as spool:
            try:
                self._validated(lambda: grade_table(filename, data, sheet=sheet), spool)
            except FileRejected as rejected:
                return _rejection(rejected)
            upload_id = handlers.new_upload_id()
            with self.store.command(upload_id) as uow:
                summary = handlers.store_upload(uow, upload_id, filename, hashlib.sha256(data).hexdigest(),
                                                uploaded_by, spool, batch_size=RECORDS_PER_EVENT)
        return {"status": "accepted", **summary}

    @event_handler("gradesystem.results_released")
    def on_results_released(self, event):
        """Released results are an upload (files.md): the same validation, corrections and cascade; the batch id is
        the upload id, so `aq trace <batch_id>` follows it. An invalid batch is told to the grade system
        (grades.results_rejected) and parked at once with its report (aq dlq list)."""
        data = event["data"]
        batch_id = data["batch_id"]
        with Spool() as spool:
            try:
                self._validated(lambda: released_table(batch_id, data["records"]), spool)
            except FileRejected as rejected:
                self._tell_rejected(event, batch_id, rejected)
                raise Reject(rejected.as_text()) from None
            with self.store.handling(event) as uow:
                upload_id = handlers.upload_id_for_batch(uow.conn, batch_id)
                uow.correlation_id = batch_id
                digest = hashlib.sha256(json.dumps(data["records"], sort_keys=True, default=str).encode()).hexdigest()
                summary = handlers.store_upload(uow, upload_id, f"gradesystem:{batch_id}", digest,
                                                data["released_by"], spool, batch_size=RECORDS_PER_EVENT)
                uow.announce("grades.results_accepted", {
                    "batch_id": batch_id, "upload_id": upload_id,
                    **{k: summary[k] for k in ("rows", "new", "corrected", "unchanged")}})

    def _tell_rejected(self, event: dict, batch_id: str, rejected: FileRejected) -> None:
        # Its own unit of work and its own processed mark: committed although the event is parked, told once
        # however often the event is replayed while it is still bad.
        try:
            with UnitOfWork(self.store.engine, self.name, self.store.tables, handling=event,
                            handler="on_results_released.rejected", correlation_id=batch_id) as uow:
                uow.announce("grades.results_rejected", {
                    "batch_id": batch_id, "count": len(rejected.problems), "report": rejected.as_text(),
                    "problems": [{k: p.to_dict()[k] for k in ("row", "column", "value", "reason_zh", "reason_en")}
                                 for p in rejected.problems]})
        except AlreadyProcessed:
            log.info("batch %s rejected again; the grade system was told before", batch_id)

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
