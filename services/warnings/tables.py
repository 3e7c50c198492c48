"""The warnings service's own database.

grade_records    its own copy of every grade record it was told about (the policy needs a student's whole
                 history; it may not read the grades service's tables)
warnings         the ANNOUNCED standing per (student, semester): level, status active/lifted, reasons, and the
                 policy version that produced it. A computed change waiting for review is not here yet.
warning_changes  every change the policy computed (issued / escalated / downgraded / lifted), with a stable id that
                 notices and tasks name as their cause, and where it stands in review: pending, confirmed,
                 released (announced), excluded by staff (who, when, why) or superseded by a newer evaluation
release_batches  the lists staff review: one per evaluation (an upload's correlation id, or a policy installation)
policies         every policy version installed with `aq warnings policy-install`; the latest one is in force
"""
from sqlalchemy import Boolean, Column, DateTime, Float, Integer, MetaData, String, Table, Text

from shared.messaging.tables import add_messaging_tables

metadata = MetaData()

# Level words: none / yellow / orange / red / dismissal.
LEVEL = String(16)

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
    Column("level", LEVEL, nullable=False),              # the current level, or the last one if lifted
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
    Column("old_level", LEVEL, nullable=False),
    Column("new_level", LEVEL, nullable=False),
    Column("escalated", Boolean, nullable=False),
    Column("reasons", Text, nullable=False),
    Column("policy_version", String(64), nullable=False),
    Column("correlation_id", String(64), nullable=False, index=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    # Review (services/warnings/review.py). Changes from before review existed were announced at once: released.
    Column("batch_id", Integer, index=True),
    Column("release_status", String(12), nullable=False, server_default="released", index=True),
    Column("decided_by", String(128)),                   # who excluded it
    Column("decided_at", DateTime(timezone=True)),
    Column("decision_note", Text),                       # why (the exclusion's reason)
    Column("superseded_by", String(64)),                 # correlation id of the evaluation that replaced it
    Column("released_at", DateTime(timezone=True)),
)

release_batches = Table(
    "release_batches", metadata,
    Column("batch_id", Integer, primary_key=True, autoincrement=True),
    Column("correlation_id", String(64), nullable=False, index=True),   # the upload, or policy:<version>
    Column("status", String(12), nullable=False, index=True),   # pending | confirmed | released | superseded
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("confirmed_by", String(128)),
    Column("confirmed_at", DateTime(timezone=True)),
    Column("release_at", DateTime(timezone=True)),       # confirmation + the policy's objection window
    Column("released_at", DateTime(timezone=True)),
)

policies = Table(
    "policies", metadata,
    Column("seq", Integer, primary_key=True, autoincrement=True),
    Column("version", String(64), nullable=False, unique=True),
    Column("text", Text, nullable=False),                # the YAML as installed
    Column("installed_at", DateTime(timezone=True), nullable=False),
    Column("installed_by", String(128), nullable=False),
)

MESSAGING = add_messaging_tables(metadata)
