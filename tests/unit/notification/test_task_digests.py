"""Staff are not flooded: task assignments and reminders wait for the assignee's daily digest; tasks of a red
warning are told at once, whichever of the task and the warning arrives first (SQLite file, injected clock)."""
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from services.notification import handlers, tables
from services.notification.domain.recipients import People
from services.notification.domain.rendering import render
from services.notification.domain.routing import routes_by_kind
from services.notification.domain.schedule import parse_digest_times
from services.notification.domain.tasks import digest_spec, item_for, items_for_reminder
from services.notification.settings import NotificationSettings
from shared.db import engine_for
from shared.messaging.store import StoreAccess

SHANGHAI = ZoneInfo("Asia/Shanghai")
ENABLED = {"in_app", "email"}
PEOPLE = People(student_id="210301001", student_name="张三", class_name="机械2101", major="机械",
                head_teacher_id="T1001", counselor_id="C2021", department_head_id="D0301", vice_dean_id="V0001")


def at(day, hour, minute=0):
    return datetime(2024, 3, day, hour, minute, tzinfo=SHANGHAI)


def task(task_id, kind="talk", assignee="T1001", status="open", due="2024-03-19", cause="talk:chg-y",
         student_id="210301001"):
    return {"task_id": task_id, "kind": kind, "assignee": assignee, "student_id": student_id, "course_code": None,
            "semester": "2023-2024-1", "due": due, "status": status, "cause": cause}


@pytest.fixture
def db(tmp_path):
    engine = engine_for("notification", f"sqlite:///{tmp_path / 'n.sqlite'}")
    tables.metadata.create_all(engine)
    settings = NotificationSettings(channels={n: {} for n in ENABLED}, routes=routes_by_kind(),
                                    digest_times=parse_digest_times("08:00"), zone=SHANGHAI)
    return engine, settings


def tasks_changed(db, tasks, event_id, now, correlation_id="U-1"):
    engine, settings = db
    event = {"id": event_id, "type": "advising.tasks_changed", "correlation_id": correlation_id,
             "data": {"tasks": tasks}}
    with StoreAccess(engine, "notification", tables.MESSAGING, "on_tasks_changed").handling(event) as uow:
        return handlers.on_tasks_changed(uow, event, settings, now)


def warning(db, change_id, level, event_id, now):
    engine, settings = db
    change = {"change_id": change_id, "student_id": "210301001", "semester": "2023-2024-1", "kind": "issued",
              "old_level": "none", "new_level": level, "escalated": False, "policy_version": "1", "reasons": []}
    event = {"id": event_id, "type": "warnings.changed", "correlation_id": "U-1", "data": {"changes": [change]}}
    with StoreAccess(engine, "notification", tables.MESSAGING, "on_warnings_changed").handling(event) as uow:
        handlers.on_warning_changes(uow, event, {"210301001": PEOPLE}, settings, ENABLED, now)


def flush(db, now):
    engine, settings = db
    return handlers.flush_task_notices(engine, settings, ENABLED, now)


def task_notices(db):
    with db[0].connect() as conn:
        return [dict(r) for r in conn.execute(select(tables.notices).where(
            tables.notices.c.kind.in_(("task_digest", "task_urgent")))).mappings()]


def test_assignments_wait_for_one_digest_per_staff_member_per_day(db):
    assert tasks_changed(db, [task("T-1"), task("T-2", kind="parent_contact", cause="parent_contact:chg-y")],
                         "E-1", at(5, 10)) == 2
    assert tasks_changed(db, [task("T-3", kind="integrity_talk", cause="integrity_talk:x")], "E-2", at(5, 16)) == 1
    assert tasks_changed(db, [task("T-9", assignee="C2021", kind="counselor_talk", cause="counselor_talk:z")],
                         "E-3", at(5, 17)) == 1
    assert flush(db, at(6, 7, 59)) == 0 and task_notices(db) == []
    assert flush(db, at(6, 8, 0)) == 4          # one digest each for T1001 and C2021, in-app and e-mail
    notices = task_notices(db)
    assert {(n["recipient_id"], n["channel"], n["recipient_kind"]) for n in notices} == {
        ("T1001", "in_app", "staff"), ("T1001", "email", "staff"), ("C2021", "in_app", "staff"),
        ("C2021", "email", "staff")}
    digest = next(n for n in notices if n["recipient_id"] == "T1001" and n["channel"] == "email")
    assert digest["cause"] == "digest:T1001:2024-03-06T08:00" and digest["kind"] == "task_digest"
    assert digest["text"].count("学生 210301001") == 3 and "截止 2024-03-19" in digest["text"]
    assert flush(db, at(6, 9)) == 0             # nothing twice


def test_the_same_task_announced_again_tells_nothing_new_and_a_closed_task_leaves_the_digest(db):
    tasks_changed(db, [task("T-1"), task("T-2", kind="parent_contact", cause="parent_contact:chg-y")], "E-1", at(5, 10))
    assert tasks_changed(db, [task("T-1")], "E-2", at(5, 11)) == 0                 # e.g. marked "warning lifted"
    tasks_changed(db, [task("T-2", kind="parent_contact", status="done", cause="parent_contact:chg-y")], "E-3", at(5, 12))
    assert tasks_changed(db, [task("T-1", assignee="T2002")], "E-4", at(5, 13)) == 1   # moved to a new head teacher
    flush(db, at(6, 8))
    texts = {n["recipient_id"]: n["text"] for n in task_notices(db) if n["channel"] == "email"}
    assert "联系家长" not in texts["T1001"] and "一对一面谈" in texts["T1001"]
    assert "一对一面谈" in texts["T2002"]


def test_tasks_of_a_red_warning_are_told_at_once_when_the_warning_came_first(db):
    warning(db, "chg-red", "red", "W-1", at(5, 10))
    tasks_changed(db, [task("T-1", cause="talk:chg-red", due="2024-03-12"),
                       task("T-2", kind="parent_contact", cause="parent_contact:chg-red", due="2024-03-12"),
                       task("T-3", kind="integrity_talk", cause="integrity_talk:x")], "E-1", at(5, 10, 1))
    assert flush(db, at(5, 10, 1)) == 2          # one urgent notice (in-app + e-mail) with both red tasks
    [urgent] = [n for n in task_notices(db) if n["channel"] == "email"]
    assert urgent["kind"] == "task_urgent" and urgent["correlation_id"] == "U-1"
    assert urgent["subject"].startswith("【紧急任务】学生 210301001 红色及以上学业预警")
    assert "联系家长" in urgent["text"] and "诚信谈话" not in urgent["text"]
    assert flush(db, at(6, 8)) == 2 and any("诚信谈话" in n["text"] for n in task_notices(db) if n["kind"] == "task_digest")


def test_tasks_of_a_red_warning_waiting_for_a_digest_become_urgent_when_the_warning_arrives(db):
    tasks_changed(db, [task("T-1", cause="talk:chg-red"), task("T-4", cause="talk:chg-yellow")], "E-1", at(5, 10))
    warning(db, "chg-yellow", "yellow", "W-0", at(5, 10, 1))
    assert flush(db, at(5, 10, 1)) == 0
    warning(db, "chg-red", "red", "W-1", at(5, 10, 2))
    assert flush(db, at(5, 10, 2)) == 2
    [urgent] = [n for n in task_notices(db) if n["channel"] == "email"]
    assert urgent["kind"] == "task_urgent" and "T-4" not in urgent["text"]
    with db[0].connect() as conn:
        waiting = conn.execute(select(tables.task_items.c.task_id).where(
            tables.task_items.c.digest_cause.is_(None))).scalars().all()
    assert waiting == ["T-4"]


def test_reminders_go_to_the_holder_and_escalations_to_the_superior(db):
    engine, settings = db
    reminders = [{"task_id": "T-1", "task_kind": "talk", "reminder": "due_soon", "assignee": "T1001",
                  "due": "2024-03-07", "overdue_days": -2, "escalate_to": None, "semester": "2023-2024-1",
                  "student_id": "210301001", "class_name": "机械2101", "course_code": None},
                 {"task_id": "T-2", "task_kind": "class_meeting", "reminder": "escalated", "assignee": "T1001",
                  "due": "2024-02-20", "overdue_days": 14, "escalate_to": "C2021", "semester": "2023-2024-1",
                  "student_id": None, "class_name": "机械2101", "course_code": None}]
    event = {"id": "R-1", "type": "advising.reminders_due", "correlation_id": "reminders-2024-03-05",
             "data": {"reminders": reminders}}
    with StoreAccess(engine, "notification", tables.MESSAGING, "on_reminders_due").handling(event) as uow:
        assert handlers.on_reminders_due(uow, event, settings, at(5, 6)) == 2
    assert flush(db, at(5, 8)) == 4
    texts = {n["recipient_id"]: n["text"] for n in task_notices(db) if n["channel"] == "email"}
    assert "即将到期" in texts["T1001"]
    assert "专题班会" in texts["C2021"] and "T1001 负责，已逾期 14 天，上报给您" in texts["C2021"]


def test_many_staff_members_flushed_together_each_get_their_own_digest_and_urgent_notice(db, monkeypatch):
    monkeypatch.setattr(handlers, "FLUSH_RECIPIENTS", 2)      # five staff members: three transactions
    staff = [f"T100{n}" for n in range(5)]
    warning(db, "chg-r", "red", "E-w", at(5, 10))
    tasks_changed(db, [task(f"T-{n}", assignee=who) for n, who in enumerate(staff)]
                  + [task(f"T-r{n}", assignee=who, kind="integrity_talk", cause="integrity_talk:chg-r")
                     for n, who in enumerate(staff)], "E-1", at(5, 10))
    assert flush(db, at(6, 8)) == 20                           # per person: a digest and an urgent notice, 2 channels
    told = {(n["recipient_id"], n["kind"], n["channel"]) for n in task_notices(db)}
    assert told == {(who, kind, channel) for who in staff for kind in ("task_digest", "task_urgent")
                    for channel in ENABLED}
    with db[0].connect() as conn:
        items = [dict(r) for r in conn.execute(select(tables.task_items)).mappings()]
    # every item names the notice that told it: its own recipient's digest or urgent notice
    assert sorted((item["recipient_id"], *item["digest_cause"].split(":")[:2]) for item in items) == \
        sorted((who, kind, who) for who in staff for kind in ("digest", "urgent"))
    assert flush(db, at(6, 9)) == 0


def test_task_notices_can_be_switched_off(db):
    engine, settings = db
    db_off = (engine, NotificationSettings(**{**vars(settings), "tell_tasks": False}))
    assert tasks_changed(db_off, [task("T-1")], "E-1", at(5, 10)) == 0


def test_item_keys_and_urgency_helpers():
    assert item_for(task("T-1", status="done")) is None
    assigned = item_for(task("T-1"))
    assert (assigned.item_kind, assigned.change_ref, assigned.key) == ("assigned", "chg-y", "T-1:T1001:open:2024-03-19")
    assert item_for(task("T-1", status="overdue")).item_kind == "reminder"
    assert items_for_reminder({"task_id": "T-1", "task_kind": "talk", "reminder": "escalated", "assignee": "T1",
                               "escalate_to": None, "due": "2024-01-01", "overdue_days": 3, "semester": "x"}) == []


def test_digest_renders_in_english_too():
    items = [{"item_kind": "assigned", "task": task("T-1")}, {"item_kind": "reminder", "task": task("T-2", status="overdue", due="2024-03-01")}]
    rendered = render(digest_spec("T1001", "digest:T1001:x", items, False, date(2024, 3, 6)), "en")
    assert rendered.subject == "[Your tasks] 2024-03-06: 2 student-support tasks (1 reminder)"
    assert "One-on-one talk with the student" in rendered.text and "1 of them are past their due date" in rendered.text
    assert "What happens next" in rendered.text and 'lang="en"' in rendered.html
