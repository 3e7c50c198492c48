"""The gateway's own database: staff accounts, sign-in attempts, sessions, API tokens and the audit log.

Secrets are never stored: passwords as argon2 hashes, session ids and API tokens as SHA-256 digests (they are
long random values, so a fast digest is enough, and lookups stay one indexed query).
"""
from sqlalchemy import Boolean, Column, DateTime, Integer, MetaData, String, Table, Text

metadata = MetaData()

users = Table(
    "users", metadata,
    Column("username", String(64), primary_key=True),
    Column("password_hash", String(255), nullable=False),
    Column("staff_id", String(32)),            # the roster's 工号: roles and scope come from the roster
    Column("display_name", String(64), nullable=False),
    Column("is_admin", Boolean, nullable=False, default=False),
    Column("disabled", Boolean, nullable=False, default=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("password_changed_at", DateTime(timezone=True), nullable=False),
)

sign_in_attempts = Table(
    "sign_in_attempts", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("username", String(64), nullable=False, index=True),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("outcome", String(16), nullable=False),    # success | failure | locked | unlocked
    Column("client", String(64)),                      # the client's address, for the operator
)

sessions = Table(
    "sessions", metadata,
    Column("session_digest", String(64), primary_key=True),
    Column("username", String(64), nullable=False, index=True),
    Column("csrf_token", String(64), nullable=False),
    Column("principal", Text, nullable=False),         # JSON: roles and scope as the roster said at sign-in
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("last_seen_at", DateTime(timezone=True), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
)

api_tokens = Table(
    "api_tokens", metadata,
    Column("token_id", String(16), primary_key=True),  # shown in listings; the token itself is shown once
    Column("token_digest", String(64), nullable=False, unique=True),
    Column("name", String(64), nullable=False),        # which system uses it
    Column("role", String(32), nullable=False),
    Column("staff_id", String(32)),                    # for a scoped role: whose classes/cohorts/majors
    Column("created_by", String(64), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("last_used_at", DateTime(timezone=True)),
    Column("revoked_at", DateTime(timezone=True)),
)

audit_log = Table(
    "audit_log", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", DateTime(timezone=True), nullable=False, index=True),
    Column("actor", String(64), nullable=False, index=True),   # user:<username> or token:<token id>
    Column("role", String(32), nullable=False),
    Column("action", String(64), nullable=False),              # e.g. read:grades.history
    Column("subject", Text, nullable=False),                   # what was read: ids, filters
    Column("outcome", String(16), nullable=False),             # allowed | denied | failed
    Column("client", String(64)),
)
