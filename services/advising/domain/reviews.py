"""A flagged course's review, and the check the next time the course's grades arrive (duties.md, kpis.md).

The review is closed in two steps (duties.py ``TWO_STEP_KINDS``): the teacher or course group submits the analysis,
the department head approves it (done) or returns it (open again). Then the loop closes: the next offering of the
course — the first later semester in which its rate is known — shows whether the failure rate fell, and the review
task records "rate then → rate now".

A rate observation is any mapping with semester, course_code, teacher, rate (and failed, total, change): today the
``assessment.course_flags_changed`` flags (``CourseFlagSchema``) and the previous offering each flag names, so a
next offering is seen when it is flagged, or — when it was not flagged — once a later offering is flagged and
names it as its previous one.
"""
from __future__ import annotations

from collections.abc import Mapping

from shared.academic.semesters import sort_key

from .duties import DONE, OPEN, SUBMITTED
from .tasks import course_review_cause


class ReviewStepRefused(ValueError):
    """The step does not fit the review's state or the person taking it."""


def submit(review: Mapping, submitted_by: str) -> str:
    """The status after the teacher or course group submits the analysis."""
    if review["status"] != OPEN:
        raise ReviewStepRefused(f"task {review['task_id']} is {review['status']}; only an open review is submitted")
    return SUBMITTED


def decide(review: Mapping, reviewer: str, decision: str) -> str:
    """The status after the department head's decision (approve → done, return → open)."""
    if reviewer != review["assignee"]:
        raise ReviewStepRefused(f"task {review['task_id']} is reviewed by {review['assignee']}, not {reviewer}")
    if review["status"] != SUBMITTED:
        raise ReviewStepRefused(f"task {review['task_id']} is {review['status']}; nothing was submitted to review")
    return DONE if decision == "approve" else OPEN


def updated_rate(review: Mapping, flag: Mapping) -> dict | None:
    """A later change of the reviewed offering's own flag (grades corrected): the review's detail with the
    offering's latest rate, or None when ``flag`` is about another offering or changes nothing."""
    if flag.get("change") not in ("updated", "unflagged") or course_review_cause(flag) != review["cause"]:
        return None
    detail = dict(review["detail"])
    if (detail.get("rate"), detail.get("failed"), detail.get("total")) == (flag["rate"], flag["failed"], flag["total"]):
        return None
    detail.update(rate=flag["rate"], failed=flag["failed"], total=flag["total"], flag_change=flag["change"])
    return detail


def observations_from_flags(flags: list[Mapping]) -> list[dict]:
    """Rate observations a batch of flags gives: each flag's own offering, and the offering before it
    (``previous_semester`` / ``previous_rate``). The latter is how a next offering that was NOT flagged (its
    rate fell to or under the threshold) becomes known: when the course is flagged again later. Its teacher
    is unknown (the previous rate is that teacher's when they taught it then, else the whole course's)."""
    found = []
    for flag in flags:
        found.append(dict(flag))
        if flag.get("previous_semester") and flag.get("previous_rate") is not None:
            found.append({"semester": flag["previous_semester"], "course_code": flag["course_code"],
                          "teacher": None, "rate": flag["previous_rate"], "failed": None, "total": None,
                          "threshold": flag.get("threshold"), "change": "previous"})
    return found


def percent(rate: float | None) -> str:
    return "—" if rate is None else f"{rate * 100:.1f}%"


def review_check(review: Mapping, observed: Mapping) -> dict | None:
    """What the next offering says about a review: "rate then → rate now", and whether it fell. None when
    ``observed`` is not the review's course, not later, or not the offering the check is about (the check is
    made at the NEXT offering; among its teachers, the same teacher as the reviewed offering wins)."""
    detail = review["detail"]
    if observed["course_code"] != review["course_code"]:
        return None
    if sort_key(observed["semester"]) <= sort_key(review["semester"]):
        return None
    current = review.get("outcome")
    same_teacher = observed["teacher"] == detail.get("teacher")
    if current:
        if current["semester_now"] != observed["semester"]:
            if sort_key(observed["semester"]) > sort_key(current["semester_now"]):
                return None           # checked at an earlier next offering already
        elif current.get("same_teacher") and not same_teacher:
            return None
    rate_then, rate_now = detail.get("rate"), observed["rate"]
    fell = None if rate_then is None else rate_now < rate_then
    return {
        "semester_then": review["semester"], "rate_then": rate_then, "teacher_then": detail.get("teacher"),
        "semester_now": observed["semester"], "rate_now": rate_now, "teacher_now": observed["teacher"],
        "failed_now": observed.get("failed"), "total_now": observed.get("total"),
        "same_teacher": same_teacher, "fell": fell,
        "still_flagged": (rate_now > observed["threshold"] if observed.get("change") == "previous"
                          and observed.get("threshold") is not None
                          else observed.get("change", "flagged") != "unflagged"),
        "text": f"{percent(rate_then)} → {percent(rate_now)}"
                + ("" if fell is None else (" (fell)" if fell else " (did not fall)")),
    }
