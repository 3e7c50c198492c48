"""Grade point average (policy.md §3, §4): judged only once the numeric-outcome courses carry enough credits
(default ≥ 20), so that a first semester with two bad exams does not already count as a low GPA.

Default thresholds: yellow < 2.0, orange < 1.8.
"""
from __future__ import annotations

from decimal import Decimal

from services.warnings.domain.measures import GradePointAverage, SemesterView
from services.warnings.domain.rules.base import Rule, number_option


class Gpa(Rule):
    comparison = "<"
    option_defaults = {"min_graded_credits": 20}

    def check_options(self, options):
        number_option(options, "min_graded_credits")
        self._min_credits = Decimal(repr(options["min_graded_credits"]))

    def measure(self, view: SemesterView) -> GradePointAverage | None:
        gpa = view.gpa()
        if gpa.value is None or gpa.graded_credits < self._min_credits:
            return None
        return gpa
