"""Mid-term teaching symposium (期中教学座谈会) feedback, tracked until adopted or explained (duties.md).

An item is raised (topic, course/teacher concerned, raised by, date), routed to a department (its department head
answers) or a teacher, answered as 反馈 feedback / 解决 resolution / 解释 explanation, and closed by the vice dean
as ADOPTED (the answer or measure is taken up) or EXPLAINED (the explanation is accepted). Until then it is open,
and the vice dean sees for how long.

    raised ──route──▶ routed ──answer──▶ answered ──close──▶ adopted | explained
              ▲  (re-route)  │               │
              └──────────────┴───────────────┘  (re-route: the answer did not settle it)
"""
from __future__ import annotations

from datetime import date

from marshmallow import Schema, fields, validate

RAISED = "raised"
ROUTED = "routed"
ANSWERED = "answered"
ADOPTED = "adopted"
EXPLAINED = "explained"
OPEN_STATUSES = (RAISED, ROUTED, ANSWERED)
OUTCOMES = (ADOPTED, EXPLAINED)
ROUTE_KINDS = ("department", "teacher")


class SymposiumRefused(ValueError):
    """The step does not fit the item's state or the person taking it."""


class ItemSchema(Schema):
    """A piece of feedback as raised at the symposium."""
    semester = fields.String(required=True, validate=validate.Regexp(r"^\d{4}-\d{4}-[123]$"))
    topic = fields.String(required=True, validate=validate.Length(min=1, max=2000))
    course_code = fields.String(load_default=None, validate=validate.Length(max=64))
    course_name = fields.String(load_default=None, validate=validate.Length(max=200))
    teacher = fields.String(load_default=None, validate=validate.Length(max=64))
    raised_by = fields.String(required=True, validate=validate.Length(min=1, max=200))
    raised_on = fields.Date(required=True)


def check_item(item: dict) -> dict:
    schema = ItemSchema()
    return schema.load(item)


def route(status: str) -> str:
    if status not in OPEN_STATUSES:
        raise SymposiumRefused(f"the item is {status}; a closed item is not routed again")
    return ROUTED


def answer(status: str, assignee: str | None, answered_by: str) -> str:
    if status != ROUTED:
        raise SymposiumRefused(f"the item is {status}; only a routed item is answered")
    if answered_by != assignee:
        raise SymposiumRefused(f"the item was routed to {assignee}, not {answered_by}")
    return ANSWERED


def close(status: str, outcome: str) -> str:
    if outcome not in OUTCOMES:
        raise SymposiumRefused(f"an item is closed as {' or '.join(OUTCOMES)}, not {outcome!r}")
    if status != ANSWERED:
        raise SymposiumRefused(f"the item is {status}; only an answered item is closed")
    return outcome


def age_days(raised_on: date, today: date) -> int:
    """How long an item has been open, in days."""
    return max(0, (today - raised_on).days)
