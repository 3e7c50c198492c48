"""`aq users …` on the gateway's database (SQLite under AQ_HOME here)."""
from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from sqlalchemy import select

import tests.unit.gateway.harness  # noqa: F401  (cheap argon2 parameters for tests)
from aq_cli.main import cli
from services.gateway import tables
from shared.db import dispose_all, engine_for

PASSWORD = "correct horse battery"


@pytest.fixture
def aq(tmp_path, monkeypatch):
    monkeypatch.setenv("AQ_HOME", str(tmp_path))
    monkeypatch.delenv("AQ_DATABASE_URL", raising=False)
    runner = CliRunner()
    yield lambda *args, stdin=None: runner.invoke(cli, list(args), input=stdin)
    dispose_all()


def test_accounts_are_made_and_changed_with_passwords_from_stdin(aq):
    assert aq("users", "add", "root", "--admin", "--password-stdin", stdin=PASSWORD + "\n").exit_code == 0
    made = aq("users", "add", "t1001", "--staff", "T1001", "--password-stdin", stdin=PASSWORD + "\n")
    assert made.exit_code == 0 and "for staff T1001" in made.output
    again = aq("users", "add", "t1001", "--staff", "T1001", "--password-stdin", stdin=PASSWORD + "\n")
    assert again.exit_code == 1 and "already exists" in again.output
    nobody = aq("users", "add", "x1", "--password-stdin", stdin=PASSWORD + "\n")
    assert nobody.exit_code == 1 and "staff id" in nobody.output
    weak = aq("users", "passwd", "t1001", "--password-stdin", stdin="short\n")
    assert weak.exit_code == 1 and "at least 10 characters" in weak.output
    assert aq("users", "passwd", "t1001", "--password-stdin", stdin="another long secret\n").exit_code == 0
    listed = json.loads(aq("users", "list", "--json").output)
    assert [(u["username"], u["staff_id"], u["is_admin"]) for u in listed] == [("root", None, True),
                                                                             ("t1001", "T1001", False)]
    assert aq("users", "unlock", "nobody").exit_code == 1
    assert aq("users", "unlock", "t1001").exit_code == 0


def test_a_token_is_shown_once_and_only_its_digest_is_kept(aq, tmp_path):
    created = aq("users", "tokens", "create", "--name", "BI", "--role", "vice_dean")
    assert created.exit_code == 0
    token = created.stdout.strip().splitlines()[0]
    assert token.startswith("aqt_")
    listed = aq("users", "tokens", "list", "--json").output
    assert token not in listed and json.loads(listed)[0]["role"] == "vice_dean"
    with engine_for("gateway", f"sqlite:///{tmp_path / 'db' / 'gateway.sqlite'}").connect() as conn:
        assert token not in str([dict(r) for r in conn.execute(select(tables.api_tokens)).mappings()])
    scoped = aq("users", "tokens", "create", "--name", "x", "--role", "counselor")
    assert scoped.exit_code == 1 and "staff id" in scoped.output
    token_id = json.loads(listed)[0]["token_id"]
    assert aq("users", "tokens", "revoke", token_id).exit_code == 0
    assert json.loads(aq("users", "tokens", "list", "--json").output)[0]["revoked"] is True
