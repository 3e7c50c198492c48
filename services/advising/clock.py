"""The advising service's clock: what "now" is for due dates, reminders, escalation and the semester calendar.

In production it is the real time in the college's time zone. With ``TEST_CLOCK`` on (AQ_TEST_CLOCK=1) the RPC
``set_clock`` moves it, so a test walks a semester in seconds: the reminder timer then runs on the moved time.
The moved time is held by the process (one advising instance in such tests); ``set_clock(None)`` gives back the
real time.
"""
from __future__ import annotations

from datetime import date, datetime

from nameko.extensions import DependencyProvider

from shared.clock import college_timezone


class ClockLocked(RuntimeError):
    """The clock is only moved in test mode (AQ_TEST_CLOCK=1)."""


def _truthy(value) -> bool:
    return str(value).strip().lower() in ("1", "true", "yes", "on")


class ClockAccess:
    def __init__(self, provider: "Clock"):
        self._provider = provider

    @property
    def settable(self) -> bool:
        return self._provider.settable

    @property
    def moved(self) -> bool:
        return self._provider.fixed is not None

    def now(self) -> datetime:
        fixed = self._provider.fixed
        return fixed if fixed is not None else datetime.now(college_timezone())

    def today(self) -> date:
        return self.now().date()

    def set(self, when: str | None) -> datetime:
        if not self._provider.settable:
            raise ClockLocked("the advising clock is moved only in test mode (AQ_TEST_CLOCK=1)")
        self._provider.fixed = None if when is None else parse_moment(when)
        return self.now()


def parse_moment(text: str) -> datetime:
    """An ISO date (the college's 09:00 that day) or date-time (college time zone when naive)."""
    moment = datetime.fromisoformat(text) if "T" in text or " " in text.strip() else \
        datetime.combine(date.fromisoformat(text), datetime.min.time()).replace(hour=9)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=college_timezone())
    return moment.astimezone(college_timezone())


class Clock(DependencyProvider):
    def setup(self):
        self.settable = _truthy(self.container.config.get("TEST_CLOCK", ""))
        self.fixed: datetime | None = None

    def get_dependency(self, worker_ctx) -> ClockAccess:
        return ClockAccess(self)
