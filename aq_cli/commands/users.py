"""`aq users …`: the gateway's staff accounts and API tokens, and its audit log.

These work on the gateway's database directly (AQ_DATABASE_URL / AQ_HOME, like `aq migrate`), so the first
account can be made before anything runs. Passwords are read from a prompt (or one line of standard input with
--password-stdin), never from the command line, where other users of the machine could see them.
"""
from __future__ import annotations

import json
import sys
from datetime import datetime, timezone

import click
from sqlalchemy import select

from aq_cli import output


def _engine():
    from shared.db import engine_for
    from shared.migrations import upgrade
    upgrade("gateway")
    return engine_for("gateway")


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    return click.prompt("password", hide_input=True, confirmation_prompt=True)


def _run(action):
    from services.gateway.accounts import AccountError
    try:
        with _engine().begin() as conn:
            return action(conn)
    except AccountError as error:
        raise click.ClickException(str(error))


@click.group()
def users():
    """Staff accounts for the web interface and API, API tokens for other systems, the audit log."""


@users.command("add")
@click.argument("username")
@click.option("--staff", "staff_id", help="The roster's staff id (工号): roles and scope come from the roster.")
@click.option("--admin", "is_admin", is_flag=True, help="The gateway's admin (accounts, tokens, operations).")
@click.option("--name", "display_name", help="Shown until the roster's name is known (default: USERNAME).")
@click.option("--password-stdin", is_flag=True, help="Read the password from the first line of standard input.")
def users_add(username, staff_id, is_admin, display_name, password_stdin):
    """Create an account."""
    from services.gateway import accounts
    password = _password(password_stdin)
    user = _run(lambda conn: accounts.add_user(conn, username, password, _now(), staff_id=staff_id,
                                               display_name=display_name, is_admin=is_admin))
    click.echo(f"user {user['username']} created" + (f" for staff {staff_id}" if staff_id else "")
               + (" (admin)" if is_admin else ""))


@users.command("passwd")
@click.argument("username")
@click.option("--password-stdin", is_flag=True, help="Read the password from the first line of standard input.")
def users_passwd(username, password_stdin):
    """Set a new password (ends the user's sessions)."""
    from services.gateway import accounts
    password = _password(password_stdin)
    _run(lambda conn: accounts.set_password(conn, username, password, _now()))
    click.echo(f"password of {username} changed; their sessions ended")


@users.command("unlock")
@click.argument("username")
@click.option("--by", default="cli", show_default=True, help="Who lifts the lock-out (recorded).")
def users_unlock(username, by):
    """Lift a lock-out after repeated failed sign-ins."""
    from services.gateway import accounts
    _run(lambda conn: accounts.unlock(conn, username, _now(), by=by))
    click.echo(f"{username} unlocked")


@users.command("disable")
@click.argument("username")
def users_disable(username):
    """Stop an account from signing in (ends its sessions)."""
    from services.gateway import accounts
    _run(lambda conn: accounts.set_disabled(conn, username, True))
    click.echo(f"{username} disabled")


@users.command("enable")
@click.argument("username")
def users_enable(username):
    from services.gateway import accounts
    _run(lambda conn: accounts.set_disabled(conn, username, False))
    click.echo(f"{username} enabled")


@users.command("list")
@click.option("--json", "as_json", is_flag=True)
def users_list(as_json):
    from services.gateway import accounts
    from services.gateway.settings import Settings
    rows = _run(lambda conn: accounts.list_users(conn, _now(), Settings.from_env()))
    output.emit(rows, ["username", "staff_id", "display_name", "is_admin", "disabled", "locked_until"], as_json)


@users.group("tokens")
def tokens():
    """API tokens: hashed at rest, shown once, each acting in one role."""


@tokens.command("create")
@click.option("--name", required=True, help="The system that will use it.")
@click.option("--role", required=True, help="academic_affairs, vice_dean, deputy_secretary, department_head, "
                                            "counselor or head_teacher.")
@click.option("--staff", "staff_id", help="For a department_head, counselor or head_teacher token: whose scope.")
@click.option("--by", default="cli", show_default=True, help="Who creates it (recorded).")
def tokens_create(name, role, staff_id, by):
    """Create a token; it is printed this once and never again."""
    from services.gateway import accounts
    created = _run(lambda conn: accounts.create_token(conn, name, role, _now(), created_by=by, staff_id=staff_id))
    click.echo(created["token"])
    click.echo(f"token {created['token_id']} for {name} as {role}: copy it now, it is not shown again", err=True)


@tokens.command("list")
@click.option("--json", "as_json", is_flag=True)
def tokens_list(as_json):
    from services.gateway import accounts
    rows = _run(accounts.list_tokens)
    output.emit(rows, ["token_id", "name", "role", "staff_id", "created_by", "created_at", "last_used_at",
                       "revoked"], as_json)


@tokens.command("revoke")
@click.argument("token_id")
def tokens_revoke(token_id):
    from services.gateway import accounts
    _run(lambda conn: accounts.revoke_token(conn, token_id, _now()))
    click.echo(f"token {token_id} revoked")


@users.command("audit")
@click.option("--actor", help="Only this actor (user:<name> or token:<id>).")
@click.option("--action", help="Only actions containing this text, e.g. grades.history.")
@click.option("--limit", default=50, show_default=True)
@click.option("--json", "as_json", is_flag=True)
def users_audit(actor, action, limit, as_json):
    """Who read or exported which personal data, when (newest first)."""
    from services.gateway.tables import audit_log as a
    query = select(a).order_by(a.c.id.desc()).limit(limit)
    if actor:
        query = query.where(a.c.actor == actor)
    if action:
        query = query.where(a.c.action.contains(action))
    rows = _run(lambda conn: [{**dict(r), "at": r["at"].isoformat()} for r in conn.execute(query).mappings()])
    if as_json:
        click.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    output.emit(rows, ["at", "actor", "role", "action", "outcome", "subject", "client"], False)
