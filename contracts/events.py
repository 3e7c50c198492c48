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


class ReleasePendingSchema(Schema):
    batch_id = fields.Integer(required=True, metadata={"description": "The list to review: aq warnings pending --batch N."})
    source = fields.String(required=True, validate=validate.OneOf(("upload", "policy")),
                           metadata={"description": "What computed it: an upload (the correlation id) or a policy installation."})
    policy_version = fields.String(required=True)
    changes = fields.Integer(required=True, metadata={"description": "Changes waiting when the list opened (more may join while the upload is evaluated)."})
    semesters = fields.List(fields.String(), required=True)
    objection_window_hours = fields.Float(required=True)


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


# --- the school's grade system (教务系统) --------------------------------------------------------------------------
_RAW = "As the grade system has it (text or number); read exactly like the same column of a grades file (files.md)."


class ReleasedRecordSchema(Schema):
    """One row of released results: the columns of a grades file (files.md "Grades") under their English names,
    with the values as the grade system holds them. The grades service validates them like an uploaded file."""
    student_id = fields.Raw(required=True, metadata={"description": "学号. " + _RAW})
    name = fields.Raw(required=True, metadata={"description": "姓名, checked against the roster."})
    semester = fields.Raw(required=True, metadata={"description": "学年学期: 2023-2024-1, 2023-2024学年第1学期, 202301 ..."})
    course_code = fields.Raw(required=True, metadata={"description": "课程代码."})
    course_name = fields.Raw(required=True, metadata={"description": "课程名称."})
    credits = fields.Raw(required=True, metadata={"description": "学分, 0.5-20, at most one decimal."})
    course_type = fields.Raw(required=True, metadata={"description": "课程性质: 必修/限选/选修/公选 or required/restricted/elective."})
    exam_type = fields.Raw(required=True, metadata={"description": "考试性质: 正常考试/补考/重修/缓考 or regular/makeup/retake/deferred."})
    score = fields.Raw(required=True, allow_none=True, metadata={"description": "成绩 (policy.md §1); empty or null = no result yet."})
    teacher = fields.Raw(load_default="", allow_none=True, metadata={"description": "任课教师; may be empty."})
    offering_college = fields.Raw(load_default="", allow_none=True, metadata={"description": "开课学院; empty = this college."})


class ResultsReleasedSchema(Schema):
    """Published by the grade system when it releases results. Set the envelope's correlation_id to batch_id:
    `aq trace <batch_id>` then follows the cascade."""
    batch_id = fields.String(required=True, validate=validate.Length(min=1, max=64),
                             metadata={"description": "The grade system's id of this release; becomes the upload id."})
    released_by = fields.String(required=True, metadata={"description": "Who released the results (recorded with corrections)."})
    records = fields.List(fields.Nested(ReleasedRecordSchema), required=True)


class ResultsAcceptedSchema(Schema):
    """Reply to the grade system: the batch was stored (or changed nothing)."""
    batch_id = fields.String(required=True)
    upload_id = fields.String(required=True, metadata={"description": "The upload the batch became (= batch_id unless the id was used before)."})
    rows = fields.Integer(required=True)
    new = fields.Integer(required=True)
    corrected = fields.Integer(required=True)
    unchanged = fields.Integer(required=True)


class BatchProblemSchema(Schema):
    row = fields.Integer(allow_none=True, required=True, metadata={"description": "1-based position of the record in the batch; null = the whole batch."})
    column = fields.String(allow_none=True, required=True)
    value = fields.String(allow_none=True, required=True)
    reason_zh = fields.String(required=True)
    reason_en = fields.String(required=True)


class ResultsRejectedSchema(Schema):
    """Reply to the grade system: the batch was rejected whole, nothing was stored; every bad record is listed.
    The release itself is parked (aq dlq list) and can be replayed once the cause (e.g. the roster) is fixed."""
    batch_id = fields.String(required=True)
    count = fields.Integer(required=True)
    problems = fields.List(fields.Nested(BatchProblemSchema), required=True)
    report = fields.String(required=True, metadata={"description": "The same problems as readable text (Chinese and English)."})


class ReminderSchema(Schema):
    task_id = fields.String(required=True)
    task_kind = fields.String(required=True, metadata={"description": "talk, class_meeting, course_review… (advising duties)."})
    reminder = fields.String(required=True, validate=validate.OneOf(("due_soon", "overdue", "escalated")),
                             metadata={"description": "due_soon: before the due date; overdue: after it (repeated); escalated: the superior is told."})
    assignee = fields.String(required=True, metadata={"description": "Staff id holding the task."})
    due = fields.String(required=True, metadata={"description": "ISO date."})
    overdue_days = fields.Integer(required=True, metadata={"description": "Days past the due date; negative = days left."})
    escalate_to = fields.String(allow_none=True, required=True, metadata={"description": "Staff id of the superior told (reminder escalated), else null."})
    semester = fields.String(required=True)
    student_id = fields.String(allow_none=True, required=True)
    class_name = fields.String(allow_none=True, required=True)
    course_code = fields.String(allow_none=True, required=True)


class RemindersDueSchema(Schema):
    """Duty tasks coming due, overdue, or escalated to the holder's superior; notification tells the people."""
    reminders = fields.List(fields.Nested(ReminderSchema), required=True)


class DutyRecordSchema(Schema):
    """A record made for a duty task. The record's content (what was said) stays in advising."""
    task_id = fields.String(required=True)
    kind = fields.String(required=True)
    step = fields.String(required=True, validate=validate.OneOf(("recorded", "submitted", "approved", "returned")),
                         metadata={"description": "recorded: task closed with its record; submitted/approved/returned: a course review's two steps."})
    semester = fields.String(required=True)
    assignee = fields.String(required=True)
    recorded_by = fields.String(required=True)
    date = fields.String(allow_none=True, required=True, metadata={"description": "ISO date the duty was done on (null for a course review)."})
    student_id = fields.String(allow_none=True, required=True)
    class_name = fields.String(allow_none=True, required=True)
    cohort = fields.String(allow_none=True, required=True)
    major = fields.String(allow_none=True, required=True)
    course_code = fields.String(allow_none=True, required=True)


class RecordsChangedSchema(Schema):
    records = fields.List(fields.Nested(DutyRecordSchema), required=True)


class CourseReviewChangedSchema(Schema):
    """A flagged course's review: submitted for the department head's review, approved or returned, or checked
    against the course's next offering (rate then → rate now)."""
    task_id = fields.String(required=True)
    step = fields.String(required=True, validate=validate.OneOf(("submitted", "approved", "returned", "checked")))
    semester = fields.String(required=True, metadata={"description": "Semester of the reviewed offering."})
    course_code = fields.String(required=True)
    course_name = fields.String(allow_none=True, required=True)
    teacher = fields.String(allow_none=True, required=True)
    major = fields.String(allow_none=True, required=True)
    reviewer = fields.String(required=True, metadata={"description": "Staff id of the department head (or vice dean) reviewing it."})
    by = fields.String(allow_none=True, required=True, metadata={"description": "Who took the step (null for checked)."})
    comment = fields.String(allow_none=True, required=True)
    rate_then = fields.Float(allow_none=True, required=True)
    semester_now = fields.String(allow_none=True, required=True, metadata={"description": "checked: the next offering's semester."})
    rate_now = fields.Float(allow_none=True, required=True)
    fell = fields.Boolean(allow_none=True, required=True)


class SymposiumItemSchema(Schema):
    item_id = fields.String(required=True)
    semester = fields.String(required=True)
    topic = fields.String(required=True)
    course_code = fields.String(allow_none=True, required=True)
    teacher = fields.String(allow_none=True, required=True)
    raised_by = fields.String(required=True)
    raised_on = fields.String(required=True, metadata={"description": "ISO date."})
    status = fields.String(required=True, validate=validate.OneOf(("raised", "routed", "answered", "adopted", "explained")))
    route_kind = fields.String(allow_none=True, required=True, validate=validate.OneOf(("department", "teacher")))
    routed_to = fields.String(allow_none=True, required=True, metadata={"description": "A major (department) or a teacher's staff id."})
    assignee = fields.String(allow_none=True, required=True, metadata={"description": "Staff id who answers."})
    answer_kind = fields.String(allow_none=True, required=True, validate=validate.OneOf(("feedback", "resolution", "explanation")),
                                metadata={"description": "反馈 / 解决 / 解释"})


class SymposiumChangedSchema(Schema):
    """Mid-term teaching symposium (期中教学座谈会) feedback items raised, routed, answered or closed."""
    items = fields.List(fields.Nested(SymposiumItemSchema), required=True)


class ListReasonSchema(Schema):
    rule = fields.String(required=True)
    level = fields.String(allow_none=True, required=True)
    measure = fields.Float(allow_none=True, required=True)
    threshold = fields.Float(allow_none=True, required=True)
    comparison = fields.String(allow_none=True, required=True)


class ListCourseSchema(Schema):
    course_code = fields.String(required=True)
    course_name = fields.String(required=True)
    credits = fields.Float(required=True)
    course_type = fields.String(required=True)
    result = fields.String(required=True, metadata={"description": "Best result of the semester's records (a fail)."})


class ListEntrySchema(Schema):
    """One student on a counselor list: warned at the semester, or with a failed course in it, or both."""
    student_id = fields.String(required=True)
    name = fields.String(allow_none=True, required=True)
    class_name = fields.String(allow_none=True, required=True)
    major = fields.String(allow_none=True, required=True)
    status = fields.String(allow_none=True, required=True, metadata={"description": "Roster status (enrolled…)."})
    level = fields.String(allow_none=True, required=True, validate=validate.OneOf(LEVELS),
                          metadata={"description": "Warning level at the semester; null = no warning."})
    escalated = fields.Boolean(required=True)
    reasons = fields.List(fields.Nested(ListReasonSchema), required=True)
    failed_courses = fields.List(fields.Nested(ListCourseSchema), required=True)
    failed_credits = fields.Float(required=True)


class ListRecipientSchema(Schema):
    staff_id = fields.String(required=True)
    role = fields.String(required=True, validate=validate.OneOf(("counselor", "department_head", "head_teacher", "vice_dean")))
    covering_for = fields.String(allow_none=True, required=True, metadata={"description": "The vacant role received for."})
    scope = fields.List(fields.String(), required=True, metadata={"description": "The cohort, or the classes / majors seen."})
    student_ids = fields.List(fields.String(), required=True, metadata={"description": "The entries this recipient is sent (empty: none of theirs is on it any more)."})


class CounselorListIssuedSchema(Schema):
    """A version of a cohort's list of students with academic problems for a semester (duties.md, policy art. 4):
    each recipient is sent the entries named in its student_ids; the confirmer confirms it by confirm_due."""
    list_id = fields.String(required=True)
    semester = fields.String(required=True)
    cohort = fields.String(required=True)
    version = fields.Integer(required=True)
    previous_version = fields.Integer(allow_none=True, required=True)
    confirmer = fields.String(required=True, metadata={"description": "Staff id who confirms (the counselor, or who covers)."})
    confirm_due = fields.String(required=True, metadata={"description": "ISO date."})
    task_id = fields.String(required=True)
    students = fields.Integer(required=True)
    warned = fields.Integer(required=True)
    failed = fields.Integer(required=True)
    added = fields.List(fields.String(), required=True)
    removed = fields.List(fields.String(), required=True)
    entries = fields.List(fields.Nested(ListEntrySchema), required=True)
    recipients = fields.List(fields.Nested(ListRecipientSchema), required=True)


class DeliverySchema(Schema):
    """The outcome of one notice on one channel. Never an address: contacts stay in the roster."""
    notice_id = fields.String(required=True)
    cause = fields.String(required=True, metadata={"description": "What the notice is about: a warning change id, flag:…, digest:…"})
    kind = fields.String(required=True, metadata={"description": "warning_issued, warning_formal, course_flagged, task_digest…"})
    recipient_kind = fields.String(required=True, metadata={"description": "student, guardian, head_teacher, counselor, department_head, vice_dean, staff."})
    channel = fields.String(required=True, metadata={"description": "in_app, email, sms, wecom, dingtalk…"})
    status = fields.String(required=True, validate=validate.OneOf(("sent", "failed", "unconfirmed")),
                           metadata={"description": "sent; failed (permanently, or out of retries: the route's next channel takes over); "
                                                    "unconfirmed (handed over when the sender died; not sent again)."})
    attempts = fields.Integer(required=True)
    fallback_of = fields.String(allow_none=True, load_default=None,
                                metadata={"description": "The notice_id of the failed delivery this one stands in for."})


class DeliveriesRecordedSchema(Schema):
    """Outcomes of notice deliveries, in batches (one per upload and delivery round)."""
    deliveries = fields.List(fields.Nested(DeliverySchema), required=True)


class OverdueAcknowledgementSchema(Schema):
    """A notice that asked the student or the guardian for an acknowledgement (回执) and got none in time."""
    change_id = fields.String(required=True, metadata={"description": "The warning change whose notice was not acknowledged."})
    student_id = fields.String(required=True)
    semester = fields.String(required=True)
    level = fields.String(required=True, validate=validate.OneOf(LEVELS))
    recipient_kind = fields.String(required=True, validate=validate.OneOf(("student", "guardian")),
                                   metadata={"description": "Who has not acknowledged."})
    requested_at = fields.String(required=True, metadata={"description": "ISO date-time the notice asked for it."})
    reminded_at = fields.String(allow_none=True, required=True, metadata={"description": "ISO date-time of the reminder, or null."})
    opened = fields.Boolean(required=True, metadata={"description": "The link was opened (but not signed)."})
    days_open = fields.Integer(required=True)


class AcknowledgementOverdueSchema(Schema):
    """Acknowledgements still missing after the configured days; advising asks the head teacher to contact the family."""
    acknowledgements = fields.List(fields.Nested(OverdueAcknowledgementSchema), required=True)
