"""A student's warning history (aq warnings history): warnings with their reasons and review, the notices and
acknowledgements they caused, staff's tasks and records, the counselor lists — merged by aq_cli/timeline.py, the
same plain functions the command uses. The student id travels in the POST body, never in the URL."""
from __future__ import annotations

from marshmallow import fields, validate

from aq_cli import timeline
from services.gateway.api.common import Body, Out, id_field
from services.gateway.domain.masking import mask_text, mask_values
from services.gateway.errors import Forbidden, ServiceUnavailable
from services.gateway.routes import endpoint


class TimelineBody(Body):
    student_id = id_field(required=True)
    locale = fields.String(load_default="zh", validate=validate.OneOf(timeline.WORDS),
                           metadata={"description": "the language of each happening's text"})


class TimelineChannel(Out):
    channel = fields.String()
    status = fields.String()
    sent_at = fields.String(allow_none=True)


class TimelineEvent(Out):
    """One happening. ``source`` and ``what`` say which of the other fields it has (docs/warnings.md)."""
    at = fields.String(allow_none=True)
    semester = fields.String(metadata={"description": "its semester, or ? when it cannot be told"})
    source = fields.String(metadata={"description": "warning, list, notice, acknowledgement or task"})
    what = fields.String(metadata={"description": "e.g. issued, escalated, excluded, released; requested, "
                                                 "acknowledged, overdue; created, closed, reminded, escalated…"})
    text = fields.String(metadata={"description": "the happening in one line, in the locale asked for"})
    # warnings
    change_id = fields.String(allow_none=True)
    old_level = fields.String(allow_none=True)
    new_level = fields.String(allow_none=True)
    escalated = fields.Boolean(allow_none=True)
    reasons = fields.List(fields.Dict(), allow_none=True)
    policy_version = fields.String(allow_none=True)
    release_status = fields.String(allow_none=True)
    note = fields.String(allow_none=True)
    # notices and acknowledgements
    recipient_kind = fields.String(allow_none=True)
    recipient_id = fields.String(allow_none=True)
    cause = fields.String(allow_none=True)
    channels = fields.List(fields.Nested(TimelineChannel), allow_none=True)
    status = fields.String(allow_none=True)
    expires_at = fields.String(allow_none=True)
    signer = fields.String(allow_none=True)
    channel = fields.String(allow_none=True)
    # tasks and lists
    task_id = fields.String(allow_none=True)
    kind = fields.String(allow_none=True)
    assignee = fields.String(allow_none=True)
    due = fields.String(allow_none=True)
    by = fields.String(allow_none=True)
    date = fields.String(allow_none=True)
    summary = fields.String(allow_none=True)
    detail = fields.Dict(allow_none=True)
    list_id = fields.String(allow_none=True)
    cohort = fields.String(allow_none=True)
    version = fields.Integer(allow_none=True)
    confirmed_by = fields.String(allow_none=True)
    level = fields.String(allow_none=True)
    failed_courses = fields.List(fields.String(), allow_none=True)


class TimelineSemester(Out):
    semester = fields.String()
    events = fields.List(fields.Nested(TimelineEvent))


class TimelineStanding(Out):
    semester = fields.String()
    level = fields.String()
    status = fields.String()
    escalated = fields.Boolean(allow_none=True)
    policy_version = fields.String(allow_none=True)
    updated_at = fields.String(allow_none=True)


class TimelineStudent(Out):
    name = fields.String(allow_none=True)
    class_name = fields.String(allow_none=True)
    major = fields.String(allow_none=True)
    cohort = fields.Integer(allow_none=True)


class TimelineOut(Out):
    student_id = fields.String()
    student = fields.Nested(TimelineStudent, allow_none=True)
    standings = fields.List(fields.Nested(TimelineStanding))
    semesters = fields.List(fields.Nested(TimelineSemester))
    missing = fields.Dict(keys=fields.String(), values=fields.String(),
                          metadata={"description": "parts whose service did not answer: warnings, notices, tasks"})


@endpoint("POST", "/api/warnings/history", name="warnings.history", permission="warnings.read",
          request=TimelineBody(), response=TimelineOut(), audit="read",
          summary="One student's warning timeline across semesters: warnings (reasons, policy version, review), "
                  "notices and acknowledgements, tasks with their records, counselor lists. A part whose service "
                  "does not answer is named in `missing`; the rest is shown.")
def history(ctx, body):
    student_id, locale = body["student_id"], body["locale"]
    person = ctx.rpc("roster", "responsibles", student_ids=[student_id]).get(student_id)
    if not ctx.principal.covers_student(person):
        raise Forbidden("this student is outside the classes, cohorts or majors you are responsible for",
                        field="student_id")
    answers, missing = timeline.gather(lambda service, method, sid: ctx.rpc(service, method, student_id=sid),
                                       student_id)
    if len(missing) == len(timeline.PARTS):
        service = next(iter(missing.values())).split(":", 1)[0]
        raise ServiceUnavailable(service, "none of warnings, notification and advising answered; try again "
                                          "in a moment")
    merged = timeline.merge(student_id, answers, missing)
    for group in merged["semesters"]:
        # What staff typed (a talk's summary, an exclusion's reason) may hold a phone number or an address.
        group["events"] = [{**mask_values(event), "text": mask_text(timeline.describe(event, locale))}
                           for event in group["events"]]
    merged["missing"] = {part: mask_text(why) for part, why in merged["missing"].items()}
    person = person or {}
    merged["student"] = {k: person.get(k) for k in ("name", "class_name", "major", "cohort")}
    return merged
