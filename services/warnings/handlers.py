"""The warnings service layer: take in grade records, re-evaluate the students they touch, and put what changed
up for review (services/warnings/release.py); install a new policy version and re-evaluate everybody under it.
The rules themselves live in services/warnings/domain."""
from __future__ import annotations

import json
import uuid
from datetime import datetime, timezone

from sqlalchemy import select

from services.warnings import release, review, tables
from services.warnings.domain.evaluation import diff_standings, evaluate_student
from services.warnings.domain.model import GradeRecord
from services.warnings.domain.policy import PolicyError
from services.warnings.policy_store import (
    installed_versions, lock_policy, parse, record_installation,
)
from shared.bulk import upsert_rows
from shared.db import lock_keys

RECORD_KEY = ("student_id", "semester", "course_code", "exam_type")
RECORD_FIELDS = RECORD_KEY + ("course_name", "credits", "course_type", "score")
# Students evaluated per round when a new policy re-evaluates everybody (bounds memory, not the transaction).
CHUNK = 500
# An installation's changes carry the correlation id policy:<version> (64 characters at most, like every id).
MAX_VERSION = 48


def take_records(uow, records: list[dict], book, now: datetime | None = None) -> list[dict]:
    """Store the records and re-evaluate every student they concern under the policy in force. Returns the new
    changes; they wait for review, or are announced at once when the policy switches review off."""
    conn = uow.conn
    student_ids = sorted({r["student_id"] for r in records})
    lock_policy(conn)
    # The upload's release lock, shared: its record batches evaluate side by side, but a confirmation of its list
    # does not slip between them. Two batches about one student must not evaluate side by side on stale data.
    release.lock_release(conn, uow.correlation_id, shared=True)
    lock_keys(conn, ["warnings:" + s for s in student_ids])
    _store_records(conn, records)
    return reevaluate(uow, student_ids, book.current(conn), now or datetime.now(timezone.utc))


def installation_id(text: str) -> str:
    """The correlation id of an installation's re-evaluation: policy:<version> (`aq wait policy:default-2`)."""
    try:
        version = parse(text)[0].version
    except PolicyError:
        version = "unusable"       # install_policy refuses it before anything is written
    return "policy:" + version[:MAX_VERSION]


def install_policy(uow, text: str, installed_by: str, book, now: datetime | None = None) -> dict:
    """Install a new policy version and re-evaluate every student with records under it. Only level differences
    become changes (with the new version); every warning whose level stays takes the new version and reasons."""
    now = now or datetime.now(timezone.utc)
    try:
        policy, content = parse(text)
    except PolicyError as exc:
        return {"status": "rejected", "message": f"the policy cannot be used: {exc}"}
    if len(policy.version) > MAX_VERSION:
        return {"status": "rejected", "message": f"policy version {policy.version!r} is longer than {MAX_VERSION} "
                                                 f"characters"}
    conn = uow.conn
    lock_policy(conn, alone=True)
    in_force = book.in_force(conn)
    verdict = review.install_verdict(policy.version, content, in_force.policy.version, parse(in_force.text)[1],
                                     installed_versions(conn))
    if verdict.action != "install":
        return {"status": verdict.action, "message": verdict.message, "version": in_force.policy.version}
    record_installation(conn, policy.version, text, installed_by, now)
    students = sorted(conn.execute(select(tables.grade_records.c.student_id).distinct()).scalars().all())
    changes = []
    for start in range(0, len(students), CHUNK):
        changes += reevaluate(uow, students[start:start + CHUNK], policy, now)
    return {"status": "installed", "version": policy.version, "previous": in_force.policy.version,
            "students": len(students), "changes": len(changes), "correlation_id": uow.correlation_id,
            "review_required": policy.review_required}


def reevaluate(uow, student_ids: list[str], policy, now: datetime) -> list[dict]:
    """Evaluate the students afresh and compare with what was announced (the ``warnings`` table): equal levels
    refresh the announced warning (reasons, policy version); different levels become changes for review,
    replacing or keeping what was already held for that student and semester (review.next_step)."""
    conn = uow.conn
    history = _records_of(conn, student_ids)
    announced = _announced_levels(conn, student_ids)
    held = release.held_changes(conn, student_ids)
    held_semesters: dict[str, set[str]] = {}
    for student_id, semester in held:
        held_semesters.setdefault(student_id, set()).add(semester)
    new_changes, refreshed, withdrawn, same_level = [], [], [], []
    for student_id in student_ids:
        standings = evaluate_student(history.get(student_id, []), policy)
        before = announced.get(student_id, {})
        differing = {c.semester: c for c in diff_standings(student_id, before, standings)}
        for semester, standing in standings.items():
            if semester not in differing and standing.level is not None:
                same_level.append(_standing_row(student_id, semester, standing, policy.version, now))
        for semester in sorted(set(differing) | held_semesters.get(student_id, set())):
            change, row = differing.get(semester), held.get((student_id, semester))
            step = review.next_step(change.new_level if change else None, row.held if row else None)
            if step == review.KEEP:
                event = _change_event(change, standings.get(semester), policy.version)
                if row.held.status in review.WAITING and _details(event) != (row.escalated, row.reasons,
                                                                            row.policy_version):
                    refreshed.append({"k_change": row.held.change_id, "escalated": event["escalated"],
                                      "reasons": _json(event["reasons"]), "policy_version": policy.version})
            elif step == review.REPLACE:
                if row is not None:
                    withdrawn.append(row.held)
                new_changes.append(_change_event(change, standings.get(semester), policy.version))
            elif step == review.WITHDRAW:
                withdrawn.append(row.held)
    upsert_rows(conn, tables.warnings, same_level, ("student_id", "semester"))
    release.record_evaluation(uow, new_changes, refreshed, withdrawn, policy, now)
    return new_changes


def _store_records(conn, records):
    # Upsert by natural key: a correction simply replaces the record.
    latest = {tuple(r[k] for k in RECORD_KEY): {f: r[f] for f in RECORD_FIELDS} for r in records}
    upsert_rows(conn, tables.grade_records, list(latest.values()), RECORD_KEY)


def _records_of(conn, student_ids) -> dict[str, list[GradeRecord]]:
    g = tables.grade_records
    found: dict[str, list[GradeRecord]] = {}
    for start in range(0, len(student_ids), 500):
        query = select(*(g.c[f] for f in RECORD_FIELDS)).where(g.c.student_id.in_(student_ids[start:start + 500]))
        for row in conn.execute(query):
            found.setdefault(row.student_id, []).append(GradeRecord(
                student_id=row.student_id, semester=row.semester, course_code=row.course_code,
                course_name=row.course_name, credits=row.credits, course_type=row.course_type,
                exam_type=row.exam_type, score=row.score))
    return found


def _announced_levels(conn, student_ids) -> dict[str, dict[str, str | None]]:
    """Announced warnings' levels; a lifted warning counts as no level."""
    w = tables.warnings
    found: dict[str, dict[str, str | None]] = {}
    for start in range(0, len(student_ids), 500):
        query = select(w.c.student_id, w.c.semester, w.c.level, w.c.status).where(
            w.c.student_id.in_(student_ids[start:start + 500]))
        for row in conn.execute(query):
            found.setdefault(row.student_id, {})[row.semester] = row.level if row.status == "active" else None
    return found


def _standing_row(student_id, semester, standing, policy_version, now) -> dict:
    """An announced warning whose level the evaluation confirms: its reasons and policy version are refreshed
    without an announcement (people are told about levels, policy.md §5)."""
    return {"student_id": student_id, "semester": semester, "level": standing.level, "status": "active",
            "escalated": standing.escalated, "reasons": _json(list(standing.reasons)),
            "policy_version": policy_version, "updated_at": now}


def _json(value) -> str:
    return json.dumps(value, ensure_ascii=False)


def _details(event: dict) -> tuple:
    return event["escalated"], _json(event["reasons"]), event["policy_version"]


def _change_event(change, standing, policy_version) -> dict:
    lifted = change.kind == "lifted"
    return {
        "change_id": str(uuid.uuid4()),
        "student_id": change.student_id, "semester": change.semester, "kind": change.kind,
        "old_level": change.old_level, "new_level": change.new_level,
        "escalated": bool(standing and standing.escalated and not lifted),
        "reasons": [] if lifted or standing is None else list(standing.reasons),
        "policy_version": policy_version,
    }
