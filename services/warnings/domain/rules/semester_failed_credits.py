"""Failed credits of one semester (policy.md §3, §4): required / restricted courses sat in semester S whose best
regular / deferred / make-up result of S is a fail. A make-up pass repairs the semester; a later retake does not.

Default thresholds: yellow ≥ 8, orange ≥ 12.
"""
from __future__ import annotations

from shared.academic.vocabulary import WARNING_COURSE_TYPES

from services.warnings.domain.measures import CreditSum, SemesterView
from services.warnings.domain.rules.base import Rule, course_types_option


class SemesterFailedCredits(Rule):
    comparison = ">="
    option_defaults = {"course_types": sorted(WARNING_COURSE_TYPES)}

    def check_options(self, options):
        course_types_option(options)

    def measure(self, view: SemesterView) -> CreditSum:
        return view.semester_failed_credits(frozenset(self.options["course_types"]))
