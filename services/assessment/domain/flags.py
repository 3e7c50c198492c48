"""Which offerings are flagged for review, and what changed (kpis.md; duties.md, department head).

An offering is flagged while its failure rate is STRICTLY above the threshold (15% by default; configurable).
The comparison is exact (``failed / total > threshold`` in fractions), so 3 of 20 is 15% and not flagged, however
floats round.

A decision compares the offerings just recomputed with the flags the service holds:

* not flagged → above the threshold: ``flagged`` (the department head gets a review task, duties.md)
* flagged → still above, but the counts changed: ``updated``
* flagged → at or below the threshold: ``unflagged``

Only offerings present in ``rates`` are decided: the service recomputes the offerings an upload touched and
leaves every other flag as it is.

Courses taught by another college (开课学院 not empty and not this college) are flagged like any other; the flag
says ``external`` so the notice and the review go to the vice dean, who raises it with that college.
"""
from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from fractions import Fraction
from functools import lru_cache
from typing import Any

from shared.academic.semesters import sort_key

from .failure_rates import CourseRate, OfferingKey

DEFAULT_THRESHOLD = 0.15

# A semester's place in time, parsed once per code (each flag compares it with the course's whole history).
_order = lru_cache(maxsize=1024)(sort_key)

FLAGGED = "flagged"
UPDATED = "updated"
UNFLAGGED = "unflagged"


def above_threshold(failed: int, total: int, threshold: float = DEFAULT_THRESHOLD) -> bool:
    # str() so 0.15 means fifteen hundredths, not the float nearest to it.
    return total > 0 and Fraction(failed, total) > Fraction(str(threshold))


def is_external(offering_college: str | None, home_college: str = "") -> bool:
    """Taught by another college. Empty means this college, and so does this college's own name
    (``home_college``, configurable) when a file spells it out."""
    college = (offering_college or "").strip()
    return bool(college) and college != (home_college or "").strip()


def majors_most_first(students: Iterable[str], majors_of: Mapping[str, str]) -> list[str]:
    """The majors of ``students``, the most represented first (ties by name, so the order is stable).
    Students the roster does not know are left out."""
    counts = Counter(majors_of[s] for s in students if majors_of.get(s))
    return [major for major, _ in sorted(counts.items(), key=lambda item: (-item[1], item[0]))]


def previous_offering(key: OfferingKey, history: Mapping[OfferingKey, CourseRate]) -> tuple[str, float] | None:
    """(semester, rate) of the previous offering of the course of ``key``, or None.

    The previous offering is the latest semester BEFORE this one in which the same course code had students
    with a regular-exam result (summer terms included: a course taught in summer was offered). If the same
    teacher taught it then, that teacher's rate is used — the review asks whether THIS teacher's course got
    better; otherwise the whole course's rate of that semester across its teachers (failed and total summed,
    each student is counted under one teacher only).
    """
    semester, course_code, teacher = key
    here = _order(semester)
    earlier = [
        rate for (sem, code, _), rate in history.items()
        if code == course_code and rate.total > 0 and _order(sem) < here
    ]
    if not earlier:
        return None
    latest = max(_order(rate.semester) for rate in earlier)
    then = [rate for rate in earlier if _order(rate.semester) == latest]
    own = [rate for rate in then if rate.teacher == teacher]
    chosen = own or then
    failed = sum(rate.failed for rate in chosen)
    total = sum(rate.total for rate in chosen)
    return chosen[0].semester, failed / total


def _counts(previous: Any) -> tuple[float | None, int | None, int | None]:
    """(rate, failed, total) of a held flag: a rate, a flag dict or a CourseRate."""
    if isinstance(previous, (int, float)):
        return float(previous), None, None
    if isinstance(previous, Mapping):
        return previous.get("rate"), previous.get("failed"), previous.get("total")
    return previous.rate, previous.failed, previous.total


def _changed(previous: Any, rate: CourseRate) -> bool:
    old_rate, old_failed, old_total = _counts(previous)
    if old_failed is not None and old_total is not None:
        return (old_failed, old_total) != (rate.failed, rate.total)
    return old_rate is None or abs(old_rate - rate.rate) > 1e-12


def flag_record(
    rate: CourseRate,
    change: str,
    *,
    threshold: float = DEFAULT_THRESHOLD,
    history: Mapping[OfferingKey, CourseRate] | None = None,
    majors_of: Mapping[str, str] | None = None,
    home_college: str = "",
) -> dict:
    """One flag change, shaped like ``contracts.events.CourseFlagSchema``."""
    previous = previous_offering(rate.key, history or {})
    return {
        "semester": rate.semester,
        "course_code": rate.course_code,
        "course_name": rate.course_name,
        "teacher": rate.teacher,
        "offering_college": rate.offering_college,
        "external": is_external(rate.offering_college, home_college),
        "majors": majors_most_first(rate.students, majors_of or {}),
        "rate": rate.rate,
        "failed": rate.failed,
        "total": rate.total,
        "threshold": threshold,
        "previous_rate": previous[1] if previous else None,
        "previous_semester": previous[0] if previous else None,
        "change": change,
    }


def flag_decisions(
    rates: Mapping[OfferingKey, CourseRate],
    previous_flags: Mapping[OfferingKey, Any],
    *,
    threshold: float = DEFAULT_THRESHOLD,
    history: Mapping[OfferingKey, CourseRate] | None = None,
    majors_of: Mapping[str, str] | None = None,
    home_college: str = "",
) -> list[dict]:
    """The flag changes for the offerings in ``rates``, in semester, course, teacher order.

    ``previous_flags``: the offerings flagged now, each with its held flag (a dict with rate/failed/total, a
    CourseRate, or just the rate). ``history``: rates of other offerings, for the previous offering's rate;
    ``rates`` itself is always looked in too. ``majors_of``: student id → major, from the roster.
    """
    known = {**(history or {}), **rates}
    changes = []
    for key in sorted(rates, key=lambda k: (_order(k[0]), k[1], k[2])):
        rate = rates[key]
        now = above_threshold(rate.failed, rate.total, threshold)
        held = previous_flags.get(key)
        if now and held is None:
            change = FLAGGED
        elif now and _changed(held, rate):
            change = UPDATED
        elif not now and held is not None:
            change = UNFLAGGED
        else:
            continue
        changes.append(flag_record(rate, change, threshold=threshold, history=known,
                                   majors_of=majors_of, home_college=home_college))
    return changes
