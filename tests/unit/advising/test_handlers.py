"""The advising service layer on a real SQLite file: records close tasks, follow-ups come due, course reviews
close in two steps and are checked at the next offering, reminders and escalations happen once, roster changes
move tasks, semesters open once, symposium items are tracked; every step is announced."""
import json
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from services.advising import handlers, queries, tables
from services.advising.domain.calendar import semester_dates
from services.advising.domain.reminders import ReminderSettings
from services.advising.domain.tasks import Responsibles
from shared.db import engine_for
from shared.messaging.unit_of_work import UnitOfWork
from shared.migrations import upgrade

TZ = ZoneInfo("Asia/Shanghai")
AT = datetime(2024, 10, 1, 9, 0, tzinfo=TZ)
PEOPLE = {"s1": Responsibles("s1", "机械2401", "机械", 2024, head_teacher_id="T1010", counselor_id="C2024",
                             department_head_id="D机械", vice_dean_id="V0001")}
OFFICERS = {"counselor_by_cohort": {"2024": "C2024"}, "department_head_by_major": {"机械": "D机械"},
            "vice_dean_id": "V0001"}
TALK_RECORD = {"date": "2024-10-05", "place": "办公室", "discussion": "挂科原因", "support_plan": "每周答疑",
               "follow_up": "2024-11-02"}


@pytest.fixture
def engine(sqlite_url):
    upgrade("advising", sqlite_url)
    return engine_for("advising", sqlite_url)


def run(engine, func, *args, correlation="C-test", **kwargs):
    with UnitOfWork(engine, "advising", tables.MESSAGING, correlation_id=correlation) as uow:
        return func(uow, *args, **kwargs)


def announced(engine, type_name):
    outbox = tables.MESSAGING[0]
    with engine.connect() as conn:
        bodies = conn.execute(select(outbox.c.body).where(outbox.c.type == type_name).order_by(outbox.c.seq)).scalars()
        return [json.loads(b)["data"] for b in bodies]


def tasks(engine, **filters):
    with engine.connect() as conn:
        return queries.list_tasks(conn, **filters)


def warning(change_id="chg-1", level="yellow"):
    return {"change_id": change_id, "student_id": "s1", "semester": "2024-2025-1", "kind": "issued",
            "old_level": "none", "new_level": level, "escalated": False, "reasons": [], "policy_version": "p"}


def test_a_warning_talk_carries_its_scope_and_closing_it_with_a_follow_up_date_asks_for_the_follow_up(engine):
    [talk] = run(engine, handlers.on_warning_changes, [warning()], PEOPLE, AT)
    [row] = tasks(engine)
    assert (row["class_name"], row["major"], row["cohort"], row["duty_role"]) == ("机械2401", "机械", "2024",
                                                                                  "head_teacher_id")
    assert run(engine, handlers.close_task, talk["task_id"], "T1011", TALK_RECORD)["status"] == "rejected"
    answer = run(engine, handlers.close_task, talk["task_id"], "T1010", TALK_RECORD, AT)
    assert answer["status"] == "closed" and answer["follow_up"]["due"] == "2024-11-02"
    follow_up = tasks(engine, kind="follow_up")[0]
    assert (follow_up["assignee"], follow_up["student_id"], follow_up["status"]) == ("T1010", "s1", "open")
    assert follow_up["detail"]["support_plan"] == "每周答疑"
    assert run(engine, handlers.close_task, talk["task_id"], "T1010", TALK_RECORD)["message"].endswith("already done")
    last = announced(engine, "advising.tasks_changed")[-1]["tasks"]
    assert [(t["kind"], t["status"]) for t in last] == [("talk", "done"), ("follow_up", "open")]
    [record] = announced(engine, "advising.records_changed")[0]["records"]
    assert (record["kind"], record["step"], record["date"], record["class_name"]) == ("talk", "recorded",
                                                                                      "2024-10-05", "机械2401")
    with engine.connect() as conn:
        assert queries.list_records(conn, assignee="T1010")[0]["record"]["place"] == "办公室"


def test_an_incomplete_record_leaves_the_task_open(engine):
    [talk] = run(engine, handlers.on_warning_changes, [warning()], PEOPLE, AT)
    answer = run(engine, handlers.close_task, talk["task_id"], "T1010", {"date": "2024-10-05"})
    assert answer["status"] == "rejected" and "place" in answer["message"]
    assert tasks(engine)[0]["status"] == "open"


def flag(semester="2024-2025-1", rate=0.5, failed=5, change="flagged", previous=None):
    return {"semester": semester, "course_code": "AQ01", "course_name": "数据结构", "teacher": "王老师",
            "offering_college": "", "external": False, "majors": ["机械"], "rate": rate, "failed": failed,
            "total": 10, "threshold": 0.15, "previous_rate": previous, "previous_semester": None, "change": change}


REVIEW_RECORD = {"analysis": "期中后缺课多", "causes": "先修课薄弱", "measures": "增加习题课", "authors": "数据结构课程组"}


def test_a_course_review_is_submitted_reviewed_and_checked_at_the_next_offering(engine):
    [review] = run(engine, handlers.on_course_flags, [flag()], OFFICERS, AT)
    assert review["assignee"] == "D机械"
    assert run(engine, handlers.close_task, review["task_id"], "D机械", REVIEW_RECORD)["status"] == "rejected"
    assert run(engine, handlers.submit_review, review["task_id"], "T9001", REVIEW_RECORD)["reviewer"] == "D机械"
    assert run(engine, handlers.review_task, review["task_id"], "D电气", {"decision": "approve"})["status"] == "rejected"
    returned = run(engine, handlers.review_task, review["task_id"], "D机械", {"decision": "return", "comment": "措施不具体"})
    assert returned["status"] == "returned" and tasks(engine)[0]["status"] == "open"
    run(engine, handlers.submit_review, review["task_id"], "T9001", {**REVIEW_RECORD, "measures": "每周两次习题课"})
    assert run(engine, handlers.review_task, review["task_id"], "D机械", {"decision": "approve"})["status"] == "approved"
    assert tasks(engine)[0]["status"] == "done" and tasks(engine)[0]["closed_by"] == "D机械"
    # the next semester's grades: the course is flagged again, at a lower rate
    run(engine, handlers.on_course_flags, [flag("2024-2025-2", 0.3, 3, previous=0.5)], OFFICERS, AT)
    checked = next(t for t in tasks(engine, kind="course_review") if t["semester"] == "2024-2025-1")
    assert checked["outcome"]["text"] == "50.0% → 30.0% (fell)"
    steps = [e["step"] for e in announced(engine, "advising.course_review_changed")]
    assert steps == ["submitted", "returned", "submitted", "approved", "checked"]
    assert announced(engine, "advising.course_review_changed")[-1]["rate_now"] == 0.3
    # the same flag again (a redelivery, another upload) records nothing new
    run(engine, handlers.on_course_flags, [flag("2024-2025-2", 0.3, 3, previous=0.5)], OFFICERS, AT)
    assert len(announced(engine, "advising.course_review_changed")) == 5


def test_reminders_and_escalation_happen_once_and_escalation_is_recorded_on_the_task(engine):
    [talk] = run(engine, handlers.on_warning_changes, [warning()], PEOPLE, AT)     # due 2024-10-15
    due = date(2024, 10, 15)
    settings = ReminderSettings(days_before=3, overdue_repeat_days=7, grace_days=7)

    def remind(day):
        with engine.connect() as conn:
            pending = handlers.pending_reminders(conn, day, settings)
        now = datetime.combine(day, datetime.min.time(), TZ)
        return [(r["reminder"], r["escalate_to"]) for r in run(engine, handlers.record_reminders, pending, OFFICERS, now)]

    assert remind(due - timedelta(days=4)) == []
    assert remind(due - timedelta(days=2)) == [("due_soon", None)]
    assert remind(due - timedelta(days=1)) == []
    assert remind(due + timedelta(days=1)) == [("overdue", None)]
    assert remind(due + timedelta(days=7)) == [("escalated", "C2024")]
    assert remind(due + timedelta(days=7)) == []
    [row] = tasks(engine, escalated_to="C2024")
    assert row["task_id"] == talk["task_id"] and row["escalated_at"].startswith("2024-10-22")
    reminders = [r for e in announced(engine, "advising.reminders_due") for r in e["reminders"]]
    assert [(r["reminder"], r["overdue_days"]) for r in reminders] == [("due_soon", -2), ("overdue", 1),
                                                                       ("escalated", 7)]
    assert reminders[0]["class_name"] == "机械2401" and reminders[0]["assignee"] == "T1010"
    # closed: no more reminders
    run(engine, handlers.close_task, talk["task_id"], "T1010", {**TALK_RECORD, "follow_up": None})
    assert remind(due + timedelta(days=15)) == []


def test_a_new_head_teacher_takes_over_the_class_and_the_move_is_recorded(engine):
    created = run(engine, handlers.on_warning_changes, [warning(level="red")], PEOPLE, AT)
    talk = next(t for t in created if t["kind"] == "talk")
    roster_event = {"import_id": "R-1", "classes": [{"class_name": "机械2401", "major": "机械", "cohort": 2024,
                                                     "head_teacher_id": "T2000"}], "students": [], "staff": []}
    with engine.connect() as conn:
        affected = handlers.affected_tasks(conn, roster_event)
    assert {t["kind"] for t in affected} == {"talk", "parent_contact", "counselor_talk"}
    people = {"s1": {**PEOPLE["s1"].__dict__, "head_teacher_id": "T2000"}}
    moved = run(engine, handlers.on_roster_imported, roster_event, people, OFFICERS, AT)
    assert sorted(t["kind"] for t in moved) == ["parent_contact", "talk"]          # the counselor's stays
    assert {t["assignee"] for t in tasks(engine, kind="talk")} == {"T2000"}
    with engine.connect() as conn:
        history = queries.get_task(conn, talk["task_id"])["history"]
    assert history[0]["action"] == "moved" and history[0]["detail"] == {"from": "T1010", "to": "T2000",
                                                                          "import_id": "R-1"}
    assert run(engine, handlers.on_roster_imported, roster_event, people, OFFICERS, AT) == []


CLASSES = [{"class_name": "机械2401", "major": "机械", "cohort": 2024, "head_teacher_id": "T1010", "enrolled": 30}]


def test_a_semester_opens_once_and_again_only_adds_what_is_missing(engine):
    dates = semester_dates("2024-2025-1", "2024-09-02")
    first = run(engine, handlers.open_semester, dates, CLASSES, OFFICERS, "cli", AT)
    assert (first["created"], first["already"]) == (12, 0)       # 1 plan + 3 meetings + 3 observations, 2+2, 1
    more = CLASSES + [{**CLASSES[0], "class_name": "机械2402", "head_teacher_id": "T1012"}]
    second = run(engine, handlers.open_semester, dates, more, OFFICERS, "calendar", AT)
    assert (second["created"], second["already"]) == (7, 12)
    with engine.connect() as conn:
        assert handlers.opened_semesters(conn) == {"2024-2025-1"}
        assert queries.semesters(conn)[0]["tasks"] == 19
    assert len(announced(engine, "advising.tasks_changed")) == 2


def test_a_symposium_item_is_routed_answered_and_adopted(engine):
    item = {"semester": "2024-2025-1", "topic": "实验课时不足", "course_code": "AQ01", "teacher": "王老师",
            "raised_by": "机械2401 学习委员", "raised_on": "2024-11-06"}
    item_id = run(engine, handlers.raise_item, item, AT)["item_id"]
    assert run(engine, handlers.close_item, item_id, "V0001", "adopted", AT)["status"] == "rejected"
    routed = run(engine, handlers.route_item, item_id, "department", "机械", "D机械", "V0001", AT)
    [reply] = tasks(engine, kind="symposium_reply")
    assert (reply["task_id"], reply["assignee"], reply["due"]) == (routed["task_id"], "D机械", "2024-10-15")
    reply_record = {"date": "2024-11-10", "answer_kind": "resolution", "answer": "下学期增加 8 学时实验"}
    assert run(engine, handlers.answer_item, item_id, "D电气", reply_record, AT)["status"] == "rejected"
    assert run(engine, handlers.answer_item, item_id, "D机械", reply_record, AT)["status"] == "answered"
    assert tasks(engine, kind="symposium_reply")[0]["status"] == "done"
    today = date(2024, 11, 20)
    with engine.connect() as conn:
        [open_item] = queries.list_items(conn, today, open_only=True)
    assert (open_item["status"], open_item["age_days"], open_item["answer_kind"]) == ("answered", 14, "resolution")
    assert run(engine, handlers.close_item, item_id, "V0001", "adopted", datetime(2024, 11, 21, tzinfo=TZ))["status"] == "adopted"
    with engine.connect() as conn:
        assert queries.list_items(conn, today, open_only=True) == []
        assert queries.list_items(conn, today)[0]["age_days"] == 15          # raised → closed
    statuses = [e["items"][0]["status"] for e in announced(engine, "advising.symposium_changed")]
    assert statuses == ["raised", "routed", "answered", "adopted"]


def test_rerouting_an_unanswered_item_moves_its_reply_task(engine):
    item = {"semester": "2024-2025-1", "topic": "作业太多", "raised_by": "班长", "raised_on": "2024-11-06"}
    item_id = run(engine, handlers.raise_item, item, AT)["item_id"]
    first = run(engine, handlers.route_item, item_id, "department", "机械", "D机械", "V0001", AT)
    second = run(engine, handlers.route_item, item_id, "teacher", "T9001", "T9001", "V0001", AT)
    assert first["task_id"] == second["task_id"]
    [reply] = tasks(engine, kind="symposium_reply")
    assert (reply["assignee"], reply["duty_role"]) == ("T9001", "teacher_id")
