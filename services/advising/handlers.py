"""The advising service layer: store the tasks the domain decides, once per cause; close them with records."""
from __future__ import annotations

import json
import uuid
from datetime import datetime, timezone

from sqlalchemy import select, update

from services.advising import tables
from services.advising.domain.duties import OPEN, WARNING_LIFTED
from services.advising.domain.records import ValidationError, check_record
from services.advising.domain.tasks import (Responsibles, integrity_tasks, tasks_for_course_flag,
                                            tasks_for_warning_change, tasks_marked_by_lift)
from shared.academic.scores import read_score

RESPONSIBLE_FIELDS = ("student_id", "class_name", "major", "cohort", "head_teacher_id", "counselor_id",
                      "department_head_id", "vice_dean_id")


def responsibles_from(answer: dict) -> dict[str, Responsibles]:
    return {sid: Responsibles(**{f: p.get(f) for f in RESPONSIBLE_FIELDS}) for sid, p in answer.items()}


def cheating_students(records: list[dict]) -> list[str]:
    return sorted({r["student_id"] for r in records if read_score(r["score"]).kind == "cheating"})


def on_warning_changes(uow, changes: list[dict], people: dict[str, Responsibles], occurred_at) -> list[dict]:
    specs = []
    touched = []
    for change in changes:
        if change["student_id"] not in people:
            raise LookupError(f"student {change['student_id']} is not in the roster; the task cannot be assigned")
        specs.extend(tasks_for_warning_change(change, people[change["student_id"]], occurred_at))
        if change["kind"] == "lifted":
            touched.extend(_mark_lifted(uow.conn, change))
    created = _create(uow, specs)
    _announce(uow, created + touched)
    return created


def on_cheating_records(uow, records: list[dict], people: dict[str, Responsibles], occurred_at) -> list[dict]:
    created = _create(uow, integrity_tasks(records, people, occurred_at))
    _announce(uow, created)
    return created


def on_course_flags(uow, flags: list[dict], officers: dict, occurred_at) -> list[dict]:
    specs = []
    for flag in flags:
        specs.extend(tasks_for_course_flag(flag, officers["department_head_by_major"], officers["vice_dean_id"],
                                           occurred_at))
    created = _create(uow, specs)
    _announce(uow, created)
    return created


def _create(uow, specs) -> list[dict]:
    if not specs:
        return []
    t = tables.tasks
    causes = [s.cause for s in specs]
    existing = set()
    for start in range(0, len(causes), 500):
        existing |= set(uow.conn.execute(select(t.c.cause).where(t.c.cause.in_(causes[start:start + 500]))).scalars())
    now = datetime.now(timezone.utc)
    rows, seen = [], set()
    for spec in specs:
        if spec.cause in existing or spec.cause in seen:
            continue   # never two tasks for one cause
        seen.add(spec.cause)
        rows.append({"task_id": "T-" + uuid.uuid4().hex[:12], "kind": spec.kind, "assignee": spec.assignee,
                     "student_id": spec.student_id, "course_code": spec.course_code, "semester": spec.semester,
                     "due": spec.due, "status": OPEN, "note": None, "cause": spec.cause,
                     "detail": json.dumps(spec.detail, ensure_ascii=False, default=str),
                     "correlation_id": uow.correlation_id, "created_at": now})
    if rows:
        uow.conn.execute(t.insert(), rows)
    return rows


def _mark_lifted(conn, change) -> list[dict]:
    t = tables.tasks
    candidates = [dict(r) for r in conn.execute(
        select(t).where(t.c.student_id == change["student_id"], t.c.semester == change["semester"],
                        t.c.status == OPEN)).mappings()]
    marked = tasks_marked_by_lift(change, candidates)
    for task in marked:
        conn.execute(update(t).where(t.c.task_id == task["task_id"]).values(note=WARNING_LIFTED))
        task["note"] = WARNING_LIFTED
    return marked


def _announce(uow, rows: list[dict]) -> None:
    if rows:
        uow.announce("advising.tasks_changed", {"tasks": [task_event(r) for r in rows]})


def task_event(row: dict) -> dict:
    return {"task_id": row["task_id"], "kind": row["kind"], "assignee": row["assignee"],
            "student_id": row["student_id"], "course_code": row["course_code"], "semester": row["semester"],
            "due": row["due"].isoformat(), "status": row["status"], "cause": row["cause"]}


def close_task(uow, task_id: str, closed_by: str, record: dict) -> dict:
    t = tables.tasks
    row = uow.conn.execute(select(t).where(t.c.task_id == task_id)).mappings().first()
    if row is None:
        return {"status": "rejected", "message": f"no task {task_id}"}
    if row["assignee"] != closed_by:
        return {"status": "rejected", "message": f"task {task_id} belongs to {row['assignee']}, not {closed_by}"}
    if row["status"] != OPEN:
        return {"status": "rejected", "message": f"task {task_id} is already {row['status']}"}
    try:
        stored = check_record(row["kind"], record)
    except ValidationError as exc:
        return {"status": "rejected", "message": f"the {row['kind']} record is incomplete: {exc.messages}"}
    now = datetime.now(timezone.utc)
    uow.conn.execute(update(t).where(t.c.task_id == task_id).values(
        status="done", record=json.dumps(stored, ensure_ascii=False), closed_at=now, closed_by=closed_by))
    _announce(uow, [{**dict(row), "status": "done"}])
    return {"status": "closed", "task_id": task_id}
