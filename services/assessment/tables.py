"""The assessment service's own database.

grade_records    its own copy of the grade records (it may not read the grades service's tables)
upload_progress  how many of an upload's batches arrived, and how many there are: flags are decided only
                 when the whole upload is in, so a half-arrived upload never flags (or unflags) a course
upload_courses   the (semester, course) offerings each upload touched
course_flags     the offerings above the failure-rate threshold, and the ones that fell back
roster_*         projection of roster.imported: classes, students (no contacts), staff
duty_tasks       projection of advising.tasks_changed: each task's latest status, and when it was first done
warning_levels   projection of warnings.changed: each student's current level per semester
symposium_items  projection of advising.symposium_changed: mid-term symposium feedback items and their status
outcomes         CET scores, certificates, destinations, awards, enrolment (files.md "Outcomes"), owned here
outcome_imports  each accepted outcomes file
"""
from sqlalchemy import Boolean, Column, DateTime, Float, Integer, MetaData, String, Table, Text

from shared.messaging.tables import add_messaging_tables

metadata = MetaData()

grade_records = Table(
    "grade_records", metadata,
    Column("student_id", String(32), primary_key=True),
    Column("semester", String(16), primary_key=True),
    Column("course_code", String(64), primary_key=True),
    Column("exam_type", String(16), primary_key=True),
    Column("course_name", String(255), nullable=False),
    Column("credits", Float, nullable=False),
    Column("course_type", String(16), nullable=False),
    Column("score", String(32), nullable=False),
    Column("teacher", String(128), nullable=False),
    Column("offering_college", String(128), nullable=False),
)

upload_progress = Table(
    "upload_progress", metadata,
    Column("upload_id", String(64), primary_key=True),
    Column("batches_expected", Integer),
    Column("batches_received", Integer, nullable=False),
    Column("decided_at", DateTime(timezone=True)),
)

upload_courses = Table(
    "upload_courses", metadata,
    Column("upload_id", String(64), primary_key=True),
    Column("semester", String(16), primary_key=True),
    Column("course_code", String(64), primary_key=True),
)

course_flags = Table(
    "course_flags", metadata,
    Column("semester", String(16), primary_key=True),
    Column("course_code", String(64), primary_key=True),
    Column("teacher", String(128), primary_key=True),
    Column("course_name", String(255), nullable=False),
    Column("offering_college", String(128), nullable=False),
    Column("external", Boolean, nullable=False),
    Column("majors", Text, nullable=False),
    Column("rate", Float, nullable=False),
    Column("failed", Integer, nullable=False),
    Column("total", Integer, nullable=False),
    Column("threshold", Float, nullable=False),
    Column("previous_rate", Float),
    Column("previous_semester", String(16)),
    Column("flagged", Boolean, nullable=False),
    Column("upload_id", String(64), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)


# --- projections of other services' events (never their tables) and the outcomes this service owns -----------------
# Rows from events carry ``event_time``: an older event arriving late never overwrites a newer one.

roster_classes = Table(
    "roster_classes", metadata,
    Column("class_name", String(128), primary_key=True),
    Column("major", String(128), nullable=False),
    Column("cohort", Integer, nullable=False),
    Column("head_teacher_id", String(64), nullable=False),
    Column("event_time", String(40), nullable=False),
)

roster_students = Table(
    "roster_students", metadata,
    Column("student_id", String(32), primary_key=True),
    Column("name", String(128), nullable=False),
    Column("class_name", String(128), nullable=False),
    Column("status", String(16), nullable=False),
    Column("event_time", String(40), nullable=False),
)

roster_staff = Table(
    "roster_staff", metadata,
    Column("staff_id", String(64), primary_key=True),
    Column("role", String(32), primary_key=True),
    Column("name", String(128), nullable=False),
    Column("scope", Text, nullable=False),          # JSON list
    Column("event_time", String(40), nullable=False),
)

duty_tasks = Table(
    "duty_tasks", metadata,
    Column("task_id", String(64), primary_key=True),
    Column("kind", String(32), nullable=False),
    Column("assignee", String(64), nullable=False),
    Column("student_id", String(32)),
    Column("course_code", String(64)),
    Column("semester", String(16), nullable=False),
    Column("due", String(10), nullable=False),       # ISO date
    Column("status", String(32), nullable=False),
    Column("cause", String(255), nullable=False),
    Column("done_on", String(10)),                   # college date the task was first seen done
    Column("event_time", String(40), nullable=False),
)

warning_levels = Table(
    "warning_levels", metadata,
    Column("student_id", String(32), primary_key=True),
    Column("semester", String(16), primary_key=True),
    Column("level", String(16), nullable=False),     # none / yellow / orange / red
    Column("escalated", Boolean, nullable=False),
    Column("change_id", String(64), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("event_time", String(40), nullable=False),
)

outcomes = Table(
    "outcomes", metadata,
    Column("natural_key", String(400), primary_key=True),
    Column("kind", String(16), nullable=False),      # cet4 cet6 graduation degree destination award enrolment
    Column("student_id", String(32), nullable=False),   # "" for enrolment
    Column("date", String(10), nullable=False),         # ISO date, "" when not given
    Column("value", String(255), nullable=False),
    Column("level", String(16), nullable=False),
    Column("import_id", String(64), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

outcome_imports = Table(
    "outcome_imports", metadata,
    Column("import_id", String(64), primary_key=True),
    Column("filename", String(255), nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("imported_by", String(64), nullable=False),
    Column("imported_at", DateTime(timezone=True), nullable=False),
    Column("rows", Integer, nullable=False),
    Column("new", Integer, nullable=False),
    Column("changed", Integer, nullable=False),
    Column("unchanged", Integer, nullable=False),
)

symposium_items = Table(
    "symposium_items", metadata,
    Column("item_id", String(64), primary_key=True),
    Column("semester", String(16), nullable=False),
    Column("topic", Text, nullable=False),
    Column("course_code", String(64)),
    Column("teacher", String(128)),
    Column("raised_by", String(128), nullable=False),
    Column("raised_on", String(10), nullable=False),
    Column("status", String(16), nullable=False),
    Column("routed_to", String(128)),
    Column("assignee", String(64)),
    Column("answer_kind", String(16)),
    Column("event_time", String(40), nullable=False),
)

MESSAGING = add_messaging_tables(metadata)
