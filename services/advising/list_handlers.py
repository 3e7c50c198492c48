"""The advising service layer for counselor lists (domain/lists.py, docs/duties.md "Counselor lists").

* ``record_results`` / ``record_warnings`` keep what the lists are built from (every grade record's result, every
  student's warning level per semester) and mark the semester as touched.
* ``issue_lists`` (the timer, once a touched semester has been quiet for the settle period) builds the semester's
  lists per cohort and issues a new VERSION of each list whose students or reasons changed: stored, announced as
  ``advising.counselor_list_issued`` (notification sends it), with the counselor's confirmation task and the head
  teachers' parent-contact tasks. A version the counselor has not confirmed yet hands its task on to the next one.
* ``confirm_list``: the counselor confirms the latest version (recorded: who, when, remark); the task closes.
"""
from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Iterable, Mapping
from datetime import date, datetime, timedelta, timezone
from operator import itemgetter

import orjson
from sqlalchemy import bindparam, delete, func, select, update

from services.advising import tables
from services.advising.domain import lists as domain
from services.advising.domain.duties import COUNSELOR, COUNSELOR_LIST, DONE, OPEN, PARENT_CONTACT
from services.advising.domain.records import ValidationError, check_record
from services.advising.domain.tasks import NoResponsible
from services.advising.handlers import _announce, _create, _history, _json, _rejected, college_day, record_event, utc_now
from shared.academic.scores import ScoreError, read_score
from shared.bulk import insert_tuples, upsert_rows, upsert_tuples
from shared.clock import college_timezone
from shared.db import lock_keys

log = logging.getLogger(__name__)
# A record in semester_records.records (tables.py): [course_code, exam_type, course_name, course_type, score, credits]
_RECORD_TEXTS = itemgetter("course_code", "exam_type", "course_name", "course_type", "score")


# --- what the lists are built from -------------------------------------------------------------------------------

def record_results(uow, records: Iterable[Mapping], now: datetime | None = None) -> int:
    """Keep each record's result (a correction replaces it) and mark its semester touched."""
    records = list(records)
    unreadable = _unreadable({r["score"] for r in records})      # each distinct score read once
    semesters: dict[tuple[str, str], dict[tuple[str, str], list]] = {}
    for r in records:
        if unreadable and r["score"] in unreadable:
            # Grades validated it; a score this service cannot read must not stop the batch.
            log.warning("unreadable score %r for %s %s", r["score"], r["student_id"], r["course_code"])
            continue
        record = [*_RECORD_TEXTS(r), float(r["credits"])]
        key = (r["student_id"], r["semester"])
        kept = semesters.get(key)
        if kept is None:
            kept = semesters[key] = {}
        kept[(record[0], record[1])] = record
    _store_semesters(uow.conn, semesters)
    touch(uow, {semester for _, semester in semesters}, now)
    return sum(len(kept) for kept in semesters.values())


def _unreadable(scores) -> set:
    unreadable = set()
    for score in scores:
        try:
            read_score(score)
        except ScoreError:
            unreadable.add(score)
    return unreadable


def _store_semesters(conn, semesters: dict[tuple[str, str], dict[tuple[str, str], list]]) -> None:
    """Lay the records over what each student's semester holds (a correction keeps its place, a new record goes
    last) and write the semesters that changed: new ones inserted, changed ones upserted (an upsert costs
    PostgreSQL half as much again as an insert, conflict or not). The students' locks keep another batch about
    them (a correction in another upload) from writing between the look and the write."""
    students = sorted({student_id for student_id, _ in semesters})
    if not students:
        return
    lock_keys(conn, ("advising-results:" + s for s in students))
    stored = _stored_semesters(conn, students)
    new, changed = [], []
    for (student_id, semester), arrived in semesters.items():
        before = stored.get((student_id, semester))
        records = arrived
        if before is not None:
            records = {(kept[0], kept[1]): kept for kept in orjson.loads(before)}
            records.update(arrived)
        text = orjson.dumps(list(records.values())).decode()
        # Result.is_fail, without a property call per record.
        failed = any(read_score(record[4]).passed is False for record in records.values())
        row = (student_id, semester, failed, text)
        if before is None:
            new.append(row)
        elif text != before:
            changed.append(row)
    insert_tuples(conn, tables.semester_records, _SEMESTER_COLUMNS, new)
    upsert_tuples(conn, tables.semester_records, _SEMESTER_COLUMNS, changed, ("student_id", "semester"))


_SEMESTER_COLUMNS = ("student_id", "semester", "failed", "records")


def _stored_semesters(conn, students: list[str]) -> dict[tuple[str, str], str]:
    """(student, semester) -> its records as stored (JSON), for the students (sorted ids)."""
    found = {}
    for start in range(0, len(students), 500):
        chunk = students[start:start + 500]
        for student_id, semester, records in conn.execute(_STORED, {"first": chunk[0], "last": chunk[-1],
                                                                     "students": chunk}):
            found[(student_id, semester)] = records
    return found


def _stored_query():
    s = tables.semester_records
    # The bounds let PostgreSQL use the primary key before the table has statistics (a new database's first
    # upload); with IN alone it scanned the whole table for every batch.
    return select(s.c.student_id, s.c.semester, s.c.records).where(
        s.c.student_id.between(bindparam("first"), bindparam("last")),
        s.c.student_id.in_(bindparam("students", expanding=True)))


_STORED = _stored_query()        # built once: every record batch runs it


def record_warnings(uow, changes: Iterable[Mapping], occurred_at: datetime, now: datetime | None = None) -> None:
    """Keep each student's warning level per semester (lifted: "none"). A change older than the one kept (a late
    redelivery) is ignored."""
    w = tables.warning_levels
    changes = list(changes)
    keys = {(c["student_id"], c["semester"]) for c in changes}
    kept = {}
    for sid, semester in keys:
        row = uow.conn.execute(select(w.c.changed_at).where(w.c.student_id == sid, w.c.semester == semester)).first()
        if row is not None:
            kept[(sid, semester)] = _aware(row[0])
    rows = {}
    for change in changes:
        key = (change["student_id"], change["semester"])
        if key in kept and kept[key] > occurred_at:
            continue
        rows[key] = {"student_id": key[0], "semester": key[1], "level": change["new_level"],
                     "escalated": bool(change.get("escalated")), "change_id": change["change_id"],
                     "reasons": _json(change.get("reasons") or []), "changed_at": occurred_at}
    upsert_rows(uow.conn, w, list(rows.values()), ("student_id", "semester"))
    touch(uow, {k[1] for k in rows}, now)


def touch(uow, semesters: Iterable[str], now: datetime | None = None) -> None:
    # Wall-clock time, not the service's (test) clock: the settle period is about messages still arriving.
    rows = [{"semester": s, "touched_at": now or utc_now(), "correlation_id": uow.correlation_id}
            for s in sorted(set(semesters))]
    upsert_rows(uow.conn, tables.list_marks, rows, ("semester",))


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)   # SQLite keeps no zone


# --- issuing ---------------------------------------------------------------------------------------------------

def settled_marks(conn, now: datetime, settle_seconds: float) -> list[dict]:
    """Touched semesters that have been quiet for ``settle_seconds``."""
    m = tables.list_marks
    rows = [dict(r) for r in conn.execute(select(m).order_by(m.c.touched_at)).mappings()]
    return [r for r in rows if (now - _aware(r["touched_at"])).total_seconds() >= settle_seconds]


def candidates(conn, semester: str) -> tuple[dict[str, list[dict]], dict[str, dict]]:
    """(student -> failed courses of the semester, student -> warning at the semester) for everyone on a list."""
    s, w = tables.semester_records, tables.warning_levels
    rows = [{"student_id": student_id, "course_code": code, "course_name": name, "credits": credits,
             "course_type": course_type, "score": score}
            for student_id, records in conn.execute(select(s.c.student_id, s.c.records).where(
                s.c.semester == semester, s.c.failed).order_by(s.c.student_id))
            for code, _exam_type, name, course_type, score, credits in orjson.loads(records)]
    warned = {row["student_id"]: {"level": row["level"], "escalated": row["escalated"],
                                  "reasons": json.loads(row["reasons"])}
              for row in conn.execute(select(w).where(w.c.semester == semester, w.c.level != "none")).mappings()}
    return domain.failed_courses(rows), warned


def semester_end(conn, semester: str, calendar: Mapping) -> date | None:
    """The last day of the semester's last teaching week: as opened (aq tasks open-semester), or the calendar's."""
    s = tables.semesters
    row = conn.execute(select(s.c.start, s.c.weeks).where(s.c.semester == semester)).first()
    if row is not None:
        return row[0] + timedelta(days=7 * row[1] - 1)
    known = calendar.get(semester)
    return known.end if known is not None else None


def issue_lists(uow, mark: Mapping, failed: Mapping, warned: Mapping, people: Mapping[str, Mapping],
                end: date | None, now: datetime, parent_contacts: bool = True) -> list[dict]:
    """Issue a new version of every list of ``mark``'s semester whose content changed. ``failed``/``warned`` were
    read for the mark as it was; if the semester was touched again since, nothing is issued (the next round will)."""
    semester = mark["semester"]
    conn = uow.conn
    m = tables.list_marks
    lock_keys(conn, [f"counselor_lists:{semester}"])     # another instance issuing the same semester waits here
    current = conn.execute(select(m.c.touched_at).where(m.c.semester == semester)).first()
    if current is None or _aware(current[0]) != _aware(mark["touched_at"]):
        return []
    by_cohort, unplaced = domain.entries_by_cohort(failed, warned, people)
    if unplaced:
        log.warning("%s: %d students on no list, the roster has no cohort for them: %s", semester, len(unplaced),
                    ", ".join(unplaced[:20]))
    latest = _latest_versions(conn, semester)
    issued, touched_tasks = [], []
    for cohort in sorted(set(by_cohort) | {c for c, row in latest.items() if row["students"]}):
        entries = by_cohort.get(cohort, [])
        before = latest.get(cohort)
        if before is not None and domain.same_entries(_entries(conn, before["list_id"]), entries):
            continue
        answer = _issue(uow, semester, cohort, entries, before, people, now)
        if answer is None:
            continue
        row, tasks = answer
        touched_tasks.extend(tasks)
        if parent_contacts and entries:
            touched_tasks.extend(_parent_contacts(uow, semester, entries, people, now, end))
        issued.append(row)
    _announce(uow, touched_tasks)
    conn.execute(delete(m).where(m.c.semester == semester, m.c.touched_at == current[0]))
    return issued


def _latest_versions(conn, semester: str) -> dict[str, dict]:
    c = tables.counselor_lists
    newest = (select(c.c.cohort, func.max(c.c.version).label("version")).where(c.c.semester == semester)
              .group_by(c.c.cohort).subquery())
    query = select(c).join(newest, (c.c.cohort == newest.c.cohort) & (c.c.version == newest.c.version)) \
        .where(c.c.semester == semester)
    return {row["cohort"]: dict(row) for row in conn.execute(query).mappings()}


def _entries(conn, list_id: str) -> list[dict]:
    e = tables.list_entries
    return [json.loads(row) for row in conn.execute(
        select(e.c.entry).where(e.c.list_id == list_id).order_by(e.c.class_name, e.c.student_id)).scalars()]


def _issue(uow, semester: str, cohort: str, entries: list[dict], before: Mapping | None,
           people: Mapping[str, Mapping], now: datetime) -> tuple[dict, list[dict]] | None:
    conn = uow.conn
    fallback = {COUNSELOR: before["confirmer"], "student_id": None} if before else None
    cohort_people = domain.cohort_people(entries, people, fallback)
    try:
        confirmer, _ = domain.confirmer(cohort_people)
    except NoResponsible:
        log.error("%s cohort %s: no counselor and no vice dean in the roster; the list waits for them", semester,
                  cohort)
        return None
    previous = json.loads(before["recipients"]) if before else []
    recipients = [r.as_dict() for r in domain.recipients(cohort, entries, people, previous)]
    version = before["version"] + 1 if before else 1
    changes = domain.changes(_entries(conn, before["list_id"]) if before else None, entries)
    row = {"list_id": "CL-" + uuid.uuid4().hex[:10], "semester": semester, "cohort": cohort, "version": version,
           "students": len(entries), "warned": sum(1 for e in entries if e["level"]),
           "failed": sum(1 for e in entries if e["failed_courses"]), "changes": _json(changes),
           "recipients": _json(recipients), "confirmer": confirmer, "task_id": None,
           "correlation_id": uow.correlation_id, "created_at": now}
    task, tasks = _confirmation_task(uow, row, cohort_people, now)
    row["task_id"] = task["task_id"]
    conn.execute(tables.counselor_lists.insert().values(**row))
    if entries:
        conn.execute(tables.list_entries.insert(), [
            {"list_id": row["list_id"], "student_id": e["student_id"], "class_name": e["class_name"],
             "level": e["level"], "entry": _json(e)} for e in entries])
    uow.announce("advising.counselor_list_issued", {
        "list_id": row["list_id"], "semester": semester, "cohort": cohort, "version": version,
        "previous_version": before["version"] if before else None, "confirmer": task["assignee"],
        "confirm_due": _iso(task["due"]), "task_id": task["task_id"], "students": row["students"],
        "warned": row["warned"], "failed": row["failed"], "added": changes["added"], "removed": changes["removed"],
        "entries": entries, "recipients": recipients})
    return row, tasks


def _confirmation_task(uow, row: dict, cohort_people: Mapping, now: datetime) -> tuple[dict, list[dict]]:
    """The open confirmation task of this cohort's list (an earlier version not confirmed yet: it now asks for
    this version, keeping its due date and holder), or a new one."""
    t = tables.tasks
    open_task = uow.conn.execute(select(t).where(
        t.c.kind == COUNSELOR_LIST, t.c.semester == row["semester"], t.c.cohort == row["cohort"],
        t.c.status == OPEN).order_by(t.c.created_at.desc())).mappings().first()
    if open_task is not None:
        task = dict(open_task)
        detail = {**json.loads(task["detail"]), "list_id": row["list_id"], "version": row["version"],
                  "students": row["students"], "scope": f"{row['cohort']} {row['semester']} v{row['version']}"}
        uow.conn.execute(update(t).where(t.c.task_id == task["task_id"]).values(detail=_json(detail)))
        _history(uow.conn, task["task_id"], "replaced", None, {"list_id": row["list_id"], "version": row["version"]},
                 at=now)
        task["detail"] = detail
        return task, [task]
    spec = domain.confirmation_task(row, cohort_people, now.astimezone(college_timezone()))
    created = _create(uow, [spec], now)
    return created[0], created


def _parent_contacts(uow, semester: str, entries: list[dict], people: Mapping, now: datetime,
                     end: date | None) -> list[dict]:
    t = tables.tasks
    ids = [e["student_id"] for e in entries]
    contacting = set()
    for start in range(0, len(ids), 500):
        contacting |= set(uow.conn.execute(select(t.c.student_id).where(
            t.c.kind == PARENT_CONTACT, t.c.semester == semester,
            t.c.student_id.in_(ids[start:start + 500]))).scalars())
    return _create(uow, domain.parent_contacts(semester, entries, people, now.astimezone(college_timezone()), end,
                                               contacting), now)


def _iso(value) -> str:
    return value if isinstance(value, str) else value.isoformat()


# --- confirming --------------------------------------------------------------------------------------------------

def confirm_list(uow, list_id: str, confirmed_by: str, comment: str | None = None,
                 now: datetime | None = None) -> dict:
    """The counselor confirms a list: only its latest version, only once, only by whoever holds the confirmation
    (the cohort's counselor, or who took the task over)."""
    now = now or utc_now()
    c, t = tables.counselor_lists, tables.tasks
    row = uow.conn.execute(select(c).where(c.c.list_id == list_id)).mappings().first()
    if row is None:
        return _rejected(f"no counselor list {list_id} (aq advising lists)")
    newest = _latest_versions(uow.conn, row["semester"])[row["cohort"]]
    if newest["version"] != row["version"]:
        return _rejected(f"list {list_id} is version {row['version']} of cohort {row['cohort']} {row['semester']}; "
                         f"version {newest['version']} ({newest['list_id']}) replaced it: confirm that one")
    if row["confirmed_by"]:
        return _rejected(f"list {list_id} was already confirmed by {row['confirmed_by']} on "
                         f"{_aware(row['confirmed_at']).date().isoformat()}")
    task = uow.conn.execute(select(t).where(t.c.task_id == row["task_id"])).mappings().first() \
        if row["task_id"] else None
    holder = task["assignee"] if task is not None and task["status"] == OPEN else row["confirmer"]
    if confirmed_by != holder:
        return _rejected(f"list {list_id} is confirmed by the cohort's counselor {holder}, not {confirmed_by}")
    try:
        record = check_record(COUNSELOR_LIST, {"date": college_day(now).isoformat(), "list_id": list_id,
                                               "version": row["version"], "comment": comment})
    except ValidationError as exc:
        return _rejected(f"the confirmation is incomplete: {exc.messages}")
    uow.conn.execute(update(c).where(c.c.list_id == list_id).values(
        confirmed_by=confirmed_by, confirmed_at=now, comment=comment))
    if task is not None and task["status"] == OPEN:
        uow.conn.execute(update(t).where(t.c.task_id == task["task_id"]).values(
            status=DONE, record=_json(record), closed_at=now, closed_by=confirmed_by))
        closed = {**dict(task), "status": DONE}
        _history(uow.conn, task["task_id"], "closed", confirmed_by, {"date": record["date"]}, at=now)
        _announce(uow, [closed])
        uow.announce("advising.records_changed",
                     {"records": [record_event(closed, "recorded", confirmed_by, record)]})
    return {"status": "confirmed", "list_id": list_id, "version": row["version"], "semester": row["semester"],
            "cohort": row["cohort"], "task_id": row["task_id"]}
