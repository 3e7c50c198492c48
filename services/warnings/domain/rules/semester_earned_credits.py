"""Credits earned in a semester below a minimum (本学期获得学分不足). Off by default.

    semester_earned_credits:
      thresholds: {yellow: 10}                           # credits, <
      course_types: [required, restricted, elective]     # which courses' credits count (default: all)
      summer_terms: false                                # judge summer terms too?

Credits earned in S are the credits of courses passed in S (at a regular, deferred, make-up or retake sitting of
S) that had not been passed before S: improving a passed grade earns nothing new. A semester is judged only when
the student sat a regular (or deferred) exam in it, so a term with nothing but a retake is not; summer terms, with
their few courses, are not judged unless ``summer_terms: true``.
"""
from __future__ import annotations

from shared.academic.semesters import Semester
from shared.academic.vocabulary import COURSE_TYPES

from services.warnings.domain.measures import CreditSum, SemesterView
from services.warnings.domain.rules.base import Rule, course_types_option


class SemesterEarnedCredits(Rule):
    comparison = "<"
    option_defaults = {"course_types": list(COURSE_TYPES), "summer_terms": False}

    def check_options(self, options):
        course_types_option(options)
        if not isinstance(options["summer_terms"], bool):
            raise ValueError(f"option summer_terms must be true or false, not {options['summer_terms']!r}")
        self._types = frozenset(options["course_types"])

    def measure(self, view: SemesterView) -> CreditSum | None:
        if not view.sat_regular_exams():
            return None
        if not self.options["summer_terms"] and Semester.parse(view.semester).is_summer:
            return None
        return view.earned_credits(self._types)
