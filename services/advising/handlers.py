"""The advising service layer: store the tasks the domain decides, once per cause; close them with records;
remind, escalate and move them; check course reviews against the next offering; track symposium items.

Every function takes a unit of work (``uow.conn``, ``uow.announce``) and, where time matters, ``now`` — the
service's clock (services/advising/clock.py), so tests move time instead of waiting for it.
"""
from __future__ import annotations

import json
import uuid
from datetime import date, datetime, timedelta, timezone

from sqlalchemy import func, insert, or_, select, update

from services.advising import tables
from services.advising.domain import reviews, symposium
from services.advising.domain.calendar import SemesterDates
from services.advising.domain.duties import (
    COURSE_REVIEW,
    COUNSELOR,
    COUNSELOR_LIST,
    DEPARTMENT_HEAD,
    DONE,
    OPEN,
    SUBMITTED,
    SYMPOSIUM_REPLY,
    SYMPOSIUM_REPLY_DAYS,
    TEACHER,
    TWO_STEP_KINDS,
    VICE_DEAN,
    WARNING_LIFTED,
)
from services.advising.domain.moves import moves, people_for
from services.advising.domain.records import ValidationError, check_decision, check_record, record_date
from services.advising.domain.reminders import ESCALATED, ReminderSettings, escalation_target, reminders_due
from services.advising.domain.semester import classes_from, semester_tasks
from services.advising.domain.tasks import (Responsibles, TaskSpec, follow_up_for, integrity_tasks,
                                            scope_of, tasks_for_course_flag, tasks_for_warning_change,
                                            tasks_marked_by_lift)
from shared.academic.scores import read_score
from shared.academic.semesters import sort_key
from shared.clock import college_timezone

RESPONSIBLE_FIELDS = ("student_id", "class_name", "major", "cohort", "head_teacher_id", "counselor_id",
                      "department_head_id", "vice_dean_id")
UNFINISHED = (OPEN, SUBMITTED)


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


def college_day(now: datetime) -> date:
    return now.astimezone(college_timezone()).date()


def responsibles_from(answer: dict) -> dict[str, Responsibles]:
    return {sid: Responsibles(**{f: p.get(f) for f in RESPONSIBLE_FIELDS}) for sid, p in answer.items()}


def cheating_records(records: list[dict]) -> list[dict]:
    """The records whose score is cheating (作弊). Each distinct score is read once: a batch of 1,000 records
    has a few dozen."""
    cheating = {score for score in {r["score"] for r in records} if read_score(score).kind == "cheating"}
    return [r for r in records if r["score"] in cheating] if cheating else []


def cheating_students(records: list[dict]) -> list[str]:
    return sorted({r["student_id"] for r in cheating_records(records)})


# --- tasks from causes ------------------------------------------------------------------------------------------

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
    created = _create(uow, integrity_tasks(cheating_records(records), people, occurred_at))
    _announce(uow, created)
    return created


def on_course_flags(uow, flags: list[dict], officers: dict, occurred_at) -> list[dict]:
    """New flags ask for reviews; every flag may update the rate of the offering under review, or be the next
    offering that checks an earlier review (rate then → rate now)."""
    specs = []
    for flag in flags:
        specs.extend(tasks_for_course_flag(flag, officers["department_head_by_major"], officers["vice_dean_id"],
                                           occurred_at))
    created = _create(uow, specs)
    _announce(uow, created)
    _check_reviews(uow, reviews.observations_from_flags(flags))
    return created


def _check_reviews(uow, observations: list[dict]) -> None:
    t = tables.tasks
    codes = sorted({o["course_code"] for o in observations})
    if not codes:
        return
    observations = sorted(observations, key=lambda o: sort_key(o["semester"]))   # the next offering first
    rows = [_task_dict(r) for r in uow.conn.execute(
        select(t).where(t.c.kind == COURSE_REVIEW, t.c.course_code.in_(codes)).order_by(t.c.task_id)).mappings()]
    for review in rows:
        changed = False
        for observed in observations:
            detail = reviews.updated_rate(review, observed)
            if detail is not None:
                review["detail"], changed = detail, True
            check = reviews.review_check(review, observed)
            if check is not None and check != review["outcome"]:
                review["outcome"], changed = check, True
                _history(uow.conn, review["task_id"], "checked", None, check)
                uow.announce("advising.course_review_changed", review_event(review, "checked", None, None))
        if changed:
            uow.conn.execute(update(t).where(t.c.task_id == review["task_id"]).values(
                detail=_json(review["detail"]), outcome=_json(review["outcome"]) if review["outcome"] else None))


def _create(uow, specs, now: datetime | None = None) -> list[dict]:
    if not specs:
        return []
    t = tables.tasks
    causes = [s.cause for s in specs]
    existing = set()
    for start in range(0, len(causes), 500):
        existing |= set(uow.conn.execute(select(t.c.cause).where(t.c.cause.in_(causes[start:start + 500]))).scalars())
    now = now or utc_now()
    rows, seen = [], set()
    for spec in specs:
        if spec.cause in existing or spec.cause in seen:
            continue   # never two tasks for one cause
        seen.add(spec.cause)
        rows.append({"task_id": "T-" + uuid.uuid4().hex[:12], "kind": spec.kind, "assignee": spec.assignee,
                     "student_id": spec.student_id, "course_code": spec.course_code, "semester": spec.semester,
                     "due": spec.due, "status": OPEN, "note": None, "cause": spec.cause,
                     "detail": _json(spec.detail), "correlation_id": uow.correlation_id, "created_at": now,
                     "duty_role": spec.duty_role, "holder_role": spec.holder_role, "class_name": spec.class_name,
                     "major": spec.major, "cohort": spec.cohort})
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


# --- events ------------------------------------------------------------------------------------------------------

def _announce(uow, rows: list[dict]) -> None:
    if rows:
        uow.announce("advising.tasks_changed", {"tasks": [task_event(r) for r in rows]})


def task_event(row: dict) -> dict:
    due = row["due"]
    return {"task_id": row["task_id"], "kind": row["kind"], "assignee": row["assignee"],
            "student_id": row["student_id"], "course_code": row["course_code"], "semester": row["semester"],
            "due": due if isinstance(due, str) else due.isoformat(), "status": row["status"], "cause": row["cause"]}


def record_event(row: dict, step: str, by: str, record: dict | None) -> dict:
    return {"task_id": row["task_id"], "kind": row["kind"], "step": step, "semester": row["semester"],
            "assignee": row["assignee"], "recorded_by": by, "date": record_date(record),
            "student_id": row["student_id"], "class_name": row.get("class_name"), "cohort": row.get("cohort"),
            "major": row.get("major"), "course_code": row["course_code"]}


def review_event(row: dict, step: str, by: str | None, comment: str | None) -> dict:
    detail, check = row["detail"], row.get("outcome") or {}
    return {"task_id": row["task_id"], "step": step, "semester": row["semester"],
            "course_code": row["course_code"], "course_name": detail.get("course_name"),
            "teacher": detail.get("teacher"), "major": detail.get("major"), "reviewer": row["assignee"],
            "by": by, "comment": comment, "rate_then": detail.get("rate"),
            "semester_now": check.get("semester_now"), "rate_now": check.get("rate_now"),
            "fell": check.get("fell")}


def _json(value) -> str:
    return json.dumps(value, ensure_ascii=False, default=str)


def _task_dict(row) -> dict:
    task = dict(row)
    task["detail"] = json.loads(task["detail"]) if task.get("detail") else {}
    task["record"] = json.loads(task["record"]) if task.get("record") else None
    task["outcome"] = json.loads(task["outcome"]) if task.get("outcome") else None
    return task


def _history(conn, task_id: str, action: str, actor: str | None, detail: dict, *, key: str | None = None,
             at: datetime | None = None) -> None:
    conn.execute(insert(tables.task_history).values(task_id=task_id, at=at or utc_now(), action=action,
                                                    actor=actor, detail=_json(detail), key=key))


def _load(conn, task_id: str) -> dict | None:
    row = conn.execute(select(tables.tasks).where(tables.tasks.c.task_id == task_id)).mappings().first()
    return _task_dict(row) if row else None


def _rejected(message: str) -> dict:
    return {"status": "rejected", "message": message}


# --- closing with a record ---------------------------------------------------------------------------------------

def close_task(uow, task_id: str, closed_by: str, record: dict, now: datetime | None = None) -> dict:
    """The owner closes a task with the record its duty asks for. A talk's follow-up date creates the follow-up;
    a symposium reply answers its item. A course review is submitted and reviewed instead (two steps)."""
    now = now or utc_now()
    row = _load(uow.conn, task_id)
    if row is None:
        return _rejected(f"no task {task_id}")
    if row["kind"] in TWO_STEP_KINDS:
        return _rejected(f"task {task_id} is a {row['kind']}: the teacher or course group submits it "
                         "(aq tasks submit), the department head reviews it (aq tasks review)")
    if row["kind"] == COUNSELOR_LIST:
        return _rejected(f"task {task_id} asks to confirm counselor list {row['detail'].get('list_id')}: "
                         "aq advising confirm-list LIST_ID --by STAFF")
    if row["assignee"] != closed_by:
        return _rejected(f"task {task_id} belongs to {row['assignee']}, not {closed_by}")
    if row["status"] != OPEN:
        return _rejected(f"task {task_id} is already {row['status']}")
    try:
        stored = check_record(row["kind"], record)
    except ValidationError as exc:
        return _rejected(f"the {row['kind']} record is incomplete: {exc.messages}")
    if row["kind"] == SYMPOSIUM_REPLY:
        refused = _answer_item(uow, row, closed_by, stored)
        if refused:
            return _rejected(refused)
    uow.conn.execute(update(tables.tasks).where(tables.tasks.c.task_id == task_id).values(
        status=DONE, record=_json(stored), closed_at=now, closed_by=closed_by))
    row.update(status=DONE, record=stored)
    _history(uow.conn, task_id, "closed", closed_by, {"date": record_date(stored)}, at=now)
    follow_up = follow_up_for(row, stored)
    created = _create(uow, [follow_up], now) if follow_up else []
    _announce(uow, [row] + created)
    uow.announce("advising.records_changed", {"records": [record_event(row, "recorded", closed_by, stored)]})
    answer = {"status": "closed", "task_id": task_id}
    if created:
        answer["follow_up"] = {"task_id": created[0]["task_id"], "due": created[0]["due"].isoformat()}
    return answer


def submit_review(uow, task_id: str, submitted_by: str, record: dict, now: datetime | None = None) -> dict:
    """The teacher or course group submits a course review's analysis; the department head is told."""
    now = now or utc_now()
    row = _load(uow.conn, task_id)
    if row is None:
        return _rejected(f"no task {task_id}")
    if row["kind"] not in TWO_STEP_KINDS:
        return _rejected(f"task {task_id} is a {row['kind']}; close it with its record (aq tasks close)")
    try:
        status = reviews.submit(row, submitted_by)
        stored = check_record(row["kind"], record)
    except reviews.ReviewStepRefused as exc:
        return _rejected(str(exc))
    except ValidationError as exc:
        return _rejected(f"the {row['kind']} record is incomplete: {exc.messages}")
    uow.conn.execute(update(tables.tasks).where(tables.tasks.c.task_id == task_id).values(
        status=status, record=_json(stored)))
    row.update(status=status, record=stored)
    _history(uow.conn, task_id, "submitted", submitted_by, {"authors": stored.get("authors")}, at=now)
    _announce(uow, [row])
    uow.announce("advising.records_changed", {"records": [record_event(row, "submitted", submitted_by, stored)]})
    uow.announce("advising.course_review_changed", review_event(row, "submitted", submitted_by, None))
    return {"status": "submitted", "task_id": task_id, "reviewer": row["assignee"]}


def review_task(uow, task_id: str, reviewer: str, decision: dict, now: datetime | None = None) -> dict:
    """The department head approves a submitted review (the task is done) or returns it (open again)."""
    now = now or utc_now()
    row = _load(uow.conn, task_id)
    if row is None:
        return _rejected(f"no task {task_id}")
    if row["kind"] not in TWO_STEP_KINDS:
        return _rejected(f"task {task_id} is a {row['kind']}; only a course review is reviewed")
    try:
        decided = check_decision(decision)
        status = reviews.decide(row, reviewer, decided["decision"])
    except ValidationError as exc:
        return _rejected(f"the review decision is incomplete: {exc.messages}")
    except reviews.ReviewStepRefused as exc:
        return _rejected(str(exc))
    values = {"status": status}
    if status == DONE:
        values.update(closed_at=now, closed_by=reviewer)
    uow.conn.execute(update(tables.tasks).where(tables.tasks.c.task_id == task_id).values(**values))
    row.update(status=status)
    step = "approved" if status == DONE else "returned"
    _history(uow.conn, task_id, step, reviewer, {"comment": decided.get("comment")}, at=now)
    _announce(uow, [row])
    uow.announce("advising.records_changed", {"records": [record_event(row, step, reviewer, row["record"])]})
    uow.announce("advising.course_review_changed", review_event(row, step, reviewer, decided.get("comment")))
    return {"status": step, "task_id": task_id}


# --- the semester's recurring duties -----------------------------------------------------------------------------

def open_semester(uow, dates: SemesterDates, classes: list[dict], officers: dict, opened_by: str,
                  now: datetime | None = None) -> dict:
    """Create the semester's recurring duties (duties.py RECURRING_DUTIES) for the roster's classes, cohorts
    and majors. Opening again creates only what is missing (a class added since)."""
    now = now or utc_now()
    specs, problems = semester_tasks(dates, classes_from(classes), officers)
    created = _create(uow, specs, now)
    s = tables.semesters
    held = uow.conn.execute(select(s).where(s.c.semester == dates.semester)).mappings().first()
    if held is None:
        uow.conn.execute(insert(s).values(semester=dates.semester, start=dates.start, weeks=dates.weeks,
                                          opened_at=now, opened_by=opened_by, tasks=len(created)))
    else:
        uow.conn.execute(update(s).where(s.c.semester == dates.semester).values(
            start=dates.start, weeks=dates.weeks, tasks=held["tasks"] + len(created)))
    _announce(uow, created)
    return {"semester": dates.semester, "start": dates.start.isoformat(), "weeks": dates.weeks,
            "created": len(created), "already": len(specs) - len(created), "problems": problems}


def opened_semesters(conn) -> set[str]:
    return set(conn.execute(select(tables.semesters.c.semester)).scalars())


# --- reminders and escalation ------------------------------------------------------------------------------------

def pending_reminders(conn, today: date, settings: ReminderSettings) -> list:
    """The reminders due on ``today`` that were not sent yet."""
    t = tables.tasks
    rows = [_task_dict(r) for r in conn.execute(
        select(t).where(t.c.status.in_(UNFINISHED), t.c.due <= today + timedelta(days=settings.days_before))
        .order_by(t.c.due, t.c.task_id)).mappings()]
    due = reminders_due(rows, today, settings)
    sent = _sent(conn, [r.key for r in due]) if due else set()
    return [r for r in due if r.key not in sent]


def _sent(conn, keys: list[str]) -> set[str]:
    sent = set()
    for start in range(0, len(keys), 500):
        sent |= set(conn.execute(select(tables.task_history.c.key)
                                 .where(tables.task_history.c.key.in_(keys[start:start + 500]))).scalars())
    return sent


def record_reminders(uow, reminders: list, officers: dict | None, now: datetime) -> list[dict]:
    """Record each reminder once (its key), escalate overdue tasks to the holder's superior (recorded on the
    task), and announce them for notification. Returns what was announced.

    Keys already sent are skipped; two instances racing on the same key fail one transaction on the unique key,
    and that instance's next run finds them sent."""
    announced = []
    sent = _sent(uow.conn, [r.key for r in reminders])
    for reminder in reminders:
        if reminder.key in sent:
            continue
        task = reminder.task
        target = None
        if reminder.reminder == ESCALATED:
            found = escalation_target(task, officers or {})
            target = found[0] if found else None
        _history(uow.conn, reminder.task_id, "escalated" if reminder.reminder == ESCALATED else "reminded", None,
                 {"reminder": reminder.reminder, "overdue_days": reminder.overdue_days, "escalate_to": target,
                  "assignee": task["assignee"]}, key=reminder.key, at=now)
        if reminder.reminder == ESCALATED:
            if target is None:
                continue     # nobody above the holder: recorded, nobody to tell
            uow.conn.execute(update(tables.tasks).where(tables.tasks.c.task_id == reminder.task_id).values(
                escalated_to=target, escalated_at=now))
        announced.append({"task_id": reminder.task_id, "task_kind": task["kind"], "reminder": reminder.reminder,
                          "assignee": task["assignee"], "due": task["due"].isoformat(),
                          "overdue_days": reminder.overdue_days, "escalate_to": target,
                          "semester": task["semester"], "student_id": task["student_id"],
                          "class_name": task.get("class_name"), "course_code": task["course_code"]})
    if announced:
        uow.announce("advising.reminders_due", {"reminders": announced})
    return announced


# --- roster changes ----------------------------------------------------------------------------------------------

def affected_tasks(conn, data: dict) -> list[dict]:
    """The unfinished tasks a roster import may move: of the classes and students it changed, and — when staff
    changed — every counselor's, department head's and vice dean's task."""
    t = tables.tasks
    classes = sorted({c["class_name"] for c in data.get("classes", ())})
    students = sorted({s["student_id"] for s in data.get("students", ())})
    conditions = []
    for start in range(0, len(classes), 500):
        conditions.append(t.c.class_name.in_(classes[start:start + 500]))
    for start in range(0, len(students), 500):
        conditions.append(t.c.student_id.in_(students[start:start + 500]))
    if data.get("staff"):
        conditions.append(t.c.duty_role.in_((COUNSELOR, DEPARTMENT_HEAD, VICE_DEAN)))
    if not conditions:
        return []
    return [_task_dict(r) for r in conn.execute(
        select(t).where(t.c.status.in_(UNFINISHED), or_(*conditions)).order_by(t.c.task_id)).mappings()]


def on_roster_imported(uow, data: dict, students: dict[str, dict], officers: dict,
                       now: datetime | None = None) -> list[dict]:
    """Move unfinished tasks to whoever the roster now names (the class's new head teacher, the student's new
    class, the cohort's new counselor…), recording each move on the task."""
    now = now or utc_now()
    tasks = affected_tasks(uow.conn, data)
    class_heads = {c["class_name"]: c["head_teacher_id"] for c in data.get("classes", ())}
    people = {task["task_id"]: people_for(task, students=students, class_heads=class_heads, officers=officers)
              for task in tasks}
    t = tables.tasks
    moved = []
    for move in moves(tasks, people):
        task = move.task
        detail = dict(task["detail"])
        detail.pop("covering_for", None)
        if move.holder_role != task["duty_role"]:
            detail["covering_for"] = task["duty_role"]
        values = {"assignee": move.new_assignee, "holder_role": move.holder_role, "detail": _json(detail)}
        uow.conn.execute(update(t).where(t.c.task_id == move.task_id).values(**values))
        _history(uow.conn, move.task_id, "moved", "roster",
                 {"from": move.old_assignee, "to": move.new_assignee, "import_id": data.get("import_id")}, at=now)
        task.update(assignee=move.new_assignee, holder_role=move.holder_role)
        moved.append(task)
    for task in tasks:            # a student who changed class: the task follows the student's new scope
        fresh = students.get(task["student_id"]) if task["student_id"] else None
        if fresh:
            scope = scope_of(fresh)
            if any(task.get(k) != v for k, v in scope.items()):
                uow.conn.execute(update(t).where(t.c.task_id == task["task_id"]).values(**scope))
    _announce(uow, moved)
    return moved


# --- symposium feedback ------------------------------------------------------------------------------------------

def item_event(row: dict) -> dict:
    return {"item_id": row["item_id"], "semester": row["semester"], "topic": row["topic"],
            "course_code": row["course_code"], "teacher": row["teacher"], "raised_by": row["raised_by"],
            "raised_on": _iso(row["raised_on"]), "status": row["status"], "route_kind": row["route_kind"],
            "routed_to": row["routed_to"], "assignee": row["assignee"], "answer_kind": row["answer_kind"]}


def _iso(value) -> str | None:
    return value.isoformat() if isinstance(value, date) else value


def _item(conn, item_id: str) -> dict | None:
    s = tables.symposium_items
    row = conn.execute(select(s).where(s.c.item_id == item_id)).mappings().first()
    return dict(row) if row else None


def _save_item(uow, item_id: str, **values) -> dict:
    s = tables.symposium_items
    uow.conn.execute(update(s).where(s.c.item_id == item_id).values(**values))
    row = _item(uow.conn, item_id)
    uow.announce("advising.symposium_changed", {"items": [item_event(row)]})
    return row


def raise_item(uow, item: dict, now: datetime | None = None) -> dict:
    """A piece of symposium feedback becomes an item (topic, course/teacher concerned, raised by, date)."""
    now = now or utc_now()
    try:
        loaded = symposium.check_item(item)
    except ValidationError as exc:
        return _rejected(f"the item is incomplete: {exc.messages}")
    item_id = "S-" + uuid.uuid4().hex[:10]
    uow.conn.execute(insert(tables.symposium_items).values(item_id=item_id, status=symposium.RAISED,
                                                           created_at=now, **loaded))
    row = _item(uow.conn, item_id)
    uow.announce("advising.symposium_changed", {"items": [item_event(row)]})
    return {"status": "raised", "item_id": item_id}


def route_item(uow, item_id: str, route_kind: str, routed_to: str, assignee: str | None, routed_by: str,
               now: datetime | None = None) -> dict:
    """Route an item to a department (``routed_to`` a major; its department head answers) or a teacher
    (``routed_to`` the teacher's staff id). The answer is a task for that person, due in 14 days."""
    now = now or utc_now()
    row = _item(uow.conn, item_id)
    if row is None:
        return _rejected(f"no symposium item {item_id}")
    if route_kind not in symposium.ROUTE_KINDS:
        return _rejected(f"route to a department or a teacher, not {route_kind!r}")
    if not assignee:
        return _rejected(f"nobody to answer for {route_kind} {routed_to} (is the roster complete?)")
    try:
        status = symposium.route(row["status"])
    except symposium.SymposiumRefused as exc:
        return _rejected(str(exc))
    t = tables.tasks
    role = DEPARTMENT_HEAD if route_kind == "department" else TEACHER
    current = _load(uow.conn, row["task_id"]) if row["task_id"] else None
    if current and current["status"] == OPEN:
        # Re-routed before an answer: the open reply task moves to the new person.
        uow.conn.execute(update(t).where(t.c.task_id == current["task_id"]).values(
            assignee=assignee, duty_role=role, holder_role=role,
            major=routed_to if route_kind == "department" else None))
        _history(uow.conn, current["task_id"], "moved", routed_by, {"from": current["assignee"], "to": assignee},
                 at=now)
        current.update(assignee=assignee)
        _announce(uow, [current])
        task_id = current["task_id"]
    else:
        count = uow.conn.execute(select(func.count()).select_from(t).where(
            t.c.kind == SYMPOSIUM_REPLY, t.c.cause.like(f"{SYMPOSIUM_REPLY}:{item_id}:%"))).scalar()
        spec = TaskSpec(SYMPOSIUM_REPLY, assignee, None, row["course_code"], row["semester"],
                        college_day(now) + timedelta(days=SYMPOSIUM_REPLY_DAYS),
                        f"{SYMPOSIUM_REPLY}:{item_id}:{count + 1}",
                        {"item_id": item_id, "topic": row["topic"], "teacher": row["teacher"],
                         "raised_by": row["raised_by"], "routed_by": routed_by},
                        duty_role=role, holder_role=role,
                        major=routed_to if route_kind == "department" else None)
        created = _create(uow, [spec], now)
        _announce(uow, created)
        task_id = created[0]["task_id"]
    _save_item(uow, item_id, status=status, route_kind=route_kind, routed_to=routed_to, assignee=assignee,
               task_id=task_id, answer_kind=None, answer=None, answered_by=None, answered_on=None)
    return {"status": "routed", "item_id": item_id, "assignee": assignee, "task_id": task_id}


def _answer_item(uow, task: dict, answered_by: str, record: dict) -> str | None:
    """Closing a symposium reply task answers its item; a refusal message, or None."""
    item = _item(uow.conn, task["detail"].get("item_id", ""))
    if item is None or item["task_id"] != task["task_id"]:
        return f"task {task['task_id']} no longer answers a symposium item"
    try:
        status = symposium.answer(item["status"], item["assignee"], answered_by)
    except symposium.SymposiumRefused as exc:
        return str(exc)
    _save_item(uow, item["item_id"], status=status, answer_kind=record["answer_kind"], answer=record["answer"],
               answered_by=answered_by, answered_on=date.fromisoformat(record["date"]))
    return None


def answer_item(uow, item_id: str, answered_by: str, record: dict, now: datetime | None = None) -> dict:
    """The department head or teacher answers (反馈 feedback / 解决 resolution / 解释 explanation)."""
    row = _item(uow.conn, item_id)
    if row is None:
        return _rejected(f"no symposium item {item_id}")
    if not row["task_id"] or row["status"] != symposium.ROUTED:
        return _rejected(f"item {item_id} is {row['status']}; only a routed item is answered")
    answer = close_task(uow, row["task_id"], answered_by, record, now)
    if answer["status"] != "closed":
        return answer
    return {"status": "answered", "item_id": item_id}


def close_item(uow, item_id: str, closed_by: str, outcome: str, now: datetime | None = None) -> dict:
    """The vice dean closes an answered item: adopted, or explained."""
    now = now or utc_now()
    row = _item(uow.conn, item_id)
    if row is None:
        return _rejected(f"no symposium item {item_id}")
    try:
        status = symposium.close(row["status"], outcome)
    except symposium.SymposiumRefused as exc:
        return _rejected(str(exc))
    _save_item(uow, item_id, status=status, closed_by=closed_by, closed_on=college_day(now))
    return {"status": status, "item_id": item_id}
