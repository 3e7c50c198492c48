"""The college's teaching calendar: when each semester starts and how many teaching weeks it has.

A YAML file (config ``SEMESTER_CALENDAR``; see services/advising/calendar.example.yml)::

    semesters:
      2025-2026-1: {start: 2025-09-01, weeks: 18}    # start: Monday of teaching week 1
      2025-2026-2: {start: 2026-02-23}               # weeks: 18 when not given

The calendar is opt-in: without one, recurring duties are created only by ``aq tasks open-semester``.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import yaml

from shared.academic.semesters import Semester, SemesterError, sort_key

DEFAULT_WEEKS = 18


class CalendarError(ValueError):
    pass


@dataclass(frozen=True)
class SemesterDates:
    semester: str
    start: date
    weeks: int = DEFAULT_WEEKS

    @property
    def term(self) -> int:
        return Semester.parse(self.semester).term

    @property
    def end(self) -> date:
        """The last day (Sunday) of the last teaching week."""
        return self.start + timedelta(days=7 * self.weeks - 1)

    def week_end(self, week: int) -> date:
        """The last day of teaching week ``week`` (1-based), never after the semester's end."""
        week = max(1, min(week, self.weeks))
        return self.start + timedelta(days=7 * week - 1)

    def contains(self, day: date) -> bool:
        return self.start <= day <= self.end


def semester_dates(semester: str, start, weeks=None) -> SemesterDates:
    try:
        Semester.parse(semester)
    except SemesterError as exc:
        raise CalendarError(str(exc)) from None
    if isinstance(start, str):
        try:
            start = date.fromisoformat(start)
        except ValueError:
            raise CalendarError(f"{semester}: start {start!r} is not a date (YYYY-MM-DD)") from None
    if not isinstance(start, date):
        raise CalendarError(f"{semester}: start must be a date (YYYY-MM-DD)")
    weeks = DEFAULT_WEEKS if weeks in (None, "") else weeks
    if not isinstance(weeks, int) or not 1 <= weeks <= 30:
        raise CalendarError(f"{semester}: weeks must be a whole number from 1 to 30, not {weeks!r}")
    return SemesterDates(semester, start, weeks)


def parse_calendar(data: Mapping | None) -> dict[str, SemesterDates]:
    """The calendar from its YAML data; CalendarError names the first bad entry."""
    entries = (data or {}).get("semesters") or {}
    if not isinstance(entries, Mapping):
        raise CalendarError("the calendar needs a 'semesters' mapping: semester code -> {start, weeks}")
    calendar = {}
    for code, entry in entries.items():
        code = str(code)
        if isinstance(entry, (date, str)):
            entry = {"start": entry}
        if not isinstance(entry, Mapping) or "start" not in entry:
            raise CalendarError(f"{code}: give at least a start date")
        calendar[code] = semester_dates(code, entry["start"], entry.get("weeks"))
    ordered = sorted(calendar.values(), key=lambda d: sort_key(d.semester))
    for before, after in zip(ordered, ordered[1:]):
        if after.start <= before.end:
            raise CalendarError(f"{after.semester} starts before {before.semester} has ended")
    return calendar


def load_calendar(path: str | Path | None) -> dict[str, SemesterDates]:
    """The calendar in ``path``; an empty calendar when no path is configured."""
    if not path:
        return {}
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise CalendarError(f"cannot read the semester calendar {path}: {exc}") from None
    return parse_calendar(yaml.safe_load(text))


def semesters_to_open(calendar: Mapping[str, SemesterDates], today: date, opened: Iterable[str]) -> list[SemesterDates]:
    """The calendar's semesters running on ``today`` that were not opened yet. A semester already over is never
    opened by the clock (a calendar listing past years must not create years of overdue duties)."""
    done = set(opened)
    return [d for d in sorted(calendar.values(), key=lambda d: sort_key(d.semester))
            if d.semester not in done and d.contains(today)]
