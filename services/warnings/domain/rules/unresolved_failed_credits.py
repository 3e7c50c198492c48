"""应修未得学分 (policy.md §3, §4): credits of required / restricted courses whose best result so far is a fail.

Default thresholds: yellow ≥ 10, orange ≥ 15, red ≥ 25.
"""
from __future__ import annotations

from shared.academic.vocabulary import WARNING_COURSE_TYPES

from services.warnings.domain.measures import CreditSum, SemesterView
from services.warnings.domain.rules.base import Rule, course_types_option


class UnresolvedFailedCredits(Rule):
    comparison = ">="
    # Which course types count toward warning credits (§1: required and restricted electives).
    option_defaults = {"course_types": sorted(WARNING_COURSE_TYPES)}

    def check_options(self, options):
        course_types_option(options)

    def measure(self, view: SemesterView) -> CreditSum:
        return view.unresolved_failed_credits(frozenset(self.options["course_types"]))
