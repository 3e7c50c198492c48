"""Staff accounts, sign-in with lock-out, sessions and API tokens, on the gateway's own database.

Plain functions over a SQLAlchemy connection (the CLI's `aq users` and the service share them). Roles are not
stored with the account: they come from the roster (principals.py) at sign-in, or from the token's role.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from sqlalchemy import delete, insert, select, update

from services.gateway import tables
from services.gateway.domain.lockout import Attempt, locked_until
from services.gateway.domain.passwords import hash_password, needs_rehash, password_problem, verify_password
from services.gateway.domain.principal import ROLES
from services.gateway.domain.secrets import digest, new_api_token, new_secret

USERNAME_CHARS = set("abcdefghijklmnopqrstuvwxyz0123456789._-")
# Verified against when the user does not exist, so that an unknown name costs as long as a wrong password.
_DUMMY_HASH = hash_password("not-a-real-password-0")


class AccountError(ValueError):
    """A refused account change; the message says why."""


def utc(value: datetime | None) -> datetime | None:
    """SQLite gives naive datetimes back (stored as UTC)."""
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=timezone.utc)
    return value


# --- users -------------------------------------------------------------------------------------------------------

def check_username(username: str) -> str:
    name = (username or "").strip().lower()
    if not 2 <= len(name) <= 64 or not set(name) <= USERNAME_CHARS:
        raise AccountError("a user name has 2-64 characters: lower-case letters, digits, '.', '_' or '-'")
    return name


def add_user(conn, username: str, password: str, now: datetime, *, staff_id: str | None = None,
             display_name: str | None = None, is_admin: bool = False) -> dict:
    username = check_username(username)
    if not staff_id and not is_admin:
        raise AccountError("a staff account needs the roster's staff id (--staff); only an admin account has none")
    problem = password_problem(password, username)
    if problem:
        raise AccountError(problem)
    if get_user(conn, username):
        raise AccountError(f"user {username} already exists")
    row = {"username": username, "password_hash": hash_password(password), "staff_id": staff_id or None,
           "display_name": display_name or username, "is_admin": is_admin, "disabled": False,
           "created_at": now, "password_changed_at": now}
    conn.execute(insert(tables.users).values(**row))
    return {k: v for k, v in row.items() if k != "password_hash"}


def get_user(conn, username: str) -> dict | None:
    row = conn.execute(select(tables.users).where(tables.users.c.username == username)).mappings().first()
    return dict(row) if row else None


def list_users(conn, now: datetime, settings) -> list[dict]:
    result = []
    for row in conn.execute(select(tables.users).order_by(tables.users.c.username)).mappings():
        until = lock_state(conn, row["username"], now, settings)
        result.append({"username": row["username"], "staff_id": row["staff_id"], "display_name": row["display_name"],
                       "is_admin": row["is_admin"], "disabled": row["disabled"],
                       "locked_until": until.isoformat() if until else None})
    return result


def set_password(conn, username: str, password: str, now: datetime) -> None:
    if not get_user(conn, username):
        raise AccountError(f"no user {username}")
    problem = password_problem(password, username)
    if problem:
        raise AccountError(problem)
    conn.execute(update(tables.users).where(tables.users.c.username == username)
                 .values(password_hash=hash_password(password), password_changed_at=now))
    # A new password ends every session signed in with the old one.
    conn.execute(delete(tables.sessions).where(tables.sessions.c.username == username))


def set_disabled(conn, username: str, disabled: bool) -> None:
    if not get_user(conn, username):
        raise AccountError(f"no user {username}")
    conn.execute(update(tables.users).where(tables.users.c.username == username).values(disabled=disabled))
    if disabled:
        conn.execute(delete(tables.sessions).where(tables.sessions.c.username == username))


# --- sign-in and lock-out --------------------------------------------------------------------------------------

def record_attempt(conn, username: str, outcome: str, now: datetime, client: str | None) -> None:
    conn.execute(insert(tables.sign_in_attempts).values(username=username, at=now, outcome=outcome,
                                                        client=(client or "")[:64]))


def lock_state(conn, username: str, now: datetime, settings) -> datetime | None:
    a = tables.sign_in_attempts
    since = now - settings.lockout_window - timedelta(days=1)
    rows = conn.execute(select(a.c.at, a.c.outcome).where(a.c.username == username, a.c.at >= since)).all()
    return locked_until([Attempt(utc(at), outcome) for at, outcome in rows], now, settings.max_failures,
                        settings.lockout_window)


def unlock(conn, username: str, now: datetime, by: str) -> None:
    if not get_user(conn, username):
        raise AccountError(f"no user {username}")
    record_attempt(conn, username, "unlocked", now, by)


@dataclass
class SignIn:
    user: dict | None
    error: str | None = None
    locked_until: datetime | None = None


def check_credentials(conn, username: str, password: str, now: datetime, client: str | None, settings) -> SignIn:
    """Every attempt is recorded; a wrong password and an unknown user get the same answer."""
    username = (username or "").strip().lower()[:64]
    until = lock_state(conn, username, now, settings) if username else None
    if until:
        record_attempt(conn, username, "locked", now, client)
        return SignIn(None, f"locked out until {until.isoformat(timespec='minutes')}", until)
    user = get_user(conn, username) if username else None
    ok = verify_password(user["password_hash"] if user else _DUMMY_HASH, password or "")
    if not ok or user is None or user["disabled"]:
        record_attempt(conn, username or "-", "failure", now, client)
        until = lock_state(conn, username, now, settings) if username else None
        if until:
            return SignIn(None, f"wrong user name or password; locked out until "
                                f"{until.isoformat(timespec='minutes')}", until)
        return SignIn(None, "wrong user name or password")
    record_attempt(conn, username, "success", now, client)
    if needs_rehash(user["password_hash"]):
        conn.execute(update(tables.users).where(tables.users.c.username == username)
                     .values(password_hash=hash_password(password)))
    return SignIn(user)


# --- sessions ----------------------------------------------------------------------------------------------------

def create_session(conn, username: str, principal: dict, now: datetime, settings) -> tuple[str, str]:
    """Returns (session id for the cookie, CSRF token). Only the session id's digest is stored."""
    session_id, csrf = new_secret(), new_secret()
    conn.execute(insert(tables.sessions).values(
        session_digest=digest(session_id), username=username, csrf_token=csrf, principal=json.dumps(principal),
        created_at=now, last_seen_at=now, expires_at=now + settings.session_max))
    return session_id, csrf


def load_session(conn, session_id: str, now: datetime, settings) -> dict | None:
    """The live session for a cookie (touching it), or None when unknown, idle too long or past its end."""
    s = tables.sessions
    row = conn.execute(select(s).where(s.c.session_digest == digest(session_id))).mappings().first()
    if row is None:
        return None
    if utc(row["expires_at"]) <= now or utc(row["last_seen_at"]) + settings.session_idle <= now:
        conn.execute(delete(s).where(s.c.session_digest == row["session_digest"]))
        return None
    user = get_user(conn, row["username"])
    if user is None or user["disabled"]:
        return None
    conn.execute(update(s).where(s.c.session_digest == row["session_digest"]).values(last_seen_at=now))
    return {**dict(row), "principal": json.loads(row["principal"])}


def end_session(conn, session_id: str) -> None:
    conn.execute(delete(tables.sessions).where(tables.sessions.c.session_digest == digest(session_id)))


def purge_sessions(conn, now: datetime) -> int:
    return conn.execute(delete(tables.sessions).where(tables.sessions.c.expires_at <= now)).rowcount


# --- API tokens --------------------------------------------------------------------------------------------------

TOKEN_ROLES = tuple(r for r in ROLES if r != "admin")
SCOPED_ROLES = ("department_head", "counselor", "head_teacher")


def create_token(conn, name: str, role: str, now: datetime, created_by: str, staff_id: str | None = None) -> dict:
    """A new token for another system; the token itself is in the answer and nowhere else, ever."""
    if not (name or "").strip():
        raise AccountError("name the system the token is for")
    if role not in TOKEN_ROLES:
        raise AccountError(f"unknown role {role!r}; one of: {', '.join(TOKEN_ROLES)}")
    if role in SCOPED_ROLES and not staff_id:
        raise AccountError(f"a {role} token covers one staff member's scope: give their staff id")
    token_id, token = new_api_token()
    conn.execute(insert(tables.api_tokens).values(
        token_id=token_id, token_digest=digest(token), name=name.strip()[:64], role=role, staff_id=staff_id or None,
        created_by=created_by, created_at=now))
    return {"token_id": token_id, "token": token, "name": name.strip(), "role": role, "staff_id": staff_id}


def list_tokens(conn) -> list[dict]:
    t = tables.api_tokens
    return [{"token_id": r["token_id"], "name": r["name"], "role": r["role"], "staff_id": r["staff_id"],
             "created_by": r["created_by"], "created_at": utc(r["created_at"]).isoformat(),
             "last_used_at": utc(r["last_used_at"]).isoformat() if r["last_used_at"] else None,
             "revoked": r["revoked_at"] is not None}
            for r in conn.execute(select(t).order_by(t.c.created_at)).mappings()]


def revoke_token(conn, token_id: str, now: datetime) -> None:
    t = tables.api_tokens
    done = conn.execute(update(t).where(t.c.token_id == token_id, t.c.revoked_at.is_(None)).values(revoked_at=now))
    if not done.rowcount:
        raise AccountError(f"no live token {token_id}")


def load_token(conn, token: str, now: datetime) -> dict | None:
    t = tables.api_tokens
    row = conn.execute(select(t).where(t.c.token_digest == digest(token))).mappings().first()
    if row is None or row["revoked_at"] is not None:
        return None
    conn.execute(update(t).where(t.c.token_id == row["token_id"]).values(last_used_at=now))
    return dict(row)
