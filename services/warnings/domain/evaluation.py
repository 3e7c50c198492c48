"""Evaluating a student under a policy, and what changed (policy.md §4, §5).

The warning state is a pure function of (grade records, policy): ``evaluate_student`` recomputes every semester
from the student's whole history, so a make-up pass, a corrected score or a retake is reflected wherever it
matters — including the escalation of the semesters after it. ``diff_standings`` turns old and new levels into
the changes the service announces.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from functools import lru_cache
from types import MappingProxyType

from shared.academic.semesters import previous_code, sort_key
from shared.academic.vocabulary import level_rank

from services.warnings.domain.measures import semester_views
from services.warnings.domain.model import (
    DOWNGRADED, ESCALATED, ISSUED, LIFTED, Change, GradeRecord, Standing, level_word, raise_one_step,
)
from services.warnings.domain.policy import Policy
from services.warnings.domain.rules import History


def evaluate_student(records: Iterable[GradeRecord], policy: Policy) -> dict[str, Standing]:
    """The student's standing at every semester in which they have any record (a no-result record counts).

    Semesters are evaluated in order, so the previous semester's FINAL level (escalation included) is known when
    a semester is escalated. A semester without records is not evaluated: it has no level and so never escalates
    the one after it.

    At each semester: the ordinary rules give a level, escalation may raise it one step (at most to red), and then
    the history rules (the escalation chain) see that level and the final standings of every earlier semester;
    the highest level of all stands.
    """
    ordinary = [rule for rule in policy.rules if not rule.uses_history]
    history_rules = [rule for rule in policy.rules if rule.uses_history]
    history_names = frozenset(rule.name for rule in history_rules)
    standings: dict[str, Standing] = {}
    earlier = MappingProxyType(standings)    # history rules may read, never change, the semesters before
    for view in semester_views(records):     # ValueError if the records are of several students
        verdicts = [verdict for rule in ordinary if (verdict := rule.judge(view)) is not None]
        level = max((v.level for v in verdicts), key=level_rank, default=None)
        escalated = False
        if level is not None and policy.escalation:
            previous = _previous(view.semester)     # None for a summer term: it never escalates
            before = standings.get(previous) if previous else None
            if before is not None and before.level is not None:
                # Recorded even when already red and unable to rise (§4).
                level, escalated = raise_one_step(level), True
        if history_rules:
            history = History(level, tuple(v.reason for v in verdicts), earlier, history_names)
            chained = [verdict for rule in history_rules
                       if (verdict := rule.judge_history(view, history)) is not None]
            level = max([level] + [v.level for v in chained], key=level_rank)
            verdicts += chained
        standings[view.semester] = Standing(level, escalated, tuple(v.reason for v in verdicts))
    return standings


def diff_standings(student_id: str, before: Mapping[str, str | Standing | None],
                   after: Mapping[str, Standing]) -> list[Change]:
    """The changes from ``before`` (semester -> level, None / "none" for no warning) to ``after``, in semester
    order. A semester no longer evaluated (its records are gone) counts as no warning. Equal levels are no change,
    even if the reasons or the escalation flag differ: people are told about levels (§5)."""
    changes = []
    for semester in sorted(set(before) | set(after), key=_order):
        old = level_word(_level(before.get(semester)))
        new = level_word(_level(after.get(semester)))
        if old == new:
            continue
        if level_rank(old) == 0:
            kind = ISSUED
        elif level_rank(new) == 0:
            kind = LIFTED
        elif level_rank(new) > level_rank(old):
            kind = ESCALATED
        else:
            kind = DOWNGRADED
        changes.append(Change(kind, student_id, semester, old, new))
    return changes


def _level(value: str | Standing | None) -> str | None:
    return value.level if isinstance(value, Standing) else value


@lru_cache(maxsize=256)
def _previous(semester: str) -> str | None:
    return previous_code(semester)


@lru_cache(maxsize=256)
def _order(semester: str) -> tuple[int, int]:
    return sort_key(semester)
