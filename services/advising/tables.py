"""The advising service's own database: the duty tasks and the records that close them."""
from sqlalchemy import Column, Date, DateTime, MetaData, String, Table, Text

from shared.messaging.tables import add_messaging_tables

metadata = MetaData()

tasks = Table(
    "tasks", metadata,
    Column("task_id", String(64), primary_key=True),
    Column("kind", String(32), nullable=False, index=True),
    Column("assignee", String(32), nullable=False, index=True),
    Column("student_id", String(32), index=True),
    Column("course_code", String(64)),
    Column("semester", String(16), nullable=False),
    Column("due", Date, nullable=False),
    Column("status", String(16), nullable=False),          # open | done
    Column("note", String(64)),                             # e.g. "warning lifted"
    Column("cause", String(255), nullable=False, unique=True),   # never two tasks for one cause
    Column("detail", Text, nullable=False),
    Column("record", Text),                                 # what the owner recorded when closing
    Column("correlation_id", String(64), nullable=False, index=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("closed_at", DateTime(timezone=True)),
    Column("closed_by", String(32)),
)

MESSAGING = add_messaging_tables(metadata)
