"""What a warning rule is (policy.md §4).

A rule is a plugin: a class registered under the entry-point group ``aq.warning_rules`` and named by that key in a
policy file. The policy file gives it thresholds per level (yellow / orange / red — any of them, at least one)
and options. Given a ``SemesterView`` it measures one figure and compares it with its thresholds; the highest
level whose threshold the figure meets is what the rule gives, with a reason a notice can quote.

A new rule only has to say how it compares (``comparison``), which options it takes (``option_defaults``, and
``check_options`` for their values), and how it measures (``measure``). Configuration mistakes are raised as
``ValueError`` with a plain message; the policy loader names the rule and the file around it.
"""
from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, ClassVar, Protocol

from shared.academic.vocabulary import COURSE_TYPES, LEVELS

from services.warnings.domain.measures import CourseResult, SemesterView


class Measurement(Protocol):
    """What ``Rule.measure`` returns: a figure and the courses behind it."""
    value: Decimal
    courses: tuple[CourseResult, ...]


@dataclass(frozen=True)
class Verdict:
    level: str
    reason: dict     # ReasonSchema shape


class Rule(ABC):
    comparison: ClassVar[str] = ">="     # ">=": a higher figure is worse; "<": a lower figure is worse
    option_defaults: ClassVar[Mapping[str, Any]] = {}

    def __init__(self, name: str, thresholds: Mapping[str, Any], **options: Any):
        if self.comparison not in (">=", "<"):
            raise TypeError(f"{type(self).__name__}.comparison must be '>=' or '<'")
        self.name = name
        self.thresholds = _check_thresholds(thresholds, self.comparison)
        unknown = sorted(set(options) - set(self.option_defaults))
        if unknown:
            known = ", ".join(sorted(self.option_defaults)) or "none"
            raise ValueError(f"unknown option(s) {', '.join(unknown)} (options of this rule: {known})")
        self.options = {**self.option_defaults, **options}
        self.check_options(self.options)

    @classmethod
    def from_section(cls, name: str, section: Mapping[str, Any] | None) -> "Rule":
        """Build the rule from its policy-file section: ``thresholds`` plus options."""
        if not isinstance(section, Mapping):
            raise ValueError("its section must be a mapping with 'thresholds' (and options)")
        if "thresholds" not in section:
            raise ValueError("it has no 'thresholds' (e.g. thresholds: {yellow: 10})")
        options = {k: v for k, v in section.items() if k != "thresholds"}
        return cls(name, section["thresholds"], **options)

    def check_options(self, options: Mapping[str, Any]) -> None:
        """Raise ValueError for an option value this rule cannot use."""

    @abstractmethod
    def measure(self, view: SemesterView) -> Measurement | None:
        """The figure at the view's semester, or None when the rule does not judge this student there."""

    def judge(self, view: SemesterView) -> Verdict | None:
        measured = self.measure(view)
        if measured is None or measured.value is None:
            return None
        for level in reversed(LEVELS):      # the highest level the figure reaches
            threshold = self.thresholds.get(level)
            if threshold is not None and self._meets(measured.value, threshold):
                return Verdict(level, {
                    "rule": self.name, "level": level,
                    "measure": float(measured.value), "threshold": float(threshold),
                    "comparison": self.comparison,
                    # Sorted only here: most measures never fire, and a notice lists courses by code.
                    "courses": [c.as_reason() for c in sorted(measured.courses, key=_by_code)],
                })
        return None

    def _meets(self, value: Decimal, threshold: Decimal) -> bool:
        return value >= threshold if self.comparison == ">=" else value < threshold

    def __repr__(self) -> str:
        shown = ", ".join(f"{level}{self.comparison}{self.thresholds[level]}" for level in LEVELS
                          if level in self.thresholds)
        return f"<{type(self).__name__} {self.name}: {shown}>"


def _by_code(course: CourseResult) -> str:
    return course.course_code


def _check_thresholds(thresholds: Any, comparison: str) -> dict[str, Decimal]:
    if not isinstance(thresholds, Mapping) or not thresholds:
        raise ValueError("'thresholds' must map at least one level (yellow, orange, red) to a number")
    checked: dict[str, Decimal] = {}
    for level, value in thresholds.items():
        if level not in LEVELS:
            raise ValueError(f"unknown level {level!r} in thresholds (levels: {', '.join(LEVELS)})")
        if isinstance(value, bool) or not isinstance(value, (int, float, Decimal)) or not math.isfinite(value):
            raise ValueError(f"threshold for {level} must be a number, not {value!r}")
        checked[level] = Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
    # A higher level must be harder to reach; anything else is a slip of the pen (and would hide a level).
    present = [level for level in LEVELS if level in checked]
    for lower, higher in zip(present, present[1:]):
        if comparison == ">=" and not checked[higher] > checked[lower]:
            raise ValueError(f"threshold for {higher} ({checked[higher]}) must be above {lower}'s ({checked[lower]})")
        if comparison == "<" and not checked[higher] < checked[lower]:
            raise ValueError(f"threshold for {higher} ({checked[higher]}) must be below {lower}'s ({checked[lower]})")
    return checked


def number_option(options: Mapping[str, Any], name: str, minimum: float = 0) -> None:
    value = options[name]
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value < minimum:
        raise ValueError(f"option {name} must be a number ≥ {minimum}, not {value!r}")


def course_types_option(options: Mapping[str, Any], name: str = "course_types") -> None:
    value = options[name]
    if isinstance(value, str) or not isinstance(value, (list, tuple, set, frozenset)) or not value \
            or any(v not in COURSE_TYPES for v in value):
        raise ValueError(f"option {name} must be a non-empty list of {', '.join(COURSE_TYPES)}, not {value!r}")
