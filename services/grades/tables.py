"""The grades service's own database: uploads, grade records by natural key, and their corrections."""
from sqlalchemy import Column, DateTime, Float, Integer, MetaData, String, Table, Text

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
    # Which upload wrote the record last. Not indexed: nothing looks records up by upload (the announcement is made
    # from the records as they are written), and an index costs PostgreSQL an insertion per stored record.
    Column("upload_id", String(64), nullable=False),
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
