"""Which policy is in force: the latest version installed in the warnings database, else the service's file.

Every instance of the service reads the policy from the database, so several instances agree on it: before each
evaluation an instance looks up the latest installed version's number (one small query) and parses that version's
text only when the number moved. Until the first `aq warnings policy-install`, the file named by AQ_WARNING_POLICY
(or the college's default policy) is in force.

An installation re-evaluates everybody, so it must not interleave with an upload's evaluation or a release: every
unit of work that evaluates or releases warnings takes the policy lock shared, an installation takes it alone.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import yaml
from sqlalchemy import insert, select

from services.warnings import tables
from services.warnings.domain.policy import DEFAULT_POLICY_PATH, Policy, PolicyError

POLICY_LOCK = "warnings:policy"


@dataclass(frozen=True)
class InForce:
    policy: Policy
    text: str
    seq: int | None            # None: the file, not an installed version


def policy_file() -> Path:
    return Path(os.environ.get("AQ_WARNING_POLICY") or DEFAULT_POLICY_PATH)


def parse(text: str) -> tuple[Policy, object]:
    """The policy and its parsed YAML; PolicyError says what is wrong."""
    try:
        content = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise PolicyError(f"not valid YAML: {exc}") from exc
    return Policy.from_dict(content), content


class PolicyBook:
    """The policy in force, for one process. ``fallback`` is the file's policy (read at start: a service must not
    start on a policy it cannot apply)."""

    def __init__(self, fallback_text: str | None = None, fallback_path: Path | None = None):
        path = fallback_path or policy_file()
        text = fallback_text if fallback_text is not None else path.read_text(encoding="utf-8")
        try:
            policy, _ = parse(text)
        except PolicyError as exc:
            raise PolicyError(f"{path}: {exc}") from exc
        self.fallback = InForce(policy, text, None)
        self._cached = self.fallback

    def in_force(self, conn) -> InForce:
        p = tables.policies
        seq = conn.execute(select(p.c.seq).order_by(p.c.seq.desc()).limit(1)).scalar()
        if seq is None:
            return self.fallback
        if self._cached.seq != seq:
            text = conn.execute(select(p.c.text).where(p.c.seq == seq)).scalar_one()
            self._cached = InForce(parse(text)[0], text, seq)
        return self._cached

    def current(self, conn) -> Policy:
        return self.in_force(conn).policy


def installed_versions(conn) -> dict[str, datetime]:
    p = tables.policies
    return {row.version: row.installed_at for row in conn.execute(select(p.c.version, p.c.installed_at))}


def list_installed(conn) -> list[dict]:
    p = tables.policies
    rows = conn.execute(select(p.c.seq, p.c.version, p.c.installed_at, p.c.installed_by).order_by(p.c.seq))
    return [{"seq": r.seq, "version": r.version, "installed_at": r.installed_at.isoformat(),
             "installed_by": r.installed_by} for r in rows]


def record_installation(conn, version: str, text: str, installed_by: str, now: datetime) -> None:
    conn.execute(insert(tables.policies).values(version=version, text=text, installed_at=now,
                                                installed_by=installed_by))


def lock_policy(conn, alone: bool = False) -> None:
    """Take the policy lock for this transaction: shared to evaluate or release, alone to install. Taken before any
    other lock (shared.db.lock_keys), so lock order stays the same everywhere. SQLite's BEGIN IMMEDIATE has
    already serialised the whole transaction."""
    if conn.dialect.name != "postgresql":
        return
    function = "pg_advisory_xact_lock" if alone else "pg_advisory_xact_lock_shared"
    conn.exec_driver_sql(f"SELECT {function}(hashtext(%(key)s))", {"key": POLICY_LOCK})
