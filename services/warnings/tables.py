"""The warnings service's own database.

grade_records   its own copy of every grade record it was told about (the policy needs a student's whole
                history; it may not read the grades service's tables)
warnings        the current standing per (student, semester): level, status active/lifted, reasons
warning_changes every change announced (issued / escalated / downgraded / lifted), with a stable id that
                notices and tasks name as their cause
"""
from sqlalchemy import Boolean, Column, DateTime, Float, MetaData, String, Table, Text

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
)

warnings = Table(
    "warnings", metadata,
    Column("student_id", String(32), primary_key=True),
    Column("semester", String(16), primary_key=True),
    Column("level", String(8), nullable=False),          # the current level, or the last one if lifted
    Column("status", String(8), nullable=False),         # active | lifted
    Column("escalated", Boolean, nullable=False),
    Column("reasons", Text, nullable=False),             # JSON list (contracts ReasonSchema)
    Column("policy_version", String(64), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

warning_changes = Table(
    "warning_changes", metadata,
    Column("change_id", String(64), primary_key=True),
    Column("student_id", String(32), nullable=False, index=True),
    Column("semester", String(16), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("old_level", String(8), nullable=False),
    Column("new_level", String(8), nullable=False),
    Column("escalated", Boolean, nullable=False),
    Column("reasons", Text, nullable=False),
    Column("policy_version", String(64), nullable=False),
    Column("correlation_id", String(64), nullable=False, index=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

MESSAGING = add_messaging_tables(metadata)
