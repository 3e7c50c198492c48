"""The warnings service layer: take in grade records, re-evaluate the students they touch, and put what changed
up for review (services/warnings/release.py); install a new policy version and re-evaluate everybody under it.
The rules themselves live in services/warnings/domain."""
from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone
from operator import itemgetter

from sqlalchemy import select

from services.warnings import release, review, tables
from services.warnings.domain.evaluation import diff_standings, evaluate_student
from services.warnings.domain.model import GradeRecord
from services.warnings.domain.policy import PolicyError
from services.warnings.policy_store import (
    installed_versions, lock_policy, parse, record_installation,
)
from shared.bulk import insert_tuples, upsert_rows, upsert_tuples
from shared.db import lock_keys

RECORD_KEY = ("student_id", "semester", "course_code", "exam_type")
# grade_records is written and read in the order of GradeRecord's fields: a record is a row as it is.
RECORD_COLUMNS = GradeRecord._fields
_key_of = itemgetter(*(RECORD_COLUMNS.index(k) for k in RECORD_KEY))
# Statements every record batch runs, built once (release.of_students).
_STORED = select(*(tables.grade_records.c[f] for f in RECORD_COLUMNS)).where(
    *release.of_students(tables.grade_records.c.student_id))
_ANNOUNCED = select(*(tables.warnings.c[f] for f in ("student_id", "semester", "level", "status", "escalated",
                                                        "reasons", "policy_version"))).where(
    *release.of_students(tables.warnings.c.student_id))
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
    histories = _store_records(conn, student_ids, records)
    return reevaluate(uow, student_ids, book.current(conn), now or datetime.now(timezone.utc), histories)


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


def reevaluate(uow, student_ids: list[str], policy, now: datetime,
               histories: dict[str, list[GradeRecord]] | None = None) -> list[dict]:
    """Evaluate the students (sorted ids) afresh and compare with what was announced (the ``warnings`` table):
    equal levels refresh the announced warning (reasons, policy version) where they differ; different levels
    become changes for review, replacing or keeping what was already held for that student and semester
    (review.next_step). ``histories``: the students' records when the caller has them, else they are read."""
    conn = uow.conn
    history = histories if histories is not None else _records_of(conn, student_ids)
    announced = _announced(conn, student_ids)
    held = release.held_changes(conn, student_ids)
    held_semesters: dict[str, set[str]] = {}
    for student_id, semester in held:
        held_semesters.setdefault(student_id, set()).add(semester)
    new_changes, refreshed, withdrawn, same_level = [], [], [], []
    for student_id in student_ids:
        standings = evaluate_student(history.get(student_id, []), policy)
        before = announced.get(student_id, {})
        differing = {c.semester: c for c in diff_standings(student_id, {s: a.level for s, a in before.items()},
                                                           standings)}
        for semester, standing in standings.items():
            if semester not in differing and standing.level is not None:
                row = _standing_row(student_id, semester, standing, policy.version, now)
                if _refreshed(before[semester], row):
                    same_level.append(row)
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


def _store_records(conn, student_ids: list[str], records: list[dict]) -> dict[str, list[GradeRecord]]:
    """Store the batch by natural key (a correction simply replaces the record) and return the students' whole
    histories: what was stored before with the batch laid over it, which is what the table holds now (the
    students' locks are held), without reading the batch back. New records are inserted and changed ones
    upserted, equal ones left alone: an upsert costs PostgreSQL half as much again as an insert, conflict or not."""
    stored = _stored_records(conn, student_ids)
    arrived = {}
    for r in records:
        # Credits as the table gives them back (a float even when the message said 4).
        record = GradeRecord(r["student_id"], r["semester"], r["course_code"], r["course_name"], float(r["credits"]),
                             r["course_type"], r["exam_type"], r["score"])
        arrived[_key_of(record)] = record
    new, changed = [], []
    for key, record in arrived.items():
        before = stored.get(key)
        if before is None:
            new.append(record)
        elif before != record:
            changed.append(record)
    insert_tuples(conn, tables.grade_records, RECORD_COLUMNS, new)
    upsert_tuples(conn, tables.grade_records, RECORD_COLUMNS, changed, RECORD_KEY)
    stored.update(arrived)
    return _by_student(stored.values())


def _records_of(conn, student_ids: list[str]) -> dict[str, list[GradeRecord]]:
    return _by_student(_stored_records(conn, student_ids).values())


def _stored_records(conn, student_ids: list[str]) -> dict[tuple, GradeRecord]:
    """The students' stored records by natural key (``student_ids`` sorted)."""
    return {_key_of(record): record
            for record in map(GradeRecord._make, release.rows_of_students(conn, _STORED, student_ids))}


def _by_student(records) -> dict[str, list[GradeRecord]]:
    found: dict[str, list[GradeRecord]] = {}
    for record in records:
        found.setdefault(record.student_id, []).append(record)
    return found


@dataclass(frozen=True)
class Announced:
    """An announced warning as the evaluation compares it: its level (None once lifted) and what a refresh of an
    equal level would rewrite."""
    level: str | None
    escalated: bool
    reasons: str          # JSON
    policy_version: str


def _announced(conn, student_ids: list[str]) -> dict[str, dict[str, Announced]]:
    """Announced warnings by student and semester (``student_ids`` sorted)."""
    found: dict[str, dict[str, Announced]] = {}
    for row in release.rows_of_students(conn, _ANNOUNCED, student_ids):
        found.setdefault(row.student_id, {})[row.semester] = Announced(
            row.level if row.status == "active" else None, row.escalated, row.reasons, row.policy_version)
    return found


def _refreshed(announced: Announced, row: dict) -> bool:
    """Whether an equal level's evaluation says something the announced warning does not (its reasons, escalation
    or policy version): only then is the row rewritten (and its updated_at moves)."""
    return (announced.escalated, announced.reasons, announced.policy_version) != (
        row["escalated"], row["reasons"], row["policy_version"])


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
