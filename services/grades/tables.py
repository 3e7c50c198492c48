"""The grades service's own database: uploads, grade records by natural key, and their corrections."""
from sqlalchemy import Column, DateTime, Float, Index, Integer, MetaData, String, Table, Text

from shared.messaging.tables import add_messaging_tables

metadata = MetaData()

uploads = Table(
    "uploads", metadata,
    Column("upload_id", String(64), primary_key=True),
    Column("filename", String(255), nullable=False),
    Column("sha256", String(64), nullable=False, index=True),
    Column("uploaded_by", String(64), nullable=False),
    Column("received_at", DateTime(timezone=True), nullable=False),
    Column("rows", Integer, nullable=False),
    Column("new", Integer, nullable=False),
    Column("corrected", Integer, nullable=False),
    Column("unchanged", Integer, nullable=False),
    Column("batches", Integer, nullable=False),
)

# The natural key of a grade record (files.md): student, semester, course, exam type.
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
    Column("upload_id", String(64), nullable=False),
    # An upload's records read back student by student (handlers._changed_by_student pages through them in key
    # order): with an index on upload_id alone every page sorted the rest of the upload, quadratic in its size.
    Index("ix_grade_records_upload_student", "upload_id", "student_id"),
)

corrections = Table(
    "corrections", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("student_id", String(32), nullable=False, index=True),
    Column("semester", String(16), nullable=False),
    Column("course_code", String(64), nullable=False),
    Column("exam_type", String(16), nullable=False),
    Column("old_values", Text, nullable=False),    # JSON of the fields that changed, before
    Column("new_values", Text, nullable=False),    # and after
    Column("upload_id", String(64), nullable=False),
    Column("changed_by", String(64), nullable=False),
    Column("changed_at", DateTime(timezone=True), nullable=False),
)

MESSAGING = add_messaging_tables(metadata)
