"""The advising service's own database: the duty tasks, the records that close them, what happened to each
task (reminders, escalations, moves, submissions, reviews), the semesters opened, the symposium items, and the
counselor lists with what they are built from."""
from sqlalchemy import (BigInteger, Boolean, Column, Date, DateTime, Integer, MetaData, String, Table, Text,
                        UniqueConstraint)

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
    Column("status", String(16), nullable=False),          # open | submitted | done
    Column("note", String(64)),                             # e.g. "warning lifted"
    Column("cause", String(255), nullable=False, unique=True),   # never two tasks for one cause
    Column("detail", Text, nullable=False),
    Column("record", Text),                                 # what the owner recorded when closing
    Column("correlation_id", String(64), nullable=False, index=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("closed_at", DateTime(timezone=True)),
    Column("closed_by", String(32)),
    Column("duty_role", String(32)),                        # whose duty (duties.py roles)
    Column("holder_role", String(32)),                      # the assignee's role (covering for duty_role?)
    Column("class_name", String(64), index=True),           # scope: for moves and escalation
    Column("major", String(128)),
    Column("cohort", String(8)),
    Column("escalated_to", String(32), index=True),
    Column("escalated_at", DateTime(timezone=True)),
    Column("outcome", Text),                                # a course review's check: rate then → rate now
)

# Everything that happened to a task after it was created. ``key`` makes a reminder happen once.
task_history = Table(
    "task_history", metadata,
    Column("seq", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column("task_id", String(64), nullable=False, index=True),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("action", String(32), nullable=False),      # reminded escalated moved submitted returned closed checked
    Column("actor", String(64)),
    Column("detail", Text, nullable=False),
    Column("key", String(255), unique=True),
)

semesters = Table(
    "semesters", metadata,
    Column("semester", String(16), primary_key=True),
    Column("start", Date, nullable=False),
    Column("weeks", Integer, nullable=False),
    Column("opened_at", DateTime(timezone=True), nullable=False),
    Column("opened_by", String(64), nullable=False),
    Column("tasks", Integer, nullable=False),
)

symposium_items = Table(
    "symposium_items", metadata,
    Column("item_id", String(32), primary_key=True),
    Column("semester", String(16), nullable=False, index=True),
    Column("topic", Text, nullable=False),
    Column("course_code", String(64)),
    Column("course_name", String(200)),
    Column("teacher", String(64)),
    Column("raised_by", String(200), nullable=False),
    Column("raised_on", Date, nullable=False),
    Column("status", String(16), nullable=False, index=True),   # raised routed answered adopted explained
    Column("route_kind", String(16)),                            # department | teacher
    Column("routed_to", String(128)),                            # the major, or the teacher's staff id
    Column("assignee", String(32)),                              # who answers
    Column("task_id", String(64)),                               # the open reply task
    Column("answer_kind", String(16)),                           # feedback 反馈 | resolution 解决 | explanation 解释
    Column("answer", Text),
    Column("answered_by", String(32)),
    Column("answered_on", Date),
    Column("closed_by", String(32)),
    Column("closed_on", Date),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

# --- counselor lists (domain/lists.py) ------------------------------------------------------------------------
# What advising keeps of other services' news to build the lists: each grade record's result and each student's
# warning level per semester.
#
# The results are kept one row per student and semester, the semester's records as a JSON list in that row
# ([course_code, exam_type, course_name, course_type, score, credits], one per course and exam type, the grades
# file's key): a list needs a failing student's whole semester at once, and a 1,000-record batch then writes about
# 250 rows instead of 1,000 (each row, with its index entries, costs PostgreSQL more than its JSON costs this
# service).

semester_records = Table(
    "semester_records", metadata,
    Column("student_id", String(32), primary_key=True),
    Column("semester", String(16), primary_key=True, index=True),
    Column("failed", Boolean, nullable=False),    # any record's read_score(score).is_fail: a list starts from these
    Column("records", Text, nullable=False),      # JSON, see above
)

warning_levels = Table(
    "warning_levels", metadata,
    Column("student_id", String(32), primary_key=True),
    Column("semester", String(16), primary_key=True, index=True),
    Column("level", String(16), nullable=False),              # "none" once lifted
    Column("escalated", Boolean, nullable=False),
    Column("reasons", Text, nullable=False),
    Column("change_id", String(64), nullable=False),
    Column("changed_at", DateTime(timezone=True), nullable=False),   # the event's time: a late old change loses
)

# A semester whose lists may have changed since they were last issued; the timer issues them once news has stopped
# arriving for a while (COUNSELOR_LIST_SETTLE_SECONDS), so one upload's batches and warnings make one version.
list_marks = Table(
    "list_marks", metadata,
    Column("semester", String(16), primary_key=True),
    Column("touched_at", DateTime(timezone=True), nullable=False),
    Column("correlation_id", String(64), nullable=False),
)

counselor_lists = Table(
    "counselor_lists", metadata,
    Column("list_id", String(32), primary_key=True),
    Column("semester", String(16), nullable=False),
    Column("cohort", String(8), nullable=False),
    Column("version", Integer, nullable=False),
    Column("students", Integer, nullable=False),
    Column("warned", Integer, nullable=False),
    Column("failed", Integer, nullable=False),
    Column("changes", Text, nullable=False),                  # students added / removed since the last version
    Column("recipients", Text, nullable=False),               # who was sent which part
    Column("confirmer", String(32), nullable=False),          # the counselor (or who covers the vacant post)
    Column("task_id", String(64)),                            # the confirmation task
    Column("correlation_id", String(64), nullable=False, index=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("confirmed_by", String(32)),
    Column("confirmed_at", DateTime(timezone=True)),
    Column("comment", Text),
    UniqueConstraint("semester", "cohort", "version", name="uq_counselor_list_version"),
)

list_entries = Table(
    "list_entries", metadata,
    Column("list_id", String(32), primary_key=True),
    Column("student_id", String(32), primary_key=True, index=True),
    Column("class_name", String(64)),
    Column("level", String(16)),
    Column("entry", Text, nullable=False),                    # level, reasons, failed courses (lists.py)
)

MESSAGING = add_messaging_tables(metadata)
