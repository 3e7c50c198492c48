"""The assessment service layer: keep the records, and when an upload is complete decide which courses'
failure rates cross the review threshold (kpis.md). The rules are in services/assessment/domain."""
from __future__ import annotations

import json
from datetime import datetime, timezone

from sqlalchemy import and_, bindparam, delete, select, update

from services.assessment import tables
from services.assessment.domain.failure_rates import course_failure_rates
from services.assessment.domain.flags import flag_decisions
from shared.academic.vocabulary import REGULAR_SITTINGS
from shared.db import lock_keys

KEY = ("student_id", "semester", "course_code", "exam_type")
FIELDS = KEY + ("course_name", "credits", "course_type", "score", "teacher", "offering_college")


def take_records(uow, upload_id: str, records: list[dict]) -> bool:
    """Store a batch; True when it completed its upload (the caller then decides the flags)."""
    conn = uow.conn
    lock_keys(conn, ["assessment-upload:" + upload_id])
    g = tables.grade_records
    keys = {tuple(r[k] for k in KEY) for r in records}
    if keys:
        conn.execute(delete(g).where(and_(*(g.c[k] == bindparam(f"k_{k}") for k in KEY))),
                     [{f"k_{k}": key[i] for i, k in enumerate(KEY)} for key in keys])
        latest = {tuple(r[k] for k in KEY): {f: r[f] for f in FIELDS} for r in records}
        conn.execute(g.insert(), list(latest.values()))
    offerings = {(r["semester"], r["course_code"]) for r in records if r["exam_type"] in REGULAR_SITTINGS}
    known = set(conn.execute(select(tables.upload_courses.c.semester, tables.upload_courses.c.course_code)
                             .where(tables.upload_courses.c.upload_id == upload_id)).all())
    fresh = [{"upload_id": upload_id, "semester": s, "course_code": c} for s, c in offerings - known]
    if fresh:
        conn.execute(tables.upload_courses.insert(), fresh)
    progress = _progress(conn, upload_id)
    conn.execute(update(tables.upload_progress).where(tables.upload_progress.c.upload_id == upload_id)
                 .values(batches_received=progress["batches_received"] + 1))
    return progress["batches_expected"] == progress["batches_received"] + 1


def upload_completed(uow, upload_id: str, batches: int) -> bool:
    conn = uow.conn
    lock_keys(conn, ["assessment-upload:" + upload_id])
    progress = _progress(conn, upload_id)
    conn.execute(update(tables.upload_progress).where(tables.upload_progress.c.upload_id == upload_id)
                 .values(batches_expected=batches))
    return progress["batches_received"] == batches


def _progress(conn, upload_id: str) -> dict:
    p = tables.upload_progress
    row = conn.execute(select(p).where(p.c.upload_id == upload_id)).mappings().first()
    if row is None:
        conn.execute(p.insert().values(upload_id=upload_id, batches_received=0))
        return {"batches_expected": None, "batches_received": 0}
    return dict(row)


def offerings_to_decide(conn, upload_id: str) -> list[tuple[str, str]]:
    uc = tables.upload_courses
    return [tuple(r) for r in conn.execute(select(uc.c.semester, uc.c.course_code).where(uc.c.upload_id == upload_id))]


def students_of(conn, offerings) -> set[str]:
    records = _regular_records(conn, {c for _, c in offerings})
    wanted = set(offerings)
    return {r["student_id"] for r in records if (r["semester"], r["course_code"]) in wanted}


def decide_flags(uow, upload_id: str, majors_of: dict[str, str], threshold: float, home_college: str) -> list[dict]:
    """Recompute the rates of every offering the upload touched; store and announce flag changes."""
    conn = uow.conn
    offerings = set(offerings_to_decide(conn, upload_id))
    lock_keys(conn, ["assessment-course:" + c for _, c in offerings])
    all_rates = course_failure_rates(_regular_records(conn, {c for _, c in offerings}))
    rates = {k: v for k, v in all_rates.items() if (k[0], k[1]) in offerings}
    held = _held_flags(conn, offerings)
    changes = flag_decisions(rates, held, threshold=threshold, history=all_rates, majors_of=majors_of,
                             home_college=home_college)
    now = datetime.now(timezone.utc)
    for flag in changes:
        _store_flag(conn, flag, upload_id, now)
    conn.execute(update(tables.upload_progress).where(tables.upload_progress.c.upload_id == upload_id)
                 .values(decided_at=now))
    if changes:
        uow.announce("assessment.course_flags_changed", {"upload_id": upload_id, "flags": changes})
    return changes


def _regular_records(conn, course_codes) -> list[dict]:
    g = tables.grade_records
    codes = sorted(course_codes)
    found = []
    for start in range(0, len(codes), 500):
        query = select(g).where(g.c.course_code.in_(codes[start:start + 500]),
                                g.c.exam_type.in_(sorted(REGULAR_SITTINGS)))
        found.extend(dict(r) for r in conn.execute(query).mappings())
    return found


def _held_flags(conn, offerings) -> dict:
    f = tables.course_flags
    held = {}
    for row in conn.execute(select(f).where(f.c.flagged.is_(True))).mappings():
        if (row["semester"], row["course_code"]) in offerings:
            held[(row["semester"], row["course_code"], row["teacher"])] = {
                "rate": row["rate"], "failed": row["failed"], "total": row["total"]}
    return held


def _store_flag(conn, flag: dict, upload_id: str, now) -> None:
    f = tables.course_flags
    key = (f.c.semester == flag["semester"]) & (f.c.course_code == flag["course_code"]) & (f.c.teacher == flag["teacher"])
    values = {k: flag[k] for k in ("course_name", "offering_college", "external", "rate", "failed", "total",
                                   "threshold", "previous_rate", "previous_semester")}
    values.update(majors=json.dumps(flag["majors"], ensure_ascii=False), flagged=flag["change"] != "unflagged",
                  upload_id=upload_id, updated_at=now)
    if conn.execute(select(f.c.semester).where(key)).first():
        conn.execute(update(f).where(key).values(**values))
    else:
        conn.execute(f.insert().values(semester=flag["semester"], course_code=flag["course_code"],
                                       teacher=flag["teacher"], **values))
