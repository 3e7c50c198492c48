"""The roster's own database: classes, students with their guardians' contacts, staff and their scopes.

Only this service and notification ever see a guardian's phone or e-mail; events carry no contacts.
"""
from sqlalchemy import Column, DateTime, Integer, MetaData, String, Table, Text

from shared.messaging.tables import add_messaging_tables

metadata = MetaData()

classes = Table(
    "classes", metadata,
    Column("class_name", String(64), primary_key=True),
    Column("major", String(128), nullable=False),
    Column("cohort", Integer, nullable=False),
    Column("head_teacher_id", String(32), nullable=False),
)

students = Table(
    "students", metadata,
    Column("student_id", String(32), primary_key=True),
    Column("name", String(64), nullable=False),
    Column("class_name", String(64), nullable=False, index=True),
    Column("status", String(16), nullable=False),
    Column("email", String(254)),
    Column("phone", String(20)),
    Column("guardian_name", String(64)),
    Column("guardian_relation", String(16)),
    Column("guardian_phone", String(20)),
    Column("guardian_email", String(254)),
)

staff = Table(
    "staff", metadata,
    # One person may hold several roles (a head teacher who is also a counselor): one row per role.
    Column("staff_id", String(32), primary_key=True),
    Column("role", String(32), primary_key=True),
    Column("name", String(64), nullable=False),
    Column("scope", Text, nullable=False),     # JSON list: class names, cohorts or majors by role
    Column("email", String(254)),
    Column("phone", String(20)),
)

imports = Table(
    "imports", metadata,
    Column("import_id", String(64), primary_key=True),
    Column("imported_by", String(64), nullable=False),
    Column("imported_at", DateTime(timezone=True), nullable=False),
    Column("files", Text, nullable=False),
    Column("counts", Text, nullable=False),
)

MESSAGING = add_messaging_tables(metadata)
