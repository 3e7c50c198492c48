"""The nouns of academic warnings (policy.md §1, §4, §5).

A ``GradeRecord`` is one sitting of one course, in canonical codes (shared/academic); a ``Standing`` is what the
policy says about a student at one semester; a ``Change`` is the difference between two standings that the
service announces (issued / escalated / downgraded / lifted).
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import NamedTuple

from shared.academic.vocabulary import LEVELS, TOP_ORDINARY_LEVEL, level_rank

# Events and the change table write "no warning" as a word; inside the domain it is ``None``.
NONE = "none"

ISSUED, ESCALATED, DOWNGRADED, LIFTED = "issued", "escalated", "downgraded", "lifted"
CHANGE_KINDS = (ISSUED, ESCALATED, DOWNGRADED, LIFTED)


class GradeRecord(NamedTuple):
    """One sitting, as the warnings service keeps it (teacher and offering college play no part in warnings).
    (A NamedTuple: every evaluation builds one per record of the students' histories, and a tuple is several
    times cheaper to build than a frozen dataclass; a row of the service's table is one as it is.)"""
    student_id: str
    semester: str        # YYYY-YYYY-T
    course_code: str
    course_name: str
    credits: float
    course_type: str     # required | restricted | elective
    exam_type: str       # regular | makeup | retake | deferred
    score: str           # raw text, read with shared.academic.scores.read_score

    @classmethod
    def from_dict(cls, data: Mapping) -> "GradeRecord":
        """From a ``GradeRecordSchema``-shaped dict (extra keys such as ``teacher`` are ignored)."""
        return cls(
            student_id=str(data["student_id"]), semester=data["semester"], course_code=data["course_code"],
            course_name=data["course_name"], credits=float(data["credits"]), course_type=data["course_type"],
            exam_type=data["exam_type"], score="" if data["score"] is None else str(data["score"]))


@dataclass(frozen=True)
class Standing:
    """A student's warning at one semester at which they were evaluated.

    ``level`` is None when no warning applies. ``reasons`` holds one ``ReasonSchema``-shaped dict per rule that
    fired (each with the level that rule alone gives); ``escalated`` says the previous semester's warning raised
    the level one step — true also when the level was already red and could not rise (policy.md §4).
    """
    level: str | None
    escalated: bool = False
    reasons: tuple[dict, ...] = ()

    @property
    def rules(self) -> tuple[str, ...]:
        return tuple(reason["rule"] for reason in self.reasons)


@dataclass(frozen=True)
class Change:
    """One announced difference (policy.md §5). Levels are words here: none / yellow / orange / red / dismissal."""
    kind: str
    student_id: str
    semester: str
    old_level: str
    new_level: str


def level_word(level: str | None) -> str:
    return NONE if level in (None, NONE) else level


def raise_one_step(level: str) -> str:
    """yellow → orange → red; red stays red (ordinary escalation never reaches dismissal, and never lowers it)."""
    if level_rank(level) >= level_rank(TOP_ORDINARY_LEVEL):
        return level
    return LEVELS[level_rank(level)]
