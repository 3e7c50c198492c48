"""The advising service in-process against the real RabbitMQ and PostgreSQL, with a stand-in roster: a roster
import moves open tasks to the new head teacher; the timer, on the service's test clock, sends reminders and
escalates overdue tasks (announced on the broker), and opens the calendar's semester once."""
import copy
from datetime import date, timedelta

import pytest
from kombu import Connection, Queue
from nameko.runners import ServiceRunner
from nameko.standalone.rpc import ClusterRpcProxy
from nameko.timer import timer

from contracts.envelope import make_envelope
from services.advising.service import AdvisingService
from shared.messaging.rpc import rpc   # the stand-in roster stops as promptly as the service
from shared.messaging.topology import EVENTS_EXCHANGE, declare_topology
from shared.migrations import upgrade
from tests.support.cluster import wait_for

pytestmark = pytest.mark.real

PEOPLE = {"s1": {"student_id": "s1", "class_name": "机械2401", "major": "机械", "cohort": 2024,
                 "head_teacher_id": "T1010", "counselor_id": "C2024", "department_head_id": "D机械",
                 "vice_dean_id": "V0001", "name": "蔡涛", "status": "enrolled"}}
OFFICERS = {"counselor_by_cohort": {"2024": "C2024"}, "department_head_by_major": {"机械": "D机械"},
            "vice_dean_id": "V0001", "academic_affairs": []}
CLASSES = [{"class_name": "机械2401", "major": "机械", "cohort": 2024, "head_teacher_id": "T1010", "enrolled": 30}]
ROSTER = {}


class StandInRoster:
    name = "roster"

    @rpc
    def responsibles(self, student_ids):
        return {sid: ROSTER["people"][sid] for sid in student_ids if sid in ROSTER["people"]}

    @rpc
    def officers(self):
        return OFFICERS

    @rpc
    def classes(self):
        return CLASSES

    @rpc
    def lookup_students(self, student_ids):
        return {sid: {"name": ROSTER["people"][sid]["name"]} for sid in student_ids if sid in ROSTER["people"]}


class QuickAdvising(AdvisingService):
    """The real service with its timer every 0.2 s instead of every few minutes."""

    @timer(interval=0.2)
    def tick(self):
        super().tick()


@pytest.fixture
def advising(vhost_uri, pg_url_template, tmp_path, monkeypatch):
    ROSTER["people"] = copy.deepcopy(PEOPLE)
    monkeypatch.setenv("AQ_MIGRATE_ON_START", "1")
    url = pg_url_template.replace("{service}", "advising")
    upgrade("advising", url)
    declare_topology(vhost_uri)
    today = date.today()
    calendar = tmp_path / "calendar.yml"
    calendar.write_text(f"semesters:\n  2030-2031-1: {{start: {today + timedelta(days=100)}, weeks: 18}}\n",
                        encoding="utf-8")
    config = {"AMQP_URI": vhost_uri, "DATABASE_URL": url, "RETRY_DELAYS": "0.2,0.5", "OUTBOX_POLL_SECONDS": 0.2,
              "TEST_CLOCK": "1", "SEMESTER_CALENDAR": str(calendar), "ESCALATION_GRACE_DAYS": 7,
              "REMIND_DAYS_BEFORE": 3, "OVERDUE_REPEAT_DAYS": 7}
    runner = ServiceRunner(config)
    runner.add_service(StandInRoster)
    runner.add_service(QuickAdvising)
    runner.start()
    listener = Queue("test-advising-events", exchange=EVENTS_EXCHANGE, routing_key="advising.#")
    with Connection(vhost_uri) as conn, ClusterRpcProxy(config) as proxy:
        listener(conn.channel()).declare()
        yield proxy, conn.SimpleQueue(listener), vhost_uri, today
    runner.stop()


def publish(uri, type_name, data, correlation="C-1"):
    with Connection(uri) as conn:
        conn.Producer().publish(make_envelope(type_name, 1, type_name.split(".")[0], data, correlation_id=correlation,
                                              causation_id=correlation),
                                exchange=EVENTS_EXCHANGE, routing_key=f"{type_name}.v1", serializer="json",
                                delivery_mode=2)


def events_of(queue, type_name, until, timeout=15):
    """Events of ``type_name`` from the listener until ``until(seen)`` holds."""
    seen = []

    def more():
        try:
            message = queue.get(block=True, timeout=0.5)
        except queue.Empty:
            return until(seen)
        message.ack()
        if message.payload["type"] == type_name:
            seen.append(message.payload["data"])
        return until(seen)

    wait_for(more, timeout=timeout, message=f"{type_name} events")
    return seen


def warning(level="yellow"):
    return {"changes": [{"change_id": "chg-1", "student_id": "s1", "semester": "2024-2025-1", "kind": "issued",
                         "old_level": "none", "new_level": level, "escalated": False, "reasons": [],
                         "policy_version": "p"}]}


def test_a_roster_import_moves_the_classes_open_tasks_to_the_new_head_teacher(advising):
    proxy, events, uri, _ = advising
    publish(uri, "warnings.changed", warning("orange"))
    wait_for(lambda: len(proxy.advising.list_tasks()) == 2, timeout=20, message="the orange warning's tasks")
    ROSTER["people"]["s1"]["head_teacher_id"] = "T2000"
    publish(uri, "roster.imported", {"import_id": "R-1", "students": [], "staff": [],
                                     "classes": [{"class_name": "机械2401", "major": "机械", "cohort": 2024,
                                                  "head_teacher_id": "T2000"}]}, correlation="R-1")
    wait_for(lambda: {t["assignee"] for t in proxy.advising.list_tasks()} == {"T2000"}, timeout=20,
             message="the tasks to move to T2000")
    task = proxy.advising.get_task(proxy.advising.list_tasks(kind="talk")[0]["task_id"])
    assert [(h["action"], h["detail"]["from"], h["detail"]["to"]) for h in task["history"]] == [
        ("moved", "T1010", "T2000")]
    moved = events_of(events, "advising.tasks_changed",
                      lambda seen: any(t["assignee"] == "T2000" for e in seen for t in e["tasks"]))
    assert {t["assignee"] for t in moved[-1]["tasks"]} == {"T2000"}


def test_the_timer_reminds_and_escalates_on_the_test_clock_and_opens_the_calendar_semester(advising):
    proxy, events, uri, today = advising
    publish(uri, "warnings.changed", warning("yellow"))
    [talk] = wait_for(lambda: proxy.advising.list_tasks(), timeout=20, message="the talk")
    due = date.fromisoformat(talk["due"])
    assert proxy.advising.set_clock((due - timedelta(days=1)).isoformat())["status"] == "set"
    soon = events_of(events, "advising.reminders_due", lambda seen: seen)
    assert [(r["reminder"], r["assignee"], r["overdue_days"]) for r in soon[0]["reminders"]] == [
        ("due_soon", "T1010", -1)]
    proxy.advising.set_clock((due + timedelta(days=7)).isoformat())
    later = events_of(events, "advising.reminders_due",
                      lambda seen: any(r["reminder"] == "escalated" for e in seen for r in e["reminders"]))
    escalated = [r for e in later for r in e["reminders"] if r["reminder"] == "escalated"]
    assert [(r["task_id"], r["escalate_to"]) for r in escalated] == [(talk["task_id"], "C2024")]
    assert proxy.advising.list_tasks(escalated_to="C2024")[0]["task_id"] == talk["task_id"]
    assert proxy.advising.list_tasks(overdue=True)[0]["task_id"] == talk["task_id"]
    # the calendar's semester opens when the clock reaches it, once
    assert proxy.advising.list_semesters() == []
    proxy.advising.set_clock((today + timedelta(days=101)).isoformat())
    wait_for(lambda: proxy.advising.list_semesters(), timeout=20, message="the calendar semester to open")
    meetings = proxy.advising.list_tasks(semester="2030-2031-1", kind="class_meeting")
    assert [t["assignee"] for t in meetings] == ["T1010"] * 3
    total = len(proxy.advising.list_tasks(semester="2030-2031-1"))
    assert total == proxy.advising.list_semesters()[0]["tasks"] == 12
    # many ticks later: nothing twice
    history = proxy.advising.get_task(talk["task_id"])["history"]
    assert sorted(h["action"] for h in history).count("escalated") == 1
    # the clock moves only as far as asked, and back
    assert proxy.advising.set_clock("not a day")["status"] == "rejected"
    proxy.advising.set_clock(None)
    assert proxy.advising.get_clock()["moved"] is False

