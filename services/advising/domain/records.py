"""What the owner must record to close a task (duties.md): one marshmallow schema per task kind."""
from marshmallow import Schema, ValidationError, fields, validate

from services.advising.domain.duties import COUNSELOR_TALK, COURSE_REVIEW, INTEGRITY_TALK, PARENT_CONTACT, TALK

_text = dict(required=True, validate=validate.Length(min=1, max=4000))


class TalkRecord(Schema):
    date = fields.Date(required=True)
    place = fields.String(**_text)
    discussion = fields.String(**_text)
    support_plan = fields.String(**_text)
    follow_up = fields.Date(load_default=None)


class ParentContactRecord(Schema):
    channel = fields.String(required=True, validate=validate.OneOf(("phone", "in_person", "message")))
    date = fields.Date(required=True)
    summary = fields.String(**_text)


class ConversationRecord(Schema):
    date = fields.Date(required=True)
    summary = fields.String(**_text)


class CourseReviewRecord(Schema):
    analysis = fields.String(**_text)       # 总结分析
    causes = fields.String(**_text)         # 剖析原因
    measures = fields.String(**_text)       # 制订改进举措


RECORD_SCHEMAS = {TALK: TalkRecord, PARENT_CONTACT: ParentContactRecord, COUNSELOR_TALK: ConversationRecord,
                  INTEGRITY_TALK: ConversationRecord, COURSE_REVIEW: CourseReviewRecord}


def check_record(kind: str, record: dict) -> dict:
    """The record as stored (JSON-ready), or ValidationError naming each bad field."""
    schema = RECORD_SCHEMAS[kind]()
    loaded = schema.load(record)
    return schema.dump(loaded)


__all__ = ["check_record", "ValidationError"]
