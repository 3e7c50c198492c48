"""The notification service's nameko entrypoints: thin adapters over handlers, delivery and queries.

Notices are decided when a warning change, course flag, task change or reminder arrives, and delivered right after
that commits; a timer delivers whatever is left (retries, a crash's leftovers, quiet-hour holds, digests that came
due). Contacts are asked of the roster just before a delivery, and never kept.
"""
from __future__ import annotations

import logging
import os
import random
from datetime import datetime, timedelta, timezone

import eventlet
from nameko.extensions import DependencyProvider
from nameko.timer import timer

from services.notification import acknowledgements, delivery, handlers, queries, settings as settings_module, tables
from services.notification.channels import available_channels, load_channels
from services.notification.domain.rendering import check_locale
from services.notification.domain.routing import check_channels, format_routes, parse_routes
from services.notification.domain.schedule import RateLimits
from shared.messaging.consumer import event_handler
from shared.messaging.rpc import RpcProxy, rpc
from shared.messaging.service_base import MessagingService
from shared.messaging.store import Store

log = logging.getLogger(__name__)


class Runtime(DependencyProvider):
    """The service's settings, channel plugins, clock and rate limits, built once per process.

    Configuration keys (besides the environment, see settings.py): ``CHANNELS`` replaces the channel sections,
    ``NOTIFICATION_ENV`` overlays environment variables, ``CLOCK`` (a callable giving an aware datetime) and
    ``RANDOM`` replace the clock and the jitter's random numbers — tests use them. With ``TEST_CLOCK`` on
    (AQ_TEST_CLOCK=1, never in production) the RPC ``set_clock`` moves the clock: it then runs on from the moment
    set, so end-to-end tests see reminders that are days away.
    """

    def setup(self):
        config = self.container.config
        env = {**os.environ, **{k: str(v) for k, v in (config.get("NOTIFICATION_ENV") or {}).items()}}
        self.settings = settings_module.load(env, channels=config.get("CHANNELS"))
        self.channels = load_channels(self.settings.channels)
        self.base_clock = config.get("CLOCK") or delivery.utc_now
        self.clock_settable = str(config.get("TEST_CLOCK", "")).strip().lower() in ("1", "true", "yes", "on")
        self.offset = timedelta(0)
        self.clock = lambda: self.base_clock() + self.offset
        if self.settings.acknowledgement.development_secret:
            log.warning("acknowledgement links are signed with the development key: set AQ_LINK_SECRET")
        self.rng = config.get("RANDOM") or random.random
        self.limits = RateLimits(settings_module.rate_limits(self.channels))
        self.pool = eventlet.GreenPool(self.settings.concurrency)

    def get_dependency(self, worker_ctx):
        return self

    def now(self):
        return self.clock().astimezone(timezone.utc)

    def deliverer(self, engine) -> delivery.Deliverer:
        return delivery.Deliverer(engine, self.channels, self.settings, self.clock, self.rng, self.limits)


class NotificationService(MessagingService):
    name = "notification"
    store = Store(tables.MESSAGING)
    roster = RpcProxy("roster")
    runtime = Runtime()

    @event_handler("warnings.changed")
    def on_warnings_changed(self, event):
        students = sorted({c["student_id"] for c in event["data"]["changes"]})
        people = {sid: handlers.people_for_student(p) for sid, p in self.roster.responsibles(students).items()}
        rt = self.runtime
        with self.store.handling(event) as uow:
            handlers.on_warning_changes(uow, event, people, rt.settings, rt.channels, rt.now())
        self._deliver(event["correlation_id"])

    @event_handler("assessment.course_flags_changed")
    def on_course_flags_changed(self, event):
        officers = self.roster.officers()
        rt = self.runtime
        with self.store.handling(event) as uow:
            handlers.on_course_flags(uow, event, officers, rt.settings, rt.channels, rt.now())
        self._deliver(event["correlation_id"])

    @event_handler("advising.tasks_changed")
    def on_tasks_changed(self, event):
        rt = self.runtime
        with self.store.handling(event) as uow:
            handlers.on_tasks_changed(uow, event, rt.settings, rt.now())
        self._deliver(event["correlation_id"])

    @event_handler("advising.reminders_due")
    def on_reminders_due(self, event):
        rt = self.runtime
        with self.store.handling(event) as uow:
            handlers.on_reminders_due(uow, event, rt.settings, rt.now())
        self._deliver(event["correlation_id"])

    @event_handler("warnings.release_pending")
    def on_release_pending(self, event):
        officers = self.roster.officers()
        rt = self.runtime
        with self.store.handling(event) as uow:
            handlers.on_release_pending(uow, event, officers, rt.settings, rt.channels, rt.now())
        self._deliver(event["correlation_id"])

    @event_handler("advising.counselor_list_issued")
    def on_counselor_list_issued(self, event):
        rt = self.runtime
        with self.store.handling(event) as uow:
            handlers.on_counselor_list(uow, event, rt.settings, rt.channels, rt.now())
        self._deliver(event["correlation_id"])

    @timer(interval=float(os.environ.get("AQ_DELIVERY_POLL_SECONDS", "2")))
    def deliver_due(self):
        self._deliver(None)

    @timer(interval=float(os.environ.get("AQ_ACK_POLL_SECONDS", "60")))
    def acknowledgement_reminders(self):
        """Reminders of notices not acknowledged, and overdue ones handed to the head teacher (via advising)."""
        rt = self.runtime
        done = acknowledgements.due_reminders(self.store.engine, self.store.command, rt.settings, rt.channels,
                                              rt.now())
        if done["reminded"]:
            self._deliver(None)

    def _deliver(self, correlation_id: str | None) -> None:
        rt = self.runtime
        engine = self.store.engine
        deliverer = rt.deliverer(engine)
        handlers.flush_task_notices(engine, rt.settings, rt.channels, deliverer.now())
        while True:
            rows, token, unconfirmed = deliverer.claim(correlation_id)
            if not rows:
                if unconfirmed:
                    continue
                break
            wanted = delivery.recipients_needing_addresses(rows, rt.channels)
            try:
                contacts = {c["id"]: c for c in self.roster.contacts(wanted)} if wanted else {}
            except Exception:       # roster away: give the notices back untouched, the timer tries again
                log.exception("could not fetch contacts from the roster; delivering later")
                deliverer.release(rows, token)
                break
            deliverer.deliver(rows, token, contacts, pool_map=rt.pool.imap)
        deliverer.announce(self.store.command)

    # --- read side and staff commands ------------------------------------------------------------------------

    @rpc
    def list_notices(self, recipient_id: str | None = None, statuses: list[str] | None = None,
                     correlation_id: str | None = None, kinds: list[str] | None = None) -> list[dict]:
        with self.store.engine.connect() as conn:
            return queries.list_notices(conn, correlation_id=correlation_id, recipient_id=recipient_id,
                                        statuses=statuses, kinds=kinds)

    @rpc
    def notice(self, notice_id: str) -> dict | None:
        with self.store.engine.connect() as conn:
            return queries.notice(conn, notice_id)

    @rpc
    def inbox(self, recipient_id: str) -> list[dict]:
        with self.store.engine.connect() as conn:
            return queries.inbox(conn, recipient_id)

    @rpc
    def resend(self, notice_id: str) -> dict:
        return delivery.resend(self.store.engine, notice_id, self.runtime.now())

    @rpc
    def set_preference(self, recipient_id: str, routes: str | None = None, locale: str | None = None) -> dict:
        try:
            if routes:
                parsed = parse_routes(routes)
                check_channels(parsed, available_channels())
                routes = format_routes(parsed)
            locale = check_locale(locale) if locale else None
        except ValueError as error:
            return {"status": "rejected", "message": str(error)}
        with self.store.engine.begin() as conn:
            saved = handlers.set_preference(conn, recipient_id, routes, locale, self.runtime.now())
        return {"status": "saved", **saved}

    @rpc
    def preferences(self) -> list[dict]:
        with self.store.engine.connect() as conn:
            return queries.preferences(conn)

    @rpc
    def notices_for_student(self, student_id: str) -> dict:
        """The notices about one student (to them, their guardian, and staff told of their warnings), with
        delivery status, and the acknowledgements asked of them (aq warnings history)."""
        with self.store.engine.connect() as conn:
            return queries.notices_for_student(conn, student_id)

    @rpc
    def task_items(self, recipient_id: str | None = None) -> list[dict]:
        with self.store.engine.connect() as conn:
            return queries.task_items(conn, recipient_id)

    @rpc
    def channels(self) -> dict:
        """Each enabled channel's health and settings (secrets left out), the routes and the timing rules."""
        rt = self.runtime
        pool = eventlet.GreenPool(len(rt.channels) or 1)
        health = dict(zip(rt.channels, pool.imap(lambda ch: ch.health(), rt.channels.values())))
        return {
            "channels": [{**ch.describe(), "healthy": health[name]} for name, ch in rt.channels.items()],
            "routes": {kind: format_routes(routes) for kind, routes in rt.settings.routes.items()},
            "locale": rt.settings.locale,
            "quiet_hours": [f"{w.recipient_kind}:{w.channel}={w.start:%H:%M}-{w.end:%H:%M}"
                            for w in rt.settings.quiet_hours],
            "digest_times": [f"{t:%H:%M}" for t in rt.settings.digest_times],
            "tell_tasks": rt.settings.tell_tasks,
            "timezone": str(rt.settings.zone),
        }

    # --- acknowledgements (the gateway's /ack/<token>; docs/notifications.md) -----------------------------------

    @rpc
    def open_acknowledgement(self, token: str, client: dict | None = None) -> dict:
        return acknowledgements.open_acknowledgement(self.store.engine, self.runtime.settings.acknowledgement, token,
                                                     client, self.runtime.now())

    @rpc
    def acknowledge(self, token: str, client: dict | None = None, signer_name: str | None = None) -> dict:
        return acknowledgements.acknowledge(self.store.engine, self.runtime.settings.acknowledgement, token, client,
                                            signer_name, self.runtime.now())

    @rpc
    def acknowledgements(self, semester: str | None = None, missing: bool = False,
                         student_id: str | None = None) -> list[dict]:
        with self.store.engine.connect() as conn:
            return acknowledgements.list_acknowledgements(conn, semester, missing, student_id)

    # --- the clock (test mode) ---------------------------------------------------------------------------------

    @rpc
    def get_clock(self) -> dict:
        rt = self.runtime
        return {"now": rt.now().isoformat(), "moved": rt.offset != timedelta(0), "settable": rt.clock_settable}

    @rpc
    def set_clock(self, when: str | None) -> dict:
        """Move the clock to ``when`` (ISO date-time; a naive one is UTC) — test mode only; None: the real time."""
        rt = self.runtime
        if not rt.clock_settable:
            return {"status": "rejected",
                    "message": "the notification clock is moved only in test mode (AQ_TEST_CLOCK=1)"}
        try:
            target = None if when is None else datetime.fromisoformat(when)
        except (TypeError, ValueError) as exc:
            return {"status": "rejected", "message": f"not an ISO date-time: {exc}"}
        if target is not None and target.tzinfo is None:
            target = target.replace(tzinfo=timezone.utc)
        rt.offset = timedelta(0) if target is None else target - rt.base_clock()
        return {"status": "set", "now": rt.now().isoformat()}

    def trace_details(self, correlation_id: str) -> dict:
        with self.store.engine.connect() as conn:
            notices = queries.list_notices(conn, correlation_id=correlation_id)
        return {"notices": notices, **self.trace_progress(correlation_id)}

    def trace_progress(self, correlation_id: str) -> dict:
        with self.store.engine.connect() as conn:
            return {"pending_deliveries": delivery.pending_count(conn, correlation_id)
                    + handlers.waiting_task_items(conn, correlation_id)}
