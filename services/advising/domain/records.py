"""What the owner must record to close a task (duties.md): one marshmallow schema per task kind.

Every record has a ``date`` (when the talk, the meeting, the observation… took place), except a course review,
which is a written analysis. Labels (Chinese first, as in the handbook) are what the handbook export prints.
"""
from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from services.advising.domain.duties import (
    ACKNOWLEDGEMENT_FOLLOW_UP,
    CLASS_MEETING,
    COUNSELOR_LIST,
    COUNSELOR_MEETING,
    COUNSELOR_TALK,
    COURSE_REVIEW,
    FOLLOW_UP,
    INTEGRITY_TALK,
    OBSERVATION,
    PARENT_CONTACT,
    PEER_TUTORING,
    REVIEW_MEETING,
    STUDY_PLAN,
    SYMPOSIUM_REPLY,
    TALK,
)

_text = dict(required=True, validate=validate.Length(min=1, max=4000))
_name = dict(required=True, validate=validate.Length(min=1, max=200))
_names = dict(required=True, validate=validate.Length(min=1, max=200))


class TalkRecord(Schema):
    """一对一面谈, recorded in the head-teacher handbook. A follow-up date creates a follow-up task."""
    date = fields.Date(required=True)
    place = fields.String(**_text)
    discussion = fields.String(**_text)
    support_plan = fields.String(**_text)
    follow_up = fields.Date(load_default=None)

    @validates_schema
    def _follow_up_after_talk(self, data, **kwargs):
        if data.get("follow_up") and data["follow_up"] <= data["date"]:
            raise ValidationError("the follow-up must come after the talk", "follow_up")


class ParentContactRecord(Schema):
    channel = fields.String(required=True, validate=validate.OneOf(("phone", "in_person", "message")))
    date = fields.Date(required=True)
    summary = fields.String(**_text)


class ConversationRecord(Schema):
    date = fields.Date(required=True)
    summary = fields.String(**_text)


class CourseReviewRecord(Schema):
    """Written by the teacher or course group, reviewed by the department head."""
    analysis = fields.String(**_text)       # 总结分析
    causes = fields.String(**_text)         # 剖析原因
    measures = fields.String(**_text)       # 制订改进举措
    authors = fields.String(load_default=None, validate=validate.Length(max=400))   # teacher / course group


class ClassMeetingRecord(Schema):
    """专题班会: study experience, study methods."""
    date = fields.Date(required=True)
    topic = fields.String(**_name)
    attendance = fields.Integer(required=True, validate=validate.Range(min=0))
    summary = fields.String(load_default=None, validate=validate.Length(max=4000))


class ObservationRecord(Schema):
    """随堂听课."""
    date = fields.Date(required=True)
    course = fields.String(**_name)
    teacher = fields.String(**_name)
    notes = fields.String(**_text)


class StudyPlanRecord(Schema):
    """班级学业辅导计划: the class's plan, and progress on the students' own support plans."""
    date = fields.Date(required=True)
    plan = fields.String(**_text)
    students_progress = fields.String(load_default=None, validate=validate.Length(max=4000))


class FollowUpRecord(Schema):
    """Progress on one student's support plan; another follow-up date creates the next follow-up."""
    date = fields.Date(required=True)
    progress = fields.String(**_text)
    follow_up = fields.Date(load_default=None)

    @validates_schema
    def _follow_up_after(self, data, **kwargs):
        if data.get("follow_up") and data["follow_up"] <= data["date"]:
            raise ValidationError("the next follow-up must come after this one", "follow_up")


class MeetingRecord(Schema):
    """A counselor's meeting with the cohort's head teachers; the department head's academic review meeting."""
    date = fields.Date(required=True)
    attendees = fields.List(fields.String(validate=validate.Length(min=1, max=64)), required=True,
                            validate=validate.Length(min=1))
    minutes = fields.String(**_text)


class PeerTutoringRecord(Schema):
    """助学小课堂."""
    date = fields.Date(required=True)
    subject = fields.String(**_name)
    tutor = fields.String(**_name)
    attendees = fields.Integer(required=True, validate=validate.Range(min=0))


# 反馈 / 解决 / 解释: how a symposium item was answered.
ANSWER_KINDS = {"feedback": "反馈", "resolution": "解决", "explanation": "解释"}


class SymposiumReplyRecord(Schema):
    date = fields.Date(required=True)
    answer_kind = fields.String(required=True, validate=validate.OneOf(tuple(ANSWER_KINDS)))
    answer = fields.String(**_text)


class ListConfirmation(Schema):
    """The counselor confirms a counselor list (lists.py): which version, when, and any remark."""
    date = fields.Date(required=True)
    list_id = fields.String(**_name)
    version = fields.Integer(required=True, validate=validate.Range(min=1))
    comment = fields.String(load_default=None, validate=validate.Length(max=4000))


class ReviewDecision(Schema):
    """The department head's review of a submitted course review."""
    decision = fields.String(required=True, validate=validate.OneOf(("approve", "return")))
    comment = fields.String(load_default=None, validate=validate.Length(max=4000))

    @validates_schema
    def _returned_says_why(self, data, **kwargs):
        if data["decision"] == "return" and not (data.get("comment") or "").strip():
            raise ValidationError("say what is missing when returning a review", "comment")


RECORD_SCHEMAS = {TALK: TalkRecord, PARENT_CONTACT: ParentContactRecord, COUNSELOR_TALK: ConversationRecord,
                  INTEGRITY_TALK: ConversationRecord, COURSE_REVIEW: CourseReviewRecord,
                  CLASS_MEETING: ClassMeetingRecord, OBSERVATION: ObservationRecord, STUDY_PLAN: StudyPlanRecord,
                  FOLLOW_UP: FollowUpRecord, COUNSELOR_MEETING: MeetingRecord, REVIEW_MEETING: MeetingRecord,
                  PEER_TUTORING: PeerTutoringRecord, SYMPOSIUM_REPLY: SymposiumReplyRecord,
                  COUNSELOR_LIST: ListConfirmation, ACKNOWLEDGEMENT_FOLLOW_UP: ParentContactRecord}

# How the handbook prints record fields.
FIELD_LABELS = {
    "date": "日期 Date", "place": "地点 Place", "discussion": "谈话内容 Discussion",
    "support_plan": "帮扶计划 Support plan", "follow_up": "跟进日期 Follow-up", "channel": "方式 Channel",
    "summary": "摘要 Summary", "analysis": "总结分析 Analysis", "causes": "剖析原因 Causes",
    "measures": "改进举措 Measures", "authors": "撰写 Authors", "topic": "主题 Topic",
    "attendance": "出席人数 Attendance", "course": "课程 Course", "teacher": "教师 Teacher", "notes": "听课记录 Notes",
    "plan": "辅导计划 Plan", "students_progress": "学生帮扶进展 Students' progress", "progress": "进展 Progress",
    "attendees": "参加人员 Attendees", "minutes": "会议纪要 Minutes", "subject": "科目 Subject",
    "tutor": "辅导人 Tutor", "answer_kind": "答复类型 Answer", "answer": "答复 Reply",
    "list_id": "名单 List", "version": "版本 Version", "comment": "备注 Comment",
}


def check_record(kind: str, record: dict) -> dict:
    """The record as stored (JSON-ready), or ValidationError naming each bad field."""
    schema = RECORD_SCHEMAS[kind]()
    loaded = schema.load(record)
    return schema.dump(loaded)


def check_decision(decision: dict) -> dict:
    schema = ReviewDecision()
    return schema.dump(schema.load(decision))


def record_date(record: dict | None) -> str | None:
    """The ISO date the record says the duty was done on (None for a course review)."""
    return (record or {}).get("date")


__all__ = ["check_record", "check_decision", "record_date", "ValidationError", "ANSWER_KINDS", "FIELD_LABELS"]
