"""Read-side of the advising service."""
from __future__ import annotations

import json
from datetime import date

from sqlalchemy import func, select

from services.advising import tables
from services.advising.domain.duties import DONE, OPEN, SUBMITTED
from services.advising.domain.symposium import OPEN_STATUSES, age_days

TASK_STATUSES = {"open": (OPEN,), "submitted": (SUBMITTED,), "done": (DONE,), "unfinished": (OPEN, SUBMITTED)}


def _iso(value):
    return value.isoformat() if isinstance(value, date) else value


def task_row(row) -> dict:
    return {"task_id": row["task_id"], "kind": row["kind"], "assignee": row["assignee"],
            "student_id": row["student_id"], "course_code": row["course_code"],
            "semester": row["semester"], "due": row["due"].isoformat(), "status": row["status"],
            "note": row["note"], "cause": row["cause"], "detail": json.loads(row["detail"]),
            "record": json.loads(row["record"]) if row["record"] else None,
            "class_name": row["class_name"], "major": row["major"], "cohort": row["cohort"],
            "duty_role": row["duty_role"], "holder_role": row["holder_role"],
            "escalated_to": row["escalated_to"], "escalated_at": _iso(row["escalated_at"]),
            "outcome": json.loads(row["outcome"]) if row["outcome"] else None,
            "closed_by": row["closed_by"], "closed_at": _iso(row["closed_at"])}


def list_tasks(conn, assignee: str | None = None, status: str = "all", correlation_id: str | None = None, *,
               semester: str | None = None, kind: str | None = None, student_id: str | None = None,
               class_name: str | None = None, escalated_to: str | None = None,
               overdue_on: date | None = None) -> list[dict]:
    """Tasks, by due date. ``overdue_on``: only unfinished tasks due before that day."""
    t = tables.tasks
    query = select(t).order_by(t.c.due, t.c.task_id)
    if assignee:
        query = query.where(t.c.assignee == assignee)
    if status in TASK_STATUSES:
        query = query.where(t.c.status.in_(TASK_STATUSES[status]))
    if correlation_id:
        query = query.where(t.c.correlation_id == correlation_id)
    for column, value in ((t.c.semester, semester), (t.c.kind, kind), (t.c.student_id, student_id),
                          (t.c.class_name, class_name), (t.c.escalated_to, escalated_to)):
        if value:
            query = query.where(column == value)
    if overdue_on:
        query = query.where(t.c.status.in_((OPEN, SUBMITTED)), t.c.due < overdue_on)
    return [task_row(row) for row in conn.execute(query).mappings()]


def task_history(conn, task_ids) -> dict[str, list[dict]]:
    h = tables.task_history
    found: dict[str, list[dict]] = {}
    ids = list(task_ids)
    for start in range(0, len(ids), 500):
        for row in conn.execute(select(h).where(h.c.task_id.in_(ids[start:start + 500])).order_by(h.c.seq)).mappings():
            found.setdefault(row["task_id"], []).append(
                {"at": row["at"].isoformat(), "action": row["action"], "actor": row["actor"],
                 "detail": json.loads(row["detail"])})
    return found


def get_task(conn, task_id: str) -> dict | None:
    row = conn.execute(select(tables.tasks).where(tables.tasks.c.task_id == task_id)).mappings().first()
    if row is None:
        return None
    task = task_row(row)
    task["history"] = task_history(conn, [task_id]).get(task_id, [])
    return task


def list_records(conn, *, assignee: str | None = None, kind: str | None = None, semester: str | None = None,
                 student_id: str | None = None, class_name: str | None = None) -> list[dict]:
    """The records made: closed tasks, and course reviews submitted for review, newest duty first."""
    t = tables.tasks
    query = select(t).where(t.c.record.is_not(None)).order_by(t.c.semester, t.c.kind, t.c.due, t.c.task_id)
    for column, value in ((t.c.assignee, assignee), (t.c.kind, kind), (t.c.semester, semester),
                          (t.c.student_id, student_id), (t.c.class_name, class_name)):
        if value:
            query = query.where(column == value)
    rows = []
    for row in conn.execute(query).mappings():
        record = json.loads(row["record"])
        rows.append({"task_id": row["task_id"], "kind": row["kind"], "semester": row["semester"],
                     "assignee": row["assignee"], "status": row["status"], "student_id": row["student_id"],
                     "class_name": row["class_name"], "course_code": row["course_code"],
                     "date": record.get("date"), "closed_by": row["closed_by"], "record": record})
    return rows


def item_row(row, today: date) -> dict:
    item = {k: _iso(v) for k, v in dict(row).items()}
    end = row["closed_on"] if row["status"] not in OPEN_STATUSES and row["closed_on"] else today
    item["open"] = row["status"] in OPEN_STATUSES
    item["age_days"] = age_days(row["raised_on"], end)
    return item


def list_items(conn, today: date, *, open_only: bool = False, semester: str | None = None,
               assignee: str | None = None) -> list[dict]:
    """Symposium items, oldest first; ``age_days``: how long it has been open (until closed)."""
    s = tables.symposium_items
    query = select(s).order_by(s.c.raised_on, s.c.item_id)
    if open_only:
        query = query.where(s.c.status.in_(OPEN_STATUSES))
    if semester:
        query = query.where(s.c.semester == semester)
    if assignee:
        query = query.where(s.c.assignee == assignee)
    return [item_row(row, today) for row in conn.execute(query).mappings()]


def handbook_tasks(conn, staff_id: str, semester: str) -> list[dict]:
    """Everything a staff member holds (or closed) for a semester, with each task's history."""
    t = tables.tasks
    query = (select(t).where(t.c.semester == semester, (t.c.assignee == staff_id) | (t.c.closed_by == staff_id))
             .order_by(t.c.kind, t.c.due, t.c.task_id))
    tasks = [task_row(row) for row in conn.execute(query).mappings()]
    history = task_history(conn, [task["task_id"] for task in tasks])
    for task in tasks:
        task["history"] = history.get(task["task_id"], [])
    return tasks


def semesters(conn) -> list[dict]:
    s = tables.semesters
    return [{k: _iso(v) for k, v in dict(row).items()}
            for row in conn.execute(select(s).order_by(s.c.start)).mappings()]


# --- counselor lists (list_handlers.py) ----------------------------------------------------------------------

LIST_STATUSES = ("unconfirmed", "confirmed", "replaced", "all")


def _list_row(row, newest: dict[tuple, int]) -> dict:
    """A list version with its status: confirmed; replaced (a newer version came before it was confirmed);
    unconfirmed (the latest, waiting for the counselor)."""
    item = {k: _iso(v) for k, v in dict(row).items() if k not in ("changes", "recipients")}
    item["changes"] = json.loads(row["changes"])
    item["recipients"] = json.loads(row["recipients"])
    if row["confirmed_by"]:
        item["status"] = "confirmed"
    elif newest.get((row["semester"], row["cohort"]), row["version"]) > row["version"]:
        item["status"] = "replaced"
    else:
        item["status"] = "unconfirmed"
    return item


def _newest(conn) -> dict[tuple, int]:
    c = tables.counselor_lists
    query = select(c.c.semester, c.c.cohort, func.max(c.c.version)).group_by(c.c.semester, c.c.cohort)
    return {(s, k): v for s, k, v in conn.execute(query)}


def list_lists(conn, semester: str | None = None, cohort: str | None = None, status: str = "all",
               confirmer: str | None = None) -> list[dict]:
    """Counselor list versions, by semester, cohort and version."""
    c = tables.counselor_lists
    query = select(c).order_by(c.c.semester, c.c.cohort, c.c.version)
    for column, value in ((c.c.semester, semester), (c.c.cohort, cohort), (c.c.confirmer, confirmer)):
        if value:
            query = query.where(column == str(value))
    newest = _newest(conn)
    rows = [_list_row(row, newest) for row in conn.execute(query).mappings()]
    return [r for r in rows if status in ("all", None) or r["status"] == status]


def get_list(conn, list_id: str) -> dict | None:
    """One list version with its entries (class, then student)."""
    c, e = tables.counselor_lists, tables.list_entries
    row = conn.execute(select(c).where(c.c.list_id == list_id)).mappings().first()
    if row is None:
        return None
    item = _list_row(row, _newest(conn))
    item["entries"] = [json.loads(x) for x in conn.execute(
        select(e.c.entry).where(e.c.list_id == list_id).order_by(e.c.class_name, e.c.student_id)).scalars()]
    return item


def tasks_for_student(conn, student_id: str) -> dict:
    """A student's part of advising, for the warning timeline (aq warnings history): every task about the student
    with its record and history, and every counselor list version the student was on."""
    t, c, e = tables.tasks, tables.counselor_lists, tables.list_entries
    tasks = [{**task_row(row), "created_at": _iso(row["created_at"])} for row in conn.execute(
        select(t).where(t.c.student_id == student_id).order_by(t.c.created_at, t.c.task_id)).mappings()]
    history = task_history(conn, [task["task_id"] for task in tasks])
    for task in tasks:
        task["history"] = history.get(task["task_id"], [])
    newest = _newest(conn)
    lists = []
    query = (select(c, e.c.entry).join(e, e.c.list_id == c.c.list_id).where(e.c.student_id == student_id)
             .order_by(c.c.created_at, c.c.version))
    for row in conn.execute(query).mappings():
        item = _list_row(row, newest)
        item.pop("recipients")
        item["entry"] = json.loads(row["entry"])
        lists.append(item)
    return {"student_id": student_id, "tasks": tasks, "lists": lists}
