"""Semester codes: ``YYYY-YYYY-T`` with T = 1 (autumn), 2 (spring), 3 (summer).

They sort by start year, then term. The previous semester of an autumn term is the spring term before it,
of a spring term the autumn term of the same year; a summer term is never anyone's previous semester, and
has none itself (policy.md §1 and §4: escalation skips summer terms).
"""
from __future__ import annotations

import re
from dataclasses import dataclass

_CANONICAL = re.compile(r"^(\d{4})-(\d{4})-([123])$")


class SemesterError(ValueError):
    pass


@dataclass(frozen=True, order=True)
class Semester:
    start_year: int
    term: int

    @classmethod
    def parse(cls, code: str) -> "Semester":
        match = _CANONICAL.match(code.strip())
        if not match:
            raise SemesterError(f"not a semester code: {code!r}")
        start, end, term = (int(g) for g in match.groups())
        if end != start + 1:
            raise SemesterError(f"academic year must span consecutive years: {code!r}")
        return cls(start, term)

    @property
    def code(self) -> str:
        return f"{self.start_year}-{self.start_year + 1}-{self.term}"

    @property
    def is_summer(self) -> bool:
        return self.term == 3

    def previous(self) -> "Semester | None":
        if self.term == 1:
            return Semester(self.start_year - 1, 2)
        if self.term == 2:
            return Semester(self.start_year, 1)
        return None

    def __str__(self) -> str:
        return self.code


def sort_key(code: str) -> tuple[int, int]:
    s = Semester.parse(code)
    return (s.start_year, s.term)


def previous_code(code: str) -> str | None:
    prev = Semester.parse(code).previous()
    return prev.code if prev else None
