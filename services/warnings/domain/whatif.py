"""What-if: who a candidate policy would warn, escalate, downgrade or lift, compared with today (issue #4).

"Today" is what the running policy computes from the grade records the warnings service holds. Warnings are a pure
function of (records, policy) (policy.md §5), so these are exactly the levels the service has stored for every
student it has caught up with — whether a warning still waits for review or has been released. Comparing two
evaluations of the SAME records, rather than a stored table against a fresh evaluation, means a what-if of the
running policy itself always reports nothing, and a difference is due to the candidate policy alone.

Both policies see each student's whole history, since escalation and the escalation chain look back; ``semester``
only narrows what is reported. Nothing here writes or announces anything: it is arithmetic on records.
"""
from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

from marshmallow import Schema, ValidationError, fields, validate

from shared.academic.semesters import SemesterError, sort_key
from shared.academic.vocabulary import LEVELS

from services.warnings.domain.evaluation import diff_standings, evaluate_student
from services.warnings.domain.model import CHANGE_KINDS, GradeRecord, Standing
from services.warnings.domain.policy import Policy, PolicyError

# How a student the roster does not know is grouped.
NOT_IN_ROSTER = "(not in roster)"


class WhatIfRequest(Schema):
    """The what-if RPC's body (the semester code is checked by ``compare``, with a hint)."""
    policy_text = fields.String(required=True, validate=validate.Length(
        min=1, max=200_000, error="the policy file must hold 1 to 200000 characters"))
    semester = fields.String(load_default=None, allow_none=True)
    source = fields.String(load_default="policy", validate=validate.Length(min=1, max=255))


@dataclass(frozen=True)
class WhatIfChange:
    """One (student, semester) whose level the candidate policy would change."""
    student_id: str
    semester: str
    kind: str                  # issued | escalated | downgraded | lifted
    old_level: str             # today's level, "none" for no warning
    new_level: str             # under the candidate, "none" for no warning
    rules: tuple[str, ...]     # the candidate's rules that fired (empty when lifted)


@dataclass(frozen=True)
class Comparison:
    current_version: str
    candidate_version: str
    semester: str | None
    students: int                      # students evaluated
    changes: tuple[WhatIfChange, ...]  # by semester, then student
    today: Counter                     # level -> warnings today (in the reported semesters)
    candidate: Counter                 # level -> warnings under the candidate


def compare(histories: Mapping[str, Iterable[GradeRecord]], current: Policy, candidate: Policy,
            semester: str | None = None) -> Comparison:
    """Evaluate every student's history under both policies and list the differences.

    ``histories`` maps a student id to all of that student's records. ``semester``, if given, must be a semester
    code (``YYYY-YYYY-T``); only that semester's warnings are counted and compared.
    """
    if semester is not None:
        try:
            sort_key(semester)
        except SemesterError as exc:
            raise SemesterError(f"{exc} (a semester is written like 2023-2024-1: years, then term 1, 2 or 3)") from exc
    changes: list[WhatIfChange] = []
    today: Counter = Counter()
    after: Counter = Counter()
    for student_id, records in histories.items():
        records = list(records)
        before = _in_scope(evaluate_student(records, current), semester)
        now = _in_scope(evaluate_student(records, candidate), semester)
        today.update(s.level for s in before.values() if s.level)
        after.update(s.level for s in now.values() if s.level)
        for change in diff_standings(student_id, before, now):
            standing = now.get(change.semester)
            rules = standing.rules if standing is not None and standing.level else ()
            changes.append(WhatIfChange(student_id, change.semester, change.kind, change.old_level,
                                        change.new_level, tuple(rules)))
    changes.sort(key=lambda c: (sort_key(c.semester), c.student_id))
    return Comparison(current.version, candidate.version, semester, len(histories), tuple(changes), today, after)


def answer(histories: Mapping[str, Iterable[GradeRecord]], current: Policy, policy_text: str,
           semester: str | None, responsibles: Callable[[list[str]], Mapping[str, Mapping]],
           source: str = "policy") -> dict:
    """The what-if RPC's answer: the policy in ``policy_text`` (a policy file's text, called ``source`` in error
    messages) against ``current``.
    ``responsibles(student_ids)`` is the roster's answer of that name, asked only about the students that would
    change. A policy or semester that cannot be used gives ``{"status": "invalid", "error": <why>}``."""
    try:
        body = WhatIfRequest().load({"policy_text": policy_text, "semester": semester, "source": source})
    except ValidationError as exc:
        problems = "; ".join(f"{field}: {' '.join(map(str, messages))}"
                             for field, messages in sorted(exc.messages.items()))
        return {"status": "invalid", "error": f"bad request: {problems}"}
    try:
        candidate = Policy.from_text(body["policy_text"], body["source"])
        comparison = compare(histories, current, candidate, body["semester"])
    except (PolicyError, SemesterError) as exc:
        return {"status": "invalid", "error": str(exc)}
    changed = sorted({change.student_id for change in comparison.changes})
    people = responsibles(changed) if changed else {}
    return {"status": "ok", **report(comparison, people)}


def report(comparison: Comparison, people: Mapping[str, Mapping]) -> dict:
    """The comparison as a JSON-ready answer, each change with the student's cohort and class, and counts by
    change kind, by level, by cohort and by class. ``people`` maps student id -> at least ``cohort`` and
    ``class_name`` (the roster's ``responsibles`` answer); a student it lacks is grouped as not in the roster."""
    rows = []
    by_cohort: dict[str, Counter] = {}
    by_class: dict[str, Counter] = {}
    for change in comparison.changes:
        person = people.get(change.student_id) or {}
        cohort = _key(person.get("cohort"))
        class_name = _key(person.get("class_name"))
        rows.append({"student_id": change.student_id, "name": person.get("name"), "cohort": cohort,
                     "class_name": class_name, "semester": change.semester, "kind": change.kind,
                     "old_level": change.old_level, "new_level": change.new_level, "rules": list(change.rules)})
        by_cohort.setdefault(cohort, Counter())[change.kind] += 1
        by_class.setdefault(class_name, Counter())[change.kind] += 1
    return {
        "current_policy": comparison.current_version,
        "candidate_policy": comparison.candidate_version,
        "semester": comparison.semester,
        "students": comparison.students,
        "changes": rows,
        "by_kind": _kinds(Counter(change.kind for change in comparison.changes)),
        "by_level": {level: {"today": comparison.today[level], "candidate": comparison.candidate[level],
                             "difference": comparison.candidate[level] - comparison.today[level]}
                     for level in LEVELS},
        "by_cohort": {cohort: _kinds(counts) for cohort, counts in sorted(by_cohort.items())},
        "by_class": {name: _kinds(counts) for name, counts in sorted(by_class.items())},
    }


def _in_scope(standings: Mapping[str, Standing], semester: str | None) -> dict[str, Standing]:
    if semester is None:
        return dict(standings)
    return {semester: standings[semester]} if semester in standings else {}


def _kinds(counts: Counter) -> dict[str, int]:
    return {**{kind: counts[kind] for kind in CHANGE_KINDS}, "total": sum(counts.values())}


def _key(value) -> str:
    return NOT_IN_ROSTER if value in (None, "") else str(value)
