"""The warnings service's nameko entrypoints: thin adapters over handlers and queries."""
from __future__ import annotations

import logging
import os
from datetime import datetime, timezone

from nameko.timer import timer

from services.warnings import handlers, queries, release, requests, tables
from services.warnings.domain import whatif
from services.warnings.policy_store import PolicyBook, list_installed
from shared.messaging.consumer import event_handler
from shared.messaging.rpc import RpcProxy, rpc
from shared.messaging.service_base import MessagingService
from shared.messaging.store import Store


log = logging.getLogger(__name__)

# How often confirmed batches whose objection window has passed are looked for (seconds).
RELEASE_POLL_SECONDS = float(os.environ.get("AQ_WARNINGS_RELEASE_POLL_SECONDS", "60"))


def _now() -> datetime:
    return datetime.now(timezone.utc)


class WarningsService(MessagingService):
    name = "warnings"
    store = Store(tables.MESSAGING)
    # The policy in force: the latest installed version, else AQ_WARNING_POLICY or the default (read at start, so
    # the service does not start on a file it cannot apply).
    policies = PolicyBook()
    roster = RpcProxy("roster")      # cohorts and classes for what-if answers

    @event_handler("grades.records_stored")
    def on_records_stored(self, event):
        with self.store.handling(event) as uow:
            handlers.take_records(uow, event["data"]["records"], self.policies)

    @rpc
    def list_warnings(self, semester: str | None = None, status: str = "active") -> list[dict]:
        with self.store.engine.connect() as conn:
            return queries.list_warnings(conn, semester, status)

    @rpc
    def history(self, student_id: str) -> dict:
        """A student's warning changes across semesters (reasons, policy version, review and release) and current
        standings, for the timeline (aq warnings history)."""
        with self.store.engine.connect() as conn:
            return queries.history(conn, student_id)

    @rpc
    def what_if(self, policy_text: str, semester: str | None = None, source: str = "policy") -> dict:
        """Who the policy in ``policy_text`` (named ``source`` in error messages) would warn, escalate, downgrade
        or lift compared with today. Writes nothing and announces nothing (``aq policy what-if``)."""
        with self.store.engine.connect() as conn:
            histories = queries.grade_record_histories(conn)
        return whatif.answer(histories, self.current_policy(), policy_text, semester, self.roster.responsibles,
                             source)

    def current_policy(self):
        with self.store.engine.connect() as conn:
            return self.policies.current(conn)

    # --- review before release (docs/warnings.md "Review and release") ----------------------------------------

    @rpc
    def list_pending(self, semester: str | None = None, batch_id: int | None = None,
                     everything: bool = False) -> list[dict] | dict:
        body, rejected = requests.load(requests.PendingRequest,
                                       {"semester": semester, "batch_id": batch_id, "everything": everything})
        if rejected:
            return rejected
        with self.store.engine.connect() as conn:
            return release.list_batches(conn, **body)

    @rpc
    def confirm_batch(self, batch_id: int, confirmed_by: str) -> dict:
        body, rejected = requests.load(requests.ConfirmRequest, {"batch_id": batch_id, "confirmed_by": confirmed_by})
        if rejected:
            return rejected
        correlation_id = self._batch_correlation(body["batch_id"])
        if correlation_id is None:
            return {"status": "rejected", "message": f"no release batch {body['batch_id']}"}
        with self.store.command(correlation_id) as uow:
            return release.confirm(uow, body["batch_id"], body["confirmed_by"], self.policies.current(uow.conn),
                                   _now())

    @rpc
    def exclude_student(self, batch_id: int, student_id: str, reason: str, excluded_by: str) -> dict:
        body, rejected = requests.load(requests.ExcludeRequest, {"batch_id": batch_id, "student_id": student_id,
                                                                 "reason": reason, "excluded_by": excluded_by})
        if rejected:
            return rejected
        correlation_id = self._batch_correlation(body["batch_id"])
        if correlation_id is None:
            return {"status": "rejected", "message": f"no release batch {body['batch_id']}"}
        with self.store.command(correlation_id) as uow:
            return release.exclude(uow, body["batch_id"], body["student_id"], body["reason"], body["excluded_by"],
                                   _now())

    @rpc
    def install_policy(self, policy_text: str, installed_by: str) -> dict:
        body, rejected = requests.load(requests.InstallRequest, {"policy_text": policy_text,
                                                                 "installed_by": installed_by})
        if rejected:
            return rejected
        with self.store.command(handlers.installation_id(body["policy_text"])) as uow:
            return handlers.install_policy(uow, body["policy_text"], body["installed_by"], self.policies, _now())

    @rpc
    def list_policies(self) -> dict:
        with self.store.engine.connect() as conn:
            in_force = self.policies.in_force(conn)
            return {"in_force": in_force.policy.version, "installed": list_installed(conn),
                    "review_required": in_force.policy.review_required,
                    "objection_window_hours": in_force.policy.objection_window_hours}

    @timer(interval=RELEASE_POLL_SECONDS)
    def release_due(self):
        """Announce confirmed batches whose objection window has passed (every instance looks; one releases)."""
        now = _now()
        with self.store.engine.connect() as conn:
            due = release.due_batches(conn, now)
        for batch_id, correlation_id in due:
            with self.store.command(correlation_id) as uow:
                released = release.release_due(uow, batch_id, now)
            if released is not None:
                log.info("released batch %s (%s): %s changes announced", batch_id, correlation_id, released)

    def _batch_correlation(self, batch_id: int) -> str | None:
        with self.store.engine.connect() as conn:
            return release.batch_correlation(conn, batch_id)

    def trace_details(self, correlation_id: str) -> dict:
        with self.store.engine.connect() as conn:
            return {"changes": release.released_changes(conn, correlation_id),
                    "waiting_for_review": release.waiting_count(conn, correlation_id)}
