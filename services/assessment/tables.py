"""The assessment service's own database.

grade_records    its own copy of the grade records (it may not read the grades service's tables)
upload_progress  how many of an upload's batches arrived, and how many there are: flags are decided only
                 when the whole upload is in, so a half-arrived upload never flags (or unflags) a course
upload_courses   the (semester, course) offerings each upload touched
course_flags     the offerings above the failure-rate threshold, and the ones that fell back
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

MESSAGING = add_messaging_tables(metadata)
