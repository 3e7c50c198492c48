"""The data schema of every event type. Change a schema only by adding a new version."""
from marshmallow import Schema, fields, validate

from shared.academic.vocabulary import COURSE_TYPES, EXAM_TYPES, LEVELS

LEVEL_OR_NONE = validate.OneOf(("none",) + LEVELS)


class GradeRecordSchema(Schema):
    student_id = fields.String(required=True)
    semester = fields.String(required=True, metadata={"description": "YYYY-YYYY-T"})
    course_code = fields.String(required=True)
    course_name = fields.String(required=True)
    credits = fields.Float(required=True)
    course_type = fields.String(required=True, validate=validate.OneOf(COURSE_TYPES))
    exam_type = fields.String(required=True, validate=validate.OneOf(EXAM_TYPES))
    score = fields.String(required=True, metadata={"description": "Raw score text (policy.md §1); empty = no result yet."})
    teacher = fields.String(required=True)
    offering_college = fields.String(required=True, metadata={"description": "Empty = this college."})


class StoredRecordSchema(GradeRecordSchema):
    change = fields.String(required=True, validate=validate.OneOf(("new", "corrected")))
    previous_score = fields.String(allow_none=True, load_default=None)


class RecordsStoredSchema(Schema):
    """A batch of new or corrected grade records. One student's records of an upload are never split."""
    upload_id = fields.String(required=True)
    batch = fields.Integer(required=True, metadata={"description": "1-based batch number within the upload."})
    records = fields.List(fields.Nested(StoredRecordSchema), required=True)


class UploadCompletedSchema(Schema):
    """Every batch of the upload has been announced."""
    upload_id = fields.String(required=True)
    filename = fields.String(required=True)
    uploaded_by = fields.String(required=True)
    rows = fields.Integer(required=True)
    new = fields.Integer(required=True)
    corrected = fields.Integer(required=True)
    unchanged = fields.Integer(required=True)
    batches = fields.Integer(required=True, metadata={"description": "How many records_stored batches came before."})


class ReasonCourseSchema(Schema):
    course_code = fields.String(required=True)
    course_name = fields.String(required=True)
    credits = fields.Float(required=True)
    result = fields.String(required=True, metadata={"description": "Best result, as its raw score text."})


class ReasonSchema(Schema):
    rule = fields.String(required=True)
    level = fields.String(required=True, validate=validate.OneOf(LEVELS))
    measure = fields.Float(required=True)
    threshold = fields.Float(required=True)
    comparison = fields.String(required=True, validate=validate.OneOf((">=", "<")))
    courses = fields.List(fields.Nested(ReasonCourseSchema), required=True)


class WarningChangeSchema(Schema):
    change_id = fields.String(required=True, metadata={"description": "Stable id of this change; tasks and notices name it as their cause."})
    student_id = fields.String(required=True)
    semester = fields.String(required=True)
    kind = fields.String(required=True, validate=validate.OneOf(("issued", "escalated", "downgraded", "lifted")))
    old_level = fields.String(required=True, validate=LEVEL_OR_NONE)
    new_level = fields.String(required=True, validate=LEVEL_OR_NONE)
    escalated = fields.Boolean(required=True, metadata={"description": "Escalation applied to the new level."})
    reasons = fields.List(fields.Nested(ReasonSchema), required=True)
    policy_version = fields.String(required=True)


class WarningsChangedSchema(Schema):
    changes = fields.List(fields.Nested(WarningChangeSchema), required=True)


class CourseFlagSchema(Schema):
    semester = fields.String(required=True)
    course_code = fields.String(required=True)
    course_name = fields.String(required=True)
    teacher = fields.String(required=True)
    offering_college = fields.String(required=True)
    external = fields.Boolean(required=True, metadata={"description": "Taught by another college."})
    majors = fields.List(fields.String(), required=True, metadata={"description": "Majors of the students who sat it, most first."})
    rate = fields.Float(required=True)
    failed = fields.Integer(required=True)
    total = fields.Integer(required=True)
    threshold = fields.Float(required=True)
    previous_rate = fields.Float(allow_none=True, required=True)
    previous_semester = fields.String(allow_none=True, required=True)
    change = fields.String(required=True, validate=validate.OneOf(("flagged", "updated", "unflagged")))


class CourseFlagsChangedSchema(Schema):
    upload_id = fields.String(required=True)
    flags = fields.List(fields.Nested(CourseFlagSchema), required=True)


class RosterClassSchema(Schema):
    class_name = fields.String(required=True)
    major = fields.String(required=True)
    cohort = fields.Integer(required=True)
    head_teacher_id = fields.String(required=True)


class RosterStudentSchema(Schema):
    student_id = fields.String(required=True)
    name = fields.String(required=True)
    class_name = fields.String(required=True)
    status = fields.String(required=True, validate=validate.OneOf(("enrolled", "suspended", "withdrawn", "graduated")))


class RosterStaffSchema(Schema):
    staff_id = fields.String(required=True)
    name = fields.String(required=True)
    role = fields.String(required=True)
    scope = fields.List(fields.String(), required=True)


class RosterImportedSchema(Schema):
    """What an import added or changed. Contacts (phones, e-mail) never travel in events."""
    import_id = fields.String(required=True)
    classes = fields.List(fields.Nested(RosterClassSchema), required=True)
    students = fields.List(fields.Nested(RosterStudentSchema), required=True)
    staff = fields.List(fields.Nested(RosterStaffSchema), required=True)


class TaskSchema(Schema):
    task_id = fields.String(required=True)
    kind = fields.String(required=True)
    assignee = fields.String(required=True, metadata={"description": "Staff id."})
    student_id = fields.String(allow_none=True, required=True)
    course_code = fields.String(allow_none=True, required=True)
    semester = fields.String(required=True)
    due = fields.String(required=True, metadata={"description": "ISO date."})
    status = fields.String(required=True)
    cause = fields.String(required=True)


class TasksChangedSchema(Schema):
    tasks = fields.List(fields.Nested(TaskSchema), required=True)
