"""What a warning rule is (policy.md §4).

A rule is a plugin: a class registered under the entry-point group ``aq.warning_rules`` and named by that key in a
policy file. The policy file gives it thresholds per level (yellow / orange / red — any of them, at least one)
and options. Given a ``SemesterView`` it measures one figure and compares it with its thresholds; the highest
level whose threshold the figure meets is what the rule gives, with a reason a notice can quote.

A new rule only has to say how it compares (``comparison``), which options it takes (``option_defaults``, and
``check_options`` for their values), and how it measures (``measure``). Configuration mistakes are raised as
``ValueError`` with a plain message; the policy loader names the rule and the file around it.

A ``HistoryRule`` also sees the semesters before S: it is judged after the ordinary rules and escalation, with the
student's final standings at the earlier semesters and S's level so far (``History``). The escalation-chain rules
are history rules; they are the only rules whose thresholds may name the level above red (dismissal).
"""
from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, ClassVar, Protocol

from shared.academic.vocabulary import COURSE_TYPES, LEVELS, TOP_ORDINARY_LEVEL, level_rank

from services.warnings.domain.measures import CourseResult, SemesterView
from services.warnings.domain.model import Standing

# The levels an ordinary rule's thresholds may name: up to red.
ORDINARY_LEVELS = LEVELS[:level_rank(TOP_ORDINARY_LEVEL)]


class Measurement(Protocol):
    """What ``Rule.measure`` returns: a figure and the courses behind it."""
    value: Decimal
    courses: tuple[CourseResult, ...]


@dataclass(frozen=True)
class Verdict:
    level: str
    reason: dict     # ReasonSchema shape


@dataclass(frozen=True)
class History:
    """What a history rule sees at semester S besides the view."""
    level: str | None                   # S's level from the ordinary rules and escalation (None: no warning)
    reasons: tuple[dict, ...]           # S's reasons from the ordinary rules
    before: Mapping[str, Standing]      # final standings of the semesters evaluated before S, by semester code
    history_rules: frozenset[str] = frozenset()    # names of the policy's history rules (their reasons in ``before``)


@dataclass(frozen=True)
class Count:
    """A measurement that is a plain number (e.g. of semesters), with no courses behind it."""
    value: Decimal
    courses: tuple[CourseResult, ...] = ()


class Rule(ABC):
    comparison: ClassVar[str] = ">="     # ">=": a higher figure is worse; "<": a lower figure is worse
    option_defaults: ClassVar[Mapping[str, Any]] = {}
    levels: ClassVar[tuple[str, ...]] = ORDINARY_LEVELS     # the levels its thresholds may name
    uses_history: ClassVar[bool] = False

    def __init__(self, name: str, thresholds: Mapping[str, Any], **options: Any):
        if self.comparison not in (">=", "<"):
            raise TypeError(f"{type(self).__name__}.comparison must be '>=' or '<'")
        self.name = name
        self.thresholds = _check_thresholds(thresholds, self.comparison, self.levels)
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
        return self.verdict(self.measure(view))

    def verdict(self, measured: Measurement | None) -> Verdict | None:
        """The highest level whose threshold ``measured`` meets, with its reason; None if it meets none."""
        if measured is None or measured.value is None:
            return None
        for level in reversed(self.levels):      # the highest level the figure reaches
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


class HistoryRule(Rule):
    """A rule judged with the student's earlier standings (``History``), after the ordinary rules and escalation.
    Its level is combined with S's level so far: the higher one stands."""
    uses_history = True

    def measure(self, view: SemesterView) -> Measurement | None:
        raise TypeError(f"{type(self).__name__} is a history rule: judge it with judge_history(view, history)")

    def judge(self, view: SemesterView) -> Verdict | None:
        raise TypeError(f"{type(self).__name__} is a history rule: judge it with judge_history(view, history)")

    @abstractmethod
    def measure_history(self, view: SemesterView, history: History) -> Measurement | None:
        """The figure at the view's semester given the earlier standings, or None when the rule does not judge."""

    def judge_history(self, view: SemesterView, history: History) -> Verdict | None:
        return self.verdict(self.measure_history(view, history))


def _by_code(course: CourseResult) -> str:
    return course.course_code


def _check_thresholds(thresholds: Any, comparison: str, levels: tuple[str, ...] = ORDINARY_LEVELS
                      ) -> dict[str, Decimal]:
    if not isinstance(thresholds, Mapping) or not thresholds:
        raise ValueError(f"'thresholds' must map at least one level ({', '.join(levels)}) to a number")
    checked: dict[str, Decimal] = {}
    for level, value in thresholds.items():
        if level not in levels:
            hint = ""
            if level in LEVELS:      # a real level this kind of rule may not give
                hint = f"; {level} is given only by the escalation-chain rules"
            raise ValueError(f"unknown level {level!r} in thresholds (levels of this rule: {', '.join(levels)}{hint})")
        if isinstance(value, bool) or not isinstance(value, (int, float, Decimal)) or not math.isfinite(value):
            raise ValueError(f"threshold for {level} must be a number, not {value!r}")
        checked[level] = Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
    # A higher level must be harder to reach; anything else is a slip of the pen (and would hide a level).
    present = [level for level in levels if level in checked]
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
