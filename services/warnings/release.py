"""Review and release (service layer): computed changes wait in release batches; staff confirm a batch or exclude a
student from it; a confirmed batch is announced as ``warnings.changed`` at once or after the objection window.

The rules of what a newer evaluation does to a waiting change are in services/warnings/review.py. Here they meet
the tables: ``warning_changes`` holds every computed change with its release status, ``release_batches`` the lists,
``warnings`` only what was announced.

Locks (PostgreSQL advisory locks; SQLite serialises whole transactions), always in this order, so workers and
instances never wait on each other in a circle: the policy lock (policy_store.lock_policy); then the release lock
of the correlation id whose batch is written or decided — shared while an upload's record batches are evaluated
(they run side by side), alone to confirm, exclude or release; then the students (shared.db.lock_keys).
"""
from __future__ import annotations

import json
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import datetime, timezone

from sqlalchemy import and_, bindparam, func, insert, or_, select, update

from services.warnings import review, tables
from services.warnings.policy_store import lock_policy
from shared.academic.semesters import sort_key
from shared.bulk import insert_rows, upsert_rows
from shared.db import lock_keys

# Changes per warnings.changed event: a policy installation may release thousands at once, and every consumer asks
# the roster about all students of an event in one call.
EVENT_CHUNK = 500

CHANGE_FIELDS = ("change_id", "student_id", "semester", "kind", "old_level", "new_level", "escalated",
                 "policy_version")


def lock_release(conn, correlation_id: str, shared: bool = False, wait: bool = True) -> bool:
    """The release lock of one evaluation's batches (see the module's docstring for the order of locks). With
    ``wait=False`` it is only taken if free at once: False when an evaluation of that upload is underway."""
    return _advisory(conn, "release:" + correlation_id, shared, wait)


def _advisory(conn, key: str, shared: bool = False, wait: bool = True) -> bool:
    if conn.dialect.name != "postgresql":
        return True
    function = "pg_advisory_xact_lock" if wait else "pg_try_advisory_xact_lock"
    if shared:
        function += "_shared"
    taken = conn.exec_driver_sql(f"SELECT {function}(hashtext(%(key)s))", {"key": key}).scalar()
    return True if wait else bool(taken)


@dataclass(frozen=True)
class HeldRow:
    """A held change with what a refresh may update."""
    held: review.Held
    escalated: bool
    reasons: str          # JSON
    policy_version: str


# --- evaluation: record what the newest evaluation decided ------------------------------------------------------

def of_students(column) -> tuple:
    """Where-clauses for "the column is one of the students" given to ``rows_of_students``. The bounds let
    PostgreSQL use the column's index before the table has statistics (a new database's first upload): with IN
    alone it scanned the whole table for every batch (~18 ms per batch at 100,000 records)."""
    return (column.between(bindparam("first_student"), bindparam("last_student")),
            column.in_(bindparam("students", expanding=True)))


def rows_of_students(conn, statement, student_ids: list[str], chunk: int = 500):
    """The rows of a statement built with ``of_students``, for the students (ids sorted), ``chunk`` at a time."""
    for start in range(0, len(student_ids), chunk):
        some = student_ids[start:start + chunk]
        yield from conn.execute(statement, {"first_student": some[0], "last_student": some[-1], "students": some})


def _held_query():
    c = tables.warning_changes
    in_force = or_(c.c.release_status.in_(review.WAITING),
                   and_(c.c.release_status == review.EXCLUDED, c.c.superseded_by.is_(None)))
    return select(c.c.change_id, c.c.batch_id, c.c.release_status, c.c.new_level, c.c.student_id, c.c.semester,
                  c.c.escalated, c.c.reasons, c.c.policy_version).where(*of_students(c.c.student_id), in_force)


# Built once, like the other statements every record batch runs: building one costs a few tenths of a millisecond.
_HELD = _held_query()


def held_changes(conn, student_ids: list[str]) -> dict[tuple[str, str], HeldRow]:
    """The change held for each (student, semester): waiting for review or release, or an exclusion in force
    (``student_ids`` sorted)."""
    held = {}
    for r in rows_of_students(conn, _HELD, student_ids):
        held[(r.student_id, r.semester)] = HeldRow(
            review.Held(r.change_id, r.batch_id, r.release_status, r.new_level), r.escalated, r.reasons,
            r.policy_version)
    return held


def record_evaluation(uow, new_changes: list[dict], refreshed: list[dict], withdrawn: list[review.Held], policy,
                      now: datetime) -> int | None:
    """Store what an evaluation decided: withdraw the held changes it replaced, refresh the ones it kept, and put
    its new changes in a batch of its own correlation id (confirmed at once when the policy switches review off).
    Returns the batch's id, or None when nothing new waits."""
    conn, correlation_id = uow.conn, uow.correlation_id
    c = tables.warning_changes
    if withdrawn:
        # A waiting change is superseded; an exclusion stays recorded as such but is no longer in force.
        conn.execute(update(c).where(c.c.change_id == bindparam("k_change")).values(
            release_status=bindparam("status"), superseded_by=correlation_id),
            [{"k_change": h.change_id, "status": review.EXCLUDED if h.status == review.EXCLUDED else review.SUPERSEDED}
             for h in withdrawn])
    if refreshed:
        conn.execute(update(c).where(c.c.change_id == bindparam("k_change")).values(
            escalated=bindparam("escalated"), reasons=bindparam("reasons"), policy_version=bindparam("policy_version")),
            refreshed)
    batch_id = None
    if new_changes:
        batch_id, opened = _batch_for(conn, correlation_id, policy, now)
        status = review.PENDING if policy.review_required else review.CONFIRMED
        insert_rows(conn, c, [{**{k: change[k] for k in CHANGE_FIELDS},
                               "reasons": json.dumps(change["reasons"], ensure_ascii=False),
                               "correlation_id": correlation_id, "created_at": now, "batch_id": batch_id,
                               "release_status": status} for change in new_changes])
        if opened and policy.review_required:
            # Once per list, when it opens: other systems (and a notice to academic affairs) learn that one waits.
            uow.announce("warnings.release_pending", {
                "batch_id": batch_id, "source": "policy" if correlation_id.startswith("policy:") else "upload",
                "policy_version": policy.version, "changes": len(new_changes),
                "semesters": sorted({ch["semester"] for ch in new_changes}, key=sort_key),
                "objection_window_hours": policy.objection_window_hours})
    _close_emptied(conn, {h.batch_id for h in withdrawn} - {batch_id})
    if batch_id is not None and not policy.review_required:
        release_if_due(uow, batch_id, now)
    return batch_id


def _batch_for(conn, correlation_id: str, policy, now: datetime) -> tuple[int, bool]:
    """(batch id, whether it was opened now): the evaluation's pending batch (its earlier record batches went
    there), or a new one. With review off every evaluation gets a batch of its own, confirmed at once. The caller
    holds the release lock (shared at least)."""
    b = tables.release_batches
    if policy.review_required:
        def pending():
            return conn.execute(_PENDING_BATCH, {"correlation_id": correlation_id}).scalar()
        found = pending()
        if found is not None:
            return found, False
        # Record batches of one upload evaluate side by side: one creates the batch, the others wait and use it.
        # (Taken after the students' locks; its holder waits for nothing else, so no circle.)
        _advisory(conn, "release-new:" + correlation_id)
        found = pending()
        if found is not None:
            return found, False
        values = {"status": review.BATCH_PENDING}
    else:
        values = {"status": review.BATCH_CONFIRMED, "confirmed_by": review.AUTOMATIC, "confirmed_at": now,
                  "release_at": review.release_moment(now, policy.objection_window_hours)}
    result = conn.execute(insert(b).values(correlation_id=correlation_id, created_at=now, **values))
    return result.inserted_primary_key[0], True


_PENDING_BATCH = (select(tables.release_batches.c.batch_id)
                  .where(tables.release_batches.c.correlation_id == bindparam("correlation_id"),
                         tables.release_batches.c.status == review.BATCH_PENDING)
                  .order_by(tables.release_batches.c.batch_id.desc()).limit(1))


def _close_emptied(conn, batch_ids) -> None:
    """A batch whose every waiting change a newer evaluation replaced has nothing left to confirm."""
    b, c = tables.release_batches, tables.warning_changes
    for batch_id in sorted(i for i in batch_ids if i is not None):
        waiting = conn.execute(select(func.count()).where(c.c.batch_id == batch_id,
                                                          c.c.release_status.in_(review.WAITING))).scalar()
        if not waiting:
            conn.execute(update(b).where(b.c.batch_id == batch_id,
                                         b.c.status.in_((review.BATCH_PENDING, review.BATCH_CONFIRMED)))
                         .values(status=review.BATCH_SUPERSEDED))


# --- staff decisions ---------------------------------------------------------------------------------------------

def _rejected(message: str) -> dict:
    return {"status": "rejected", "message": message}


def _batch(conn, batch_id: int):
    b = tables.release_batches
    return conn.execute(select(b).where(b.c.batch_id == batch_id)).mappings().first()


def batch_correlation(conn, batch_id: int) -> str | None:
    b = tables.release_batches
    return conn.execute(select(b.c.correlation_id).where(b.c.batch_id == batch_id)).scalar()


class Busy(Exception):
    """An evaluation of the batch's upload is underway."""


def _lock_batch(uow, batch_id: int, wait: bool = True):
    """Policy lock, then the batch's release lock; the batch as it is under the lock (None if unknown). Without
    ``wait``, Busy if an evaluation of the batch's upload is underway."""
    lock_policy(uow.conn)
    batch = _batch(uow.conn, batch_id)
    if batch is None:
        return None
    if not lock_release(uow.conn, batch["correlation_id"], wait=wait):
        raise Busy(batch["correlation_id"])
    return _batch(uow.conn, batch_id)


def _not_open(batch, batch_id: int) -> str | None:
    if batch is None:
        return f"no release batch {batch_id} (aq warnings pending lists the batches waiting)"
    if batch["status"] == review.BATCH_RELEASED:
        return f"batch {batch_id} was released on {batch['released_at']:%Y-%m-%d %H:%M}"
    if batch["status"] == review.BATCH_SUPERSEDED:
        return (f"batch {batch_id} has nothing left to decide: newer evaluations replaced its changes "
                f"(aq warnings pending shows what waits now)")
    return None


def confirm(uow, batch_id: int, confirmed_by: str, policy, now: datetime) -> dict:
    """Staff confirm a pending batch: announced now, or when the policy's objection window has passed.

    Refused while records of the batch's upload are still being evaluated: staff confirm the list they saw, and
    changes computed after the confirmation go into a new pending batch."""
    try:
        batch = _lock_batch(uow, batch_id, wait=False)
    except Busy as busy:
        return _rejected(f"batch {batch_id}: records of {busy} are still being evaluated; confirm when the upload "
                         f"has settled (aq wait {busy}) and the list is complete")
    problem = _not_open(batch, batch_id)
    if problem:
        return _rejected(problem)
    if batch["status"] == review.BATCH_CONFIRMED:
        return _rejected(f"batch {batch_id} was confirmed by {batch['confirmed_by']} on "
                         f"{batch['confirmed_at']:%Y-%m-%d %H:%M}; it is released at {batch['release_at'].isoformat()}")
    conn, c, b = uow.conn, tables.warning_changes, tables.release_batches
    _lock_students_of(conn, batch_id)
    confirmed = conn.execute(update(c).where(c.c.batch_id == batch_id, c.c.release_status == review.PENDING)
                             .values(release_status=review.CONFIRMED)).rowcount
    release_at = review.release_moment(now, policy.objection_window_hours)
    conn.execute(update(b).where(b.c.batch_id == batch_id).values(
        status=review.BATCH_CONFIRMED, confirmed_by=confirmed_by, confirmed_at=now, release_at=release_at))
    released = release_if_due(uow, batch_id, now)
    return {"status": "released" if released is not None else "confirmed", "batch_id": batch_id,
            "correlation_id": batch["correlation_id"], "changes": confirmed, "release_at": release_at.isoformat(),
            "released": released or 0}


def exclude(uow, batch_id: int, student_id: str, reason: str, excluded_by: str, now: datetime) -> dict:
    """Staff keep a student out of a batch's release, with a reason. The exclusion sticks while later evaluations
    give the same level; one that gives another level ends it (review.py)."""
    batch = _lock_batch(uow, batch_id)
    problem = _not_open(batch, batch_id)
    if problem:
        return _rejected(problem)
    conn, c = uow.conn, tables.warning_changes
    lock_keys(conn, ["warnings:" + student_id])
    rows = conn.execute(select(c.c.change_id, c.c.semester, c.c.kind, c.c.old_level, c.c.new_level).where(
        c.c.batch_id == batch_id, c.c.student_id == student_id, c.c.release_status.in_(review.WAITING))).all()
    if not rows:
        waiting = conn.execute(select(func.count(func.distinct(c.c.student_id))).where(
            c.c.batch_id == batch_id, c.c.release_status.in_(review.WAITING))).scalar()
        return _rejected(f"student {student_id} has no change waiting in batch {batch_id} "
                         f"({waiting} students do; aq warnings pending --batch {batch_id})")
    conn.execute(update(c).where(c.c.change_id.in_([r.change_id for r in rows])).values(
        release_status=review.EXCLUDED, decided_by=excluded_by, decided_at=now, decision_note=reason))
    return {"status": "excluded", "batch_id": batch_id, "student_id": student_id,
            "changes": [{"semester": r.semester, "kind": r.kind, "old_level": r.old_level, "new_level": r.new_level}
                        for r in rows]}


def _lock_students_of(conn, batch_id: int) -> None:
    c = tables.warning_changes
    students = conn.execute(select(c.c.student_id).distinct().where(
        c.c.batch_id == batch_id, c.c.release_status.in_(review.WAITING))).scalars().all()
    lock_keys(conn, ("warnings:" + s for s in students))


# --- release --------------------------------------------------------------------------------------------------------

def due_batches(conn, now: datetime) -> list[tuple[int, str]]:
    """Confirmed batches whose objection window has passed: (batch id, correlation id)."""
    b = tables.release_batches
    return [(r.batch_id, r.correlation_id) for r in conn.execute(
        select(b.c.batch_id, b.c.correlation_id).where(b.c.status == review.BATCH_CONFIRMED, b.c.release_at <= now)
        .order_by(b.c.batch_id))]


def release_due(uow, batch_id: int, now: datetime) -> int | None:
    """The timer's step for one due batch (another instance may have released it first: then nothing)."""
    batch = _lock_batch(uow, batch_id)
    if batch is None or batch["status"] != review.BATCH_CONFIRMED:
        return None
    _lock_students_of(uow.conn, batch_id)
    return release_if_due(uow, batch_id, now)


def release_if_due(uow, batch_id: int, now: datetime) -> int | None:
    """Announce a confirmed batch whose release time has come: its confirmed changes become the announced
    standings and go out as ``warnings.changed`` under the batch's correlation id (so `aq wait <upload>` follows
    the cascade). Returns how many changes were announced, or None if the batch is not due."""
    conn = uow.conn
    b, c = tables.release_batches, tables.warning_changes
    batch = _batch(conn, batch_id)
    if batch["status"] != review.BATCH_CONFIRMED or _aware(batch["release_at"]) > now:
        return None
    rows = conn.execute(select(c).where(c.c.batch_id == batch_id, c.c.release_status == review.CONFIRMED)) \
        .mappings().all()
    changes = sorted(({**{k: r[k] for k in CHANGE_FIELDS}, "reasons": json.loads(r["reasons"])} for r in rows),
                     key=lambda ch: (ch["student_id"], sort_key(ch["semester"])))
    _apply(conn, changes, now)
    conn.execute(update(c).where(c.c.batch_id == batch_id, c.c.release_status == review.CONFIRMED)
                 .values(release_status=review.RELEASED, released_at=now))
    conn.execute(update(b).where(b.c.batch_id == batch_id).values(status=review.BATCH_RELEASED, released_at=now))
    for start in range(0, len(changes), EVENT_CHUNK):
        uow.announce("warnings.changed", {"changes": changes[start:start + EVENT_CHUNK]},
                     correlation_id=batch["correlation_id"])
    return len(changes)


def _apply(conn, changes: list[dict], now: datetime) -> None:
    """The released changes become the announced standings (a lifted warning keeps its last level)."""
    w = tables.warnings
    active = [{"student_id": ch["student_id"], "semester": ch["semester"], "level": ch["new_level"],
               "status": "active", "escalated": ch["escalated"],
               "reasons": json.dumps(ch["reasons"], ensure_ascii=False), "policy_version": ch["policy_version"],
               "updated_at": now} for ch in changes if ch["new_level"] != "none"]
    upsert_rows(conn, w, active, ("student_id", "semester"))
    lifted = [{"k_student": ch["student_id"], "k_semester": ch["semester"], "policy_version": ch["policy_version"]}
              for ch in changes if ch["new_level"] == "none"]
    if lifted:
        conn.execute(update(w).where(w.c.student_id == bindparam("k_student"), w.c.semester == bindparam("k_semester"))
                     .values(status="lifted", policy_version=bindparam("policy_version"), updated_at=now), lifted)


def _aware(moment: datetime) -> datetime:
    """SQLite gives naive datetimes back; they were written in UTC."""
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


# --- reading ---------------------------------------------------------------------------------------------------------

def list_batches(conn, semester: str | None = None, batch_id: int | None = None,
                 everything: bool = False) -> list[dict]:
    """The lists waiting for staff (pending or confirmed batches) with their waiting changes; ``everything`` adds
    every change of those batches (excluded with who, when and why; superseded by which evaluation; released) and,
    with ``batch_id``, a batch in any state."""
    b, c = tables.release_batches, tables.warning_changes
    query = select(b)
    if batch_id is not None:
        query = query.where(b.c.batch_id == batch_id)
        if not everything:
            query = query.where(b.c.status.in_((review.BATCH_PENDING, review.BATCH_CONFIRMED)))
    else:
        query = query.where(b.c.status.in_((review.BATCH_PENDING, review.BATCH_CONFIRMED)))
    batches = [dict(r) for r in conn.execute(query.order_by(b.c.batch_id)).mappings()]
    if not batches:
        return []
    changes = select(c).where(c.c.batch_id.in_([x["batch_id"] for x in batches]))
    if not everything:
        changes = changes.where(c.c.release_status.in_(review.WAITING))
    if semester:
        changes = changes.where(c.c.semester == semester)
    by_batch = defaultdict(list)
    for r in conn.execute(changes).mappings():
        by_batch[r["batch_id"]].append(_change_view(r))
    result = []
    for batch in batches:
        listed = sorted(by_batch.get(batch["batch_id"], []), key=lambda x: (sort_key(x["semester"]), x["student_id"]))
        if semester and not listed:
            continue
        result.append({**{k: _iso(v) for k, v in batch.items()}, "changes": listed,
                       "counts": dict(Counter(x["release_status"] for x in listed))})
    return result


def _change_view(r) -> dict:
    reasons = json.loads(r["reasons"])
    return {**{k: r[k] for k in CHANGE_FIELDS}, "reasons": reasons, "rules": sorted({x["rule"] for x in reasons}),
            "release_status": r["release_status"], "batch_id": r["batch_id"], "correlation_id": r["correlation_id"],
            "excluded_by": r["decided_by"], "excluded_at": _iso(r["decided_at"]), "reason": r["decision_note"],
            "superseded_by": r["superseded_by"], "computed_at": _iso(r["created_at"]),
            "released_at": _iso(r["released_at"])}


def _iso(value):
    return _aware(value).isoformat() if isinstance(value, datetime) else value


def released_changes(conn, correlation_id: str) -> list[dict]:
    """What the evaluation of this upload (or installation) announced."""
    c = tables.warning_changes
    query = select(c.c.change_id, c.c.student_id, c.c.semester, c.c.kind, c.c.old_level, c.c.new_level) \
        .where(c.c.correlation_id == correlation_id, c.c.release_status == review.RELEASED)
    return [dict(r) for r in conn.execute(query).mappings()]


def waiting_count(conn, correlation_id: str) -> int:
    c = tables.warning_changes
    return conn.execute(select(func.count()).where(c.c.correlation_id == correlation_id,
                                                   c.c.release_status.in_(review.WAITING))).scalar()
