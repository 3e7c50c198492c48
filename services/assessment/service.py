"""The assessment service's nameko entrypoints: thin adapters over handlers and queries."""
from __future__ import annotations

import base64
import os
import uuid
from datetime import date, datetime

from services.assessment import handlers, queries, tables
from services.assessment.domain.outcomes import validate_outcome_rows
from shared.academic.semesters import Semester, SemesterError
from shared.clock import college_timezone, event_time
from shared.files.report import FileRejected
from shared.messaging.consumer import event_handler
from shared.messaging.rpc import RpcProxy, rpc
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

    # --- projections: the roster, advising's tasks and the warnings, from their events only ---------------------
    @event_handler("roster.imported")
    def on_roster_imported(self, event):
        with self.store.handling(event) as uow:
            handlers.project_roster(uow, event["data"], event["time"])

    @event_handler("advising.tasks_changed")
    def on_tasks_changed(self, event):
        with self.store.handling(event) as uow:
            handlers.project_tasks(uow, event["data"]["tasks"], event["time"], event_time(event).date().isoformat())

    @event_handler("warnings.changed")
    def on_warnings_changed(self, event):
        with self.store.handling(event) as uow:
            handlers.project_warnings(uow, event["data"]["changes"], event["time"])

    @event_handler("advising.symposium_changed")
    def on_symposium_changed(self, event):
        with self.store.handling(event) as uow:
            handlers.project_symposium(uow, event["data"]["items"], event["time"])

    # --- outcomes (files.md "Outcomes"): assessment owns them ----------------------------------------------------
    @rpc
    def import_outcomes(self, filename: str, content_b64: str, imported_by: str = "unknown") -> dict:
        data = base64.b64decode(content_b64)
        import_id = "O-" + uuid.uuid4().hex[:12]
        with self.store.command(import_id) as uow:
            try:
                records = validate_outcome_rows(filename, data, handlers.known_students(uow.conn),
                                                handlers.known_majors(uow.conn))
            except FileRejected as rejected:
                return {"status": "rejected", "problems": rejected.to_dict()["problems"],
                        "report": rejected.as_text()}
            summary = handlers.store_outcomes(uow, import_id, filename, data, imported_by, records)
        return {"status": "accepted", **summary}

    @rpc
    def outcomes_summary(self) -> dict:
        with self.store.engine.connect() as conn:
            return {**queries.outcome_summary(conn), "projections": queries.projection_summary(conn)}

    # --- indicators -----------------------------------------------------------------------------------------------
    @rpc
    def class_indicators(self, semester: str, as_of: str | None = None) -> dict:
        checked = _check_semester(semester)
        if checked:
            return checked
        with self.store.engine.connect() as conn:
            return {"status": "ok", "classes": queries.class_indicator_list(conn, semester, _as_of(as_of))}

    @rpc
    def head_teacher_scorecard(self, staff_id: str, semester: str, as_of: str | None = None) -> dict:
        checked = _check_semester(semester)
        if checked:
            return checked
        with self.store.engine.connect() as conn:
            card = queries.head_teacher_card(conn, staff_id, semester, _as_of(as_of))
        if card is None:
            return {"status": "not_found", "message": f"{staff_id} is head teacher of no class in the roster"}
        return {"status": "ok", **card}

    @rpc
    def department_scorecard(self, major: str, year: int, as_of: str | None = None) -> dict:
        with self.store.engine.connect() as conn:
            card = queries.department_card(conn, major, int(year), _as_of(as_of))
        if card is None:
            return {"status": "not_found", "message": f"no major {major!r} in the roster"}
        return {"status": "ok", **card}

    @rpc
    def semester_report(self, semester: str, as_of: str | None = None) -> dict:
        checked = _check_semester(semester)
        if checked:
            return checked
        with self.store.engine.connect() as conn:
            return {"status": "ok", **queries.semester_report_data(conn, semester, _as_of(as_of))}

    @rpc
    def list_flags(self, semester: str | None = None) -> list[dict]:
        with self.store.engine.connect() as conn:
            return queries.list_flags(conn, semester)

    def trace_details(self, correlation_id: str) -> dict:
        with self.store.engine.connect() as conn:
            return {"flags": queries.flags_for(conn, correlation_id)}


def _as_of(text: str | None) -> date:
    """The day overdue is judged on: given, or today in the college's time zone."""
    return date.fromisoformat(text) if text else datetime.now(college_timezone()).date()


def _check_semester(code: str) -> dict | None:
    try:
        Semester.parse(code)
    except SemesterError:
        return {"status": "rejected", "message": f"not a semester code: {code!r} (write it as 2023-2024-1)"}
    return None
