"""CET-4 (大学英语四级) not passed by the end of the third year: a risk to the degree (学位). Off by default.

    cet4_not_passed:
      thresholds: {yellow: 3, orange: 3.5}   # study years completed without a pass
      course_codes: [CET4]                   # the course codes under which CET-4 results arrive

The measure is how many study years the student has completed at the end of semester S without passing: an autumn
term completes half a year, a spring (or summer) term the whole year. So ``yellow: 3`` warns at the end of the
third year's spring term, and ``orange: 3.5`` one semester later. A student who has passed is not judged.

Where the results come from: the warnings service learns results only as grade records (it may not read the
assessment service's outcome tables). CET-4 therefore arrives as a grade record of one of ``course_codes`` — as
the school's grade system lists it, or added to a grade upload — scored 合格 / 不合格 and typed 选修, so that
neither the failed-credit rules nor the GPA count it. The best result so far decides (policy.md §2): one passing
sitting is enough, and a student with no such record has not passed.

The year the student entered is taken as the academic year of their earliest grade record: the roster's cohort is
not known to this service. A student whose earlier records were never uploaded is therefore judged late, never early.
"""
from __future__ import annotations

from decimal import Decimal

from shared.academic.semesters import Semester

from services.warnings.domain.measures import SemesterView
from services.warnings.domain.rules.base import Count, Rule

_HALF, _ONE = Decimal("0.5"), Decimal(1)


class Cet4NotPassed(Rule):
    comparison = ">="
    option_defaults = {"course_codes": ["CET4"]}

    def check_options(self, options):
        codes = options["course_codes"]
        if isinstance(codes, str) or not isinstance(codes, (list, tuple)) or not codes \
                or not all(isinstance(code, str) and code.strip() for code in codes):
            raise ValueError(f"option course_codes must be a non-empty list of course codes, not {codes!r}")
        self._codes = tuple(code.strip() for code in codes)

    def measure(self, view: SemesterView) -> Count | None:
        sittings = [view.courses[code] for code in self._codes if code in view.courses]
        if any(course.result is not None and course.result.passed for course in sittings):
            return None
        failed = tuple(course for course in sittings if course.result is not None)
        return Count(study_years(view.first_semester, view.semester), failed)


def study_years(entry: str, semester: str) -> Decimal:
    """Study years completed at the end of ``semester`` for a student whose first semester was ``entry``."""
    first, now = Semester.parse(entry), Semester.parse(semester)
    return Decimal(now.start_year - first.start_year) + (_HALF if now.term == 1 else _ONE)
