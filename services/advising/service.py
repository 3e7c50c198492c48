"""The advising service's nameko entrypoints: thin adapters over handlers and queries.

Roster questions are asked before a unit of work opens, never inside one (a transaction is not held across an RPC),
and a read connection is closed before a unit of work opens (on SQLite a process has one connection).
"""
from __future__ import annotations

import logging
import os

from nameko.timer import timer

from services.advising import ack_handlers, handlers, list_handlers, queries, tables
from services.advising.clock import Clock, ClockLocked, parse_moment
from services.advising.domain import handbook as handbook_doc
from services.advising.domain.calendar import CalendarError, load_calendar, semester_dates, semesters_to_open
from services.advising.domain.reminders import ESCALATED, ReminderSettings
from shared.clock import event_time
from shared.messaging.consumer import event_handler
from shared.messaging.rpc import RpcProxy, rpc
from shared.messaging.service_base import MessagingService
from shared.messaging.store import Store

log = logging.getLogger(__name__)

# How often the advising timer opens calendar semesters and sends reminders (seconds).
TICK_SECONDS = float(os.environ.get("AQ_ADVISING_TICK_SECONDS", "300"))
# How often the lists timer looks for semesters whose counselor lists may have changed (seconds).
LIST_TICK_SECONDS = float(os.environ.get("AQ_COUNSELOR_LIST_TICK_SECONDS", "10"))


class AdvisingService(MessagingService):
    name = "advising"
    store = Store(tables.MESSAGING)
    roster = RpcProxy("roster")
    clock = Clock()

    # --- events ------------------------------------------------------------------------------------------------

    @event_handler("warnings.changed")
    def on_warnings_changed(self, event):
        changes = event["data"]["changes"]
        people = handlers.responsibles_from(self.roster.responsibles(sorted({c["student_id"] for c in changes})))
        with self.store.handling(event) as uow:
            handlers.on_warning_changes(uow, changes, people, event_time(event))
            list_handlers.record_warnings(uow, changes, event_time(event))

    @event_handler("grades.records_stored")
    def on_records_stored(self, event):
        records = event["data"]["records"]
        cheating = handlers.cheating_students(records)
        people = handlers.responsibles_from(self.roster.responsibles(cheating)) if cheating else {}
        with self.store.handling(event) as uow:
            handlers.on_cheating_records(uow, records, people, event_time(event))
            list_handlers.record_results(uow, records)

    @event_handler("assessment.course_flags_changed")
    def on_course_flags_changed(self, event):
        officers = self.roster.officers()
        with self.store.handling(event) as uow:
            handlers.on_course_flags(uow, event["data"]["flags"], officers, event_time(event))

    @event_handler("notification.acknowledgement_overdue")
    def on_acknowledgement_overdue(self, event):
        """A notice not acknowledged (回执) in time: the head teacher contacts the family (ack_handlers.py)."""
        entries = event["data"]["acknowledgements"]
        people = handlers.responsibles_from(self.roster.responsibles(sorted({e["student_id"] for e in entries})))
        with self.store.handling(event) as uow:
            ack_handlers.on_acknowledgement_overdue(uow, entries, people, event_time(event))

    @event_handler("roster.imported")
    def on_roster_imported(self, event):
        data = event["data"]
        with self.store.engine.connect() as conn:
            affected = handlers.affected_tasks(conn, data)
        students = sorted({t["student_id"] for t in affected if t["student_id"]})
        people = self.roster.responsibles(students) if students else {}
        officers = self.roster.officers() if affected else {}
        with self.store.handling(event) as uow:
            handlers.on_roster_imported(uow, data, people, officers, self.clock.now())

    # --- the timer: calendar semesters and reminders -----------------------------------------------------------

    @timer(interval=TICK_SECONDS)
    def tick(self):
        now = self.clock.now()
        try:
            self._open_calendar_semesters(now)
        except CalendarError as exc:
            log.error("semester calendar: %s", exc)
        except Exception:
            # The next tick tries again; reminders must not wait for the calendar (or the roster) to be fixed.
            log.exception("opening the calendar's semester failed")
        self._remind(now)

    def _reminder_settings(self) -> ReminderSettings:
        defaults = ReminderSettings()

        def days(key: str, default: int) -> int:
            value = self.config.get(key)
            return default if value in (None, "") else int(value)

        return ReminderSettings(days("REMIND_DAYS_BEFORE", defaults.days_before),
                                days("OVERDUE_REPEAT_DAYS", defaults.overdue_repeat_days),
                                days("ESCALATION_GRACE_DAYS", defaults.grace_days))

    def _calendar(self):
        return load_calendar(self.config.get("SEMESTER_CALENDAR"))

    def _open_calendar_semesters(self, now) -> list[dict]:
        calendar = self._calendar()
        if not calendar:
            return []
        with self.store.engine.connect() as conn:
            opened = handlers.opened_semesters(conn)
        results = []
        for dates in semesters_to_open(calendar, handlers.college_day(now), opened):
            classes = self.roster.classes()
            if not classes:
                log.info("semester %s not opened yet: the roster has no classes", dates.semester)
                break
            officers = self.roster.officers()
            with self.store.command(f"semester:{dates.semester}") as uow:
                results.append(handlers.open_semester(uow, dates, classes, officers, "calendar", now))
            log.info("semester %s opened: %s", dates.semester, results[-1])
        return results

    def _remind(self, now) -> list[dict]:
        today = handlers.college_day(now)
        with self.store.engine.connect() as conn:
            pending = handlers.pending_reminders(conn, today, self._reminder_settings())
        if not pending:
            return []
        officers = self.roster.officers() if any(r.reminder == ESCALATED for r in pending) else None
        with self.store.command(f"reminders:{today.isoformat()}") as uow:
            return handlers.record_reminders(uow, pending, officers, now)

    # --- counselor lists (list_handlers.py) --------------------------------------------------------------------

    def _lists_on(self) -> bool:
        return str(self.config.get("COUNSELOR_LISTS", "on")).lower() not in ("off", "0", "false", "no")

    @timer(interval=LIST_TICK_SECONDS)
    def lists_tick(self):
        if self._lists_on():
            self._issue_lists()

    def _issue_lists(self) -> list[dict]:
        """Issue the lists of every semester that has been quiet for the settle period since it was touched."""
        settle = float(self.config.get("COUNSELOR_LIST_SETTLE_SECONDS") or 60)
        with self.store.engine.connect() as conn:
            marks = list_handlers.settled_marks(conn, handlers.utc_now(), settle)
        issued = []
        for mark in marks:
            try:
                with self.store.engine.connect() as conn:
                    failed, warned = list_handlers.candidates(conn, mark["semester"])
                    end = list_handlers.semester_end(conn, mark["semester"], self._calendar_or_none())
                students = sorted(set(failed) | set(warned))
                people = self.roster.responsibles(students) if students else {}
                with self.store.command(mark["correlation_id"]) as uow:
                    issued.extend(list_handlers.issue_lists(uow, mark, failed, warned, people, end,
                                                            self.clock.now()))
            except Exception:
                # The mark stays: the next tick tries again (the roster may be away).
                log.exception("counselor lists of %s not issued", mark["semester"])
        return issued

    def _calendar_or_none(self):
        try:
            return self._calendar()
        except CalendarError as exc:
            log.error("semester calendar: %s", exc)
            return {}

    @rpc
    def issue_lists(self) -> dict:
        """Issue now whatever lists the timer would issue (settled semesters only)."""
        if not self._lists_on():
            return {"status": "rejected", "message": "counselor lists are off (AQ_COUNSELOR_LISTS=off)"}
        issued = self._issue_lists()
        return {"status": "done", "issued": [{k: r[k] for k in ("list_id", "semester", "cohort", "version",
                                                                "students")} for r in issued]}

    @rpc
    def list_lists(self, semester: str | None = None, cohort: str | None = None, status: str = "all",
                   confirmer: str | None = None) -> list[dict]:
        with self.store.engine.connect() as conn:
            return queries.list_lists(conn, semester, cohort, status, confirmer)

    @rpc
    def get_list(self, list_id: str) -> dict | None:
        with self.store.engine.connect() as conn:
            return queries.get_list(conn, list_id)

    @rpc
    def confirm_list(self, list_id: str, confirmed_by: str, comment: str | None = None) -> dict:
        with self.store.command("counselor_list:" + list_id) as uow:
            return list_handlers.confirm_list(uow, list_id, confirmed_by, comment, self.clock.now())

    @rpc
    def tasks_for_student(self, student_id: str) -> dict:
        """The student's tasks (with records and history) and the counselor lists they were on."""
        with self.store.engine.connect() as conn:
            return queries.tasks_for_student(conn, student_id)

    # --- the clock (test mode) ---------------------------------------------------------------------------------

    @rpc
    def get_clock(self) -> dict:
        return {"now": self.clock.now().isoformat(), "moved": self.clock.moved, "settable": self.clock.settable}

    @rpc
    def set_clock(self, when: str | None) -> dict:
        try:
            self.clock.set(when)
        except ClockLocked as exc:
            return {"status": "rejected", "message": str(exc)}
        except ValueError as exc:
            return {"status": "rejected", "message": f"not a date or date-time: {exc}"}
        return {"status": "set", "now": self.clock.now().isoformat()}

    @rpc
    def run_reminders(self, now: str | None = None) -> dict:
        """Send the reminders due now (what the timer does). ``now`` only in test mode."""
        if now is not None and not self.clock.settable:
            return {"status": "rejected", "message": "a time other than now is given only in test mode"}
        moment = parse_moment(now) if now else self.clock.now()
        return {"status": "done", "reminders": self._remind(moment)}

    # --- tasks and records -------------------------------------------------------------------------------------

    @rpc
    def list_tasks(self, assignee: str | None = None, status: str = "all", semester: str | None = None,
                   kind: str | None = None, student_id: str | None = None, class_name: str | None = None,
                   escalated_to: str | None = None, overdue: bool = False) -> list[dict]:
        with self.store.engine.connect() as conn:
            return queries.list_tasks(conn, assignee, status, semester=semester, kind=kind, student_id=student_id,
                                      class_name=class_name, escalated_to=escalated_to,
                                      overdue_on=self.clock.today() if overdue else None)

    @rpc
    def get_task(self, task_id: str) -> dict | None:
        with self.store.engine.connect() as conn:
            return queries.get_task(conn, task_id)

    @rpc
    def close_task(self, task_id: str, closed_by: str, record: dict) -> dict:
        with self.store.command("task:" + task_id) as uow:
            return handlers.close_task(uow, task_id, closed_by, record, self.clock.now())

    @rpc
    def submit_task(self, task_id: str, submitted_by: str, record: dict) -> dict:
        with self.store.command("task:" + task_id) as uow:
            return handlers.submit_review(uow, task_id, submitted_by, record, self.clock.now())

    @rpc
    def review_task(self, task_id: str, reviewer: str, decision: str, comment: str | None = None) -> dict:
        with self.store.command("task:" + task_id) as uow:
            return handlers.review_task(uow, task_id, reviewer, {"decision": decision, "comment": comment},
                                        self.clock.now())

    @rpc
    def list_records(self, assignee: str | None = None, kind: str | None = None, semester: str | None = None,
                     student_id: str | None = None, class_name: str | None = None) -> list[dict]:
        with self.store.engine.connect() as conn:
            return queries.list_records(conn, assignee=assignee, kind=kind, semester=semester,
                                        student_id=student_id, class_name=class_name)

    @rpc
    def open_semester(self, semester: str, start: str | None = None, weeks: int | None = None,
                      opened_by: str = "cli") -> dict:
        """Create a semester's recurring duties: dates from the calendar, or ``start`` (and ``weeks``)."""
        try:
            known = self._calendar().get(semester)
            if start is None and known is None:
                return {"status": "rejected", "message": f"{semester} is not in the semester calendar "
                        f"({self.config.get('SEMESTER_CALENDAR') or 'none configured'}); give its start date"}
            if start is None:
                dates = semester_dates(semester, known.start, weeks if weeks is not None else known.weeks)
            else:
                dates = semester_dates(semester, start, weeks)
        except CalendarError as exc:
            return {"status": "rejected", "message": str(exc)}
        classes = self.roster.classes()
        if not classes:
            return {"status": "rejected", "message": "the roster has no classes yet (aq roster import)"}
        officers = self.roster.officers()
        with self.store.command(f"semester:{semester}") as uow:
            return {"status": "opened", **handlers.open_semester(uow, dates, classes, officers, opened_by,
                                                                 self.clock.now())}

    @rpc
    def list_semesters(self) -> list[dict]:
        with self.store.engine.connect() as conn:
            return queries.semesters(conn)

    @rpc
    def export_handbook(self, staff_id: str, semester: str, fmt: str = "html") -> dict:
        """A staff member's handbook for a semester as an HTML or Markdown document."""
        if fmt not in handbook_doc.FORMATS:
            return {"status": "rejected", "message": f"format {fmt!r}: use html or md"}
        with self.store.engine.connect() as conn:
            tasks = queries.handbook_tasks(conn, staff_id, semester)
        students = sorted({t["student_id"] for t in tasks if t["student_id"]})
        names = {sid: s["name"] for sid, s in self.roster.lookup_students(students).items()} if students else {}
        content = handbook_doc.handbook(staff_id, semester, tasks, names=names, today=self.clock.today())
        return {"status": "exported", "tasks": len(tasks), "document": handbook_doc.render(content, fmt)}

    # --- symposium feedback ------------------------------------------------------------------------------------

    @rpc
    def raise_item(self, item: dict) -> dict:
        with self.store.command("symposium") as uow:
            return handlers.raise_item(uow, item, self.clock.now())

    @rpc
    def route_item(self, item_id: str, routed_by: str, department: str | None = None,
                   teacher: str | None = None) -> dict:
        """Route to a department (a major: its department head answers) or a teacher (staff id)."""
        if bool(department) == bool(teacher):
            return {"status": "rejected", "message": "route to a department or to a teacher (one of them)"}
        if department:
            assignee = self.roster.officers()["department_head_by_major"].get(department)
            kind, target = "department", department
        else:
            assignee, kind, target = teacher, "teacher", teacher
        with self.store.command("symposium:" + item_id) as uow:
            return handlers.route_item(uow, item_id, kind, target, assignee, routed_by, self.clock.now())

    @rpc
    def answer_item(self, item_id: str, answered_by: str, record: dict) -> dict:
        with self.store.command("symposium:" + item_id) as uow:
            return handlers.answer_item(uow, item_id, answered_by, record, self.clock.now())

    @rpc
    def close_item(self, item_id: str, closed_by: str, outcome: str) -> dict:
        with self.store.command("symposium:" + item_id) as uow:
            return handlers.close_item(uow, item_id, closed_by, outcome, self.clock.now())

    @rpc
    def list_items(self, open_only: bool = False, semester: str | None = None,
                   assignee: str | None = None) -> list[dict]:
        with self.store.engine.connect() as conn:
            return queries.list_items(conn, self.clock.today(), open_only=open_only, semester=semester,
                                      assignee=assignee)

    def trace_details(self, correlation_id: str) -> dict:
        with self.store.engine.connect() as conn:
            return {"tasks": queries.list_tasks(conn, correlation_id=correlation_id)}
