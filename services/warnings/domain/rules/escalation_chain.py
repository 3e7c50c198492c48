"""The escalation chain many colleges use: a student warned in 2 consecutive semesters, or in 3 semesters in all,
is at risk of dismissal (退学警示, the level above red). Off by default; a policy enables it with two rules:

    consecutive_warnings:
      thresholds: {dismissal: 2}        # warned semesters in a row, ending at this one
      ignore_rules: [cet4_not_passed]   # warnings that do not count toward the chain (default: none)
    cumulative_warnings:
      thresholds: {dismissal: 3}        # warned semesters so far, this one included
      ignore_rules: [cet4_not_passed]
      count_summer_terms: false         # default

Both are history rules: they judge a semester only when it is itself warned, and count the earlier semesters by
their final standing as recomputed from the records (policy.md §5), so a warning that a make-up pass has since
lifted no longer counts. A semester counts as warned when a rule other than the chain's own and the ignored ones
fired there: a degree risk such as CET-4 is not a reason for dismissal unless the college says so.

"In a row" follows the previous-semester chain of escalation: a summer term is never anyone's previous semester, so
it neither breaks nor extends a run. The cumulative count leaves summer terms out unless ``count_summer_terms``.
Thresholds may also name yellow, orange or red.
"""
from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal

from shared.academic.semesters import Semester, previous_code
from shared.academic.vocabulary import LEVELS

from services.warnings.domain.measures import SemesterView
from services.warnings.domain.rules.base import Count, History, HistoryRule


class _WarnedSemesters(HistoryRule):
    comparison = ">="
    levels = LEVELS
    option_defaults = {"ignore_rules": []}

    def check_options(self, options):
        ignored = options["ignore_rules"]
        if isinstance(ignored, str) or not isinstance(ignored, (list, tuple)) \
                or not all(isinstance(name, str) for name in ignored):
            raise ValueError(f"option ignore_rules must be a list of rule names, not {ignored!r}")
        self._ignored = frozenset(ignored)

    def counts(self, reasons: Iterable[dict], history: History) -> bool:
        """Whether a semester with these reasons counts as warned for the chain."""
        return any(r["rule"] not in self._ignored and r["rule"] not in history.history_rules for r in reasons)

    def warned_before(self, semester: str, history: History) -> bool:
        standing = history.before.get(semester)
        return standing is not None and standing.level is not None and self.counts(standing.reasons, history)


class ConsecutiveWarnings(_WarnedSemesters):
    def measure_history(self, view: SemesterView, history: History) -> Count | None:
        if history.level is None or not self.counts(history.reasons, history):
            return None              # only a warned semester continues a run
        count, semester = 1, view.semester
        while (semester := previous_code(semester)) is not None and self.warned_before(semester, history):
            count += 1
        return Count(Decimal(count))


class CumulativeWarnings(_WarnedSemesters):
    option_defaults = {"ignore_rules": [], "count_summer_terms": False}

    def check_options(self, options):
        super().check_options(options)
        if not isinstance(options["count_summer_terms"], bool):
            raise ValueError(f"option count_summer_terms must be true or false, not {options['count_summer_terms']!r}")

    def measure_history(self, view: SemesterView, history: History) -> Count | None:
        counts_summer = self.options["count_summer_terms"]
        if history.level is None or not self.counts(history.reasons, history):
            return None
        if not counts_summer and _is_summer(view.semester):
            return None
        earlier = sum(1 for semester in history.before
                      if (counts_summer or not _is_summer(semester)) and self.warned_before(semester, history))
        return Count(Decimal(earlier + 1))


def _is_summer(code: str) -> bool:
    return Semester.parse(code).is_summer
