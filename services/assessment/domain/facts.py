"""What the indicators are computed from: plain values the service layer builds from its own tables (which are
projections of events and the outcomes it owns). No nameko, no SQL.

The calendar (when a semester ends, which year a cohort graduates) is here too, as data the college may change.
"""
from __future__ import annotations

import calendar as _calendar
from dataclasses import dataclass, field
from datetime import date
from fractions import Fraction
from typing import Iterable, Mapping

from shared.academic.semesters import Semester

# --- calendar ------------------------------------------------------------------------------------------------------
PROGRAM_YEARS = 4          # an undergraduate cohort entering in 2021 graduates in 2025


def graduating_year(cohort: int, program_years: int = PROGRAM_YEARS) -> int:
    return int(cohort) + program_years


def semester_window(code: str) -> tuple[date, date]:
    """The dates a semester covers, for outcomes that carry a date (CET sittings, awards).

    Autumn (T1) Y1-Y2-1: 1 Sep Y1 – last day of Feb Y2 (the December CET sitting falls in it);
    spring (T2) Y1-Y2-2: 1 Mar Y2 – 31 Aug Y2 (the June sitting); summer (T3): 1 Jul Y2 – 31 Aug Y2.
    """
    s = Semester.parse(code)
    y2 = s.start_year + 1
    if s.term == 1:
        return date(s.start_year, 9, 1), date(y2, 2, _calendar.monthrange(y2, 2)[1])
    if s.term == 2:
        return date(y2, 3, 1), date(y2, 8, 31)
    return date(y2, 7, 1), date(y2, 8, 31)


def academic_year_end(code: str) -> int:
    """2023-2024-1 -> 2024: the year the academic year of a semester ends (its graduates graduate then)."""
    return Semester.parse(code).start_year + 1


def next_semester(code: str) -> str:
    """The next autumn or spring semester (summer terms are skipped, as for "previous")."""
    s = Semester.parse(code)
    if s.term == 1:
        return Semester(s.start_year, 2).code
    return Semester(s.start_year + 1, 1).code


def semesters_of_year(year: int) -> tuple[str, ...]:
    """The semesters of the academic year ending in ``year``."""
    return tuple(f"{year - 1}-{year}-{t}" for t in (1, 2, 3))


# --- ratios ----------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Ratio:
    """A rate with its counts. ``rate`` is None when there is nothing to divide by."""
    numerator: int
    denominator: int

    @property
    def rate(self) -> float | None:
        return self.numerator / self.denominator if self.denominator else None

    @property
    def exact(self) -> Fraction | None:
        return Fraction(self.numerator, self.denominator) if self.denominator else None

    def to_dict(self) -> dict:
        return {"numerator": self.numerator, "denominator": self.denominator, "rate": self.rate}

    def __add__(self, other: "Ratio") -> "Ratio":
        return Ratio(self.numerator + other.numerator, self.denominator + other.denominator)


def mean(values: Iterable[float | None]) -> float | None:
    """The mean of the values that exist (an undefined rate — no graduates, no tasks — is left out)."""
    present = [v for v in values if v is not None]
    return sum(present) / len(present) if present else None


# --- roster projection -----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ClassInfo:
    class_name: str
    major: str
    cohort: int
    head_teacher_id: str


@dataclass(frozen=True)
class StudentInfo:
    student_id: str
    name: str
    class_name: str
    status: str           # enrolled / suspended / withdrawn / graduated


@dataclass(frozen=True)
class StaffInfo:
    staff_id: str
    name: str
    role: str
    scope: tuple[str, ...] = ()


@dataclass
class Roster:
    classes: dict[str, ClassInfo] = field(default_factory=dict)
    students: dict[str, StudentInfo] = field(default_factory=dict)
    staff: list[StaffInfo] = field(default_factory=list)

    def members(self, class_name: str) -> list[str]:
        """The class's students: everyone listed in it except those who withdrew (退学)."""
        return sorted(s.student_id for s in self.students.values()
                      if s.class_name == class_name and s.status != "withdrawn")

    def class_of(self, student_id: str) -> ClassInfo | None:
        student = self.students.get(student_id)
        return self.classes.get(student.class_name) if student else None

    def classes_of_head_teacher(self, staff_id: str) -> list[ClassInfo]:
        return sorted((c for c in self.classes.values() if c.head_teacher_id == staff_id),
                      key=lambda c: (c.cohort, c.class_name))

    def classes_where(self, *, cohort: int | None = None, major: str | None = None) -> list[ClassInfo]:
        return sorted((c for c in self.classes.values()
                       if (cohort is None or c.cohort == cohort) and (major is None or c.major == major)),
                      key=lambda c: (c.cohort, c.major, c.class_name))

    def graduates(self, year: int, *, major: str | None = None, class_name: str | None = None) -> list[str]:
        """The graduating students (应届毕业生) of ``year``: members of the classes whose cohort graduates then."""
        found = []
        for c in self.classes.values():
            if graduating_year(c.cohort) != year:
                continue
            if (major is not None and c.major != major) or (class_name is not None and c.class_name != class_name):
                continue
            found.extend(self.members(c.class_name))
        return sorted(found)

    def staff_name(self, staff_id: str) -> str:
        return next((s.name for s in self.staff if s.staff_id == staff_id), "")

    def holders(self, role: str) -> list[StaffInfo]:
        return sorted((s for s in self.staff if s.role == role), key=lambda s: s.staff_id)

    @property
    def majors(self) -> list[str]:
        return sorted({c.major for c in self.classes.values()})

    @property
    def cohorts(self) -> list[int]:
        return sorted({c.cohort for c in self.classes.values()})


# --- tasks projection ------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Task:
    task_id: str
    kind: str
    assignee: str
    student_id: str | None
    course_code: str | None
    semester: str
    due: date
    status: str                 # open / done (advising may add others: anything but "done" is not done)
    done_on: date | None = None

    @property
    def done(self) -> bool:
        return self.status == "done"

    def on_time(self) -> bool:
        return self.done and self.done_on is not None and self.done_on <= self.due

    def overdue(self, as_of: date) -> bool:
        return not self.done and self.due < as_of


def task_from_row(row: Mapping) -> Task:
    return Task(row["task_id"], row["kind"], row["assignee"], row.get("student_id"), row.get("course_code"),
                row["semester"], date.fromisoformat(str(row["due"])[:10]), row["status"],
                date.fromisoformat(row["done_on"]) if row.get("done_on") else None)


# --- outcomes --------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Outcome:
    kind: str
    student_id: str
    date: date | None
    value: str
    level: str = ""


def outcome_from_row(row: Mapping) -> Outcome:
    return Outcome(row["kind"], row["student_id"] or "", date.fromisoformat(row["date"]) if row["date"] else None,
                   row["value"], row.get("level") or "")
