"""The assessment service in-process against the real RabbitMQ and PostgreSQL: it builds its projections from
roster, warnings and advising events only (never their tables), imports outcomes by RPC with every bad row named,
and answers scorecards and the semester report from them."""
import base64
import os

import pytest
from kombu import Connection
from nameko.containers import ServiceContainer

from contracts.envelope import make_envelope
from services.assessment.service import AssessmentService
from shared.messaging.topology import EVENTS_EXCHANGE, declare_topology
from shared.rpc_client import RpcClient
from tests.support.cluster import wait_for

pytestmark = pytest.mark.real

S, P = "2024-2025-2", "2024-2025-1"


def publish(uri, type_name, data, source, time=None):
    envelope = make_envelope(type_name, 1, source, data, correlation_id="C-" + type_name, causation_id="x",
                             **({"time": time} if time else {}))
    with Connection(uri) as conn:
        conn.Producer().publish(envelope, exchange=EVENTS_EXCHANGE, routing_key=f"{type_name}.v1",
                                serializer="json", delivery_mode=2)
    return envelope


@pytest.fixture
def assessment(vhost_uri, pg_url_template):
    declare_topology(vhost_uri)
    os.environ["AQ_MIGRATE_ON_START"] = "1"
    container = ServiceContainer(AssessmentService, {
        "AMQP_URI": vhost_uri, "DATABASE_URL": pg_url_template.replace("{service}", "assessment"),
        "RETRY_DELAYS": "0.2,0.5", "OUTBOX_POLL_SECONDS": 0.2})
    container.start()
    try:
        with RpcClient(vhost_uri, timeout=60) as rpc:
            yield vhost_uri, rpc
    finally:
        container.stop()


ROSTER = {"import_id": "R-1",
          "classes": [{"class_name": "机械2101", "major": "机械设计制造及其自动化", "cohort": 2021,
                       "head_teacher_id": "T1001"},
                      {"class_name": "电气2101", "major": "电气工程及其自动化", "cohort": 2021,
                       "head_teacher_id": "T1002"}],
          "students": [{"student_id": "0210101", "name": "杨明", "class_name": "机械2101", "status": "enrolled"},
                       {"student_id": "0210102", "name": "林敏", "class_name": "机械2101", "status": "enrolled"},
                       {"student_id": "0210201", "name": "程子", "class_name": "电气2101", "status": "enrolled"}],
          "staff": [{"staff_id": "T1001", "name": "蒋涛", "role": "head_teacher", "scope": ["机械2101"]},
                    {"staff_id": "T1002", "name": "郑辉", "role": "head_teacher", "scope": ["电气2101"]}]}

OUTCOMES = """学号,类别,日期,值,级别
0210101,CET4,2024-12-14,480,
0210102,CET4,2024-12-14,410,
0210101,毕业证,2025-06-30,,
0210101,学位证,2025-06-30,,
0210102,毕业证,2025-06-30,,
0210101,去向,2025-07-01,升学,
0210102,去向,2025-07-01,就业,
0210201,去向,2025-07-01,待就业,
,招生,2025-09-01,机械设计制造及其自动化:40:38,
"""


def payload(text):
    return base64.b64encode(text.encode("utf-8")).decode("ascii")


def test_projections_outcomes_and_scorecards(assessment):
    uri, rpc = assessment
    # Before the roster arrives nobody is known: the outcomes are rejected, each row named.
    early = rpc.call("assessment", "import_outcomes", "outcomes.csv", payload(OUTCOMES), "tester")
    assert early["status"] == "rejected"
    assert {p["row"] for p in early["problems"]} == set(range(2, 10))   # every student row; 招生 is per major

    publish(uri, "roster.imported", ROSTER, "roster")
    change = {"student_id": "0210101", "semester": P, "kind": "issued", "old_level": "none", "new_level": "yellow",
              "escalated": False, "reasons": [], "policy_version": "default-1", "change_id": "W-1"}
    publish(uri, "warnings.changed", {"changes": [change]}, "warnings")
    talk = {"task_id": "T-1", "kind": "talk", "assignee": "T1001", "student_id": "0210101", "course_code": None,
            "semester": S, "due": "2025-03-20", "status": "open", "cause": "talk:W-9"}
    publish(uri, "advising.tasks_changed", {"tasks": [talk]}, "advising", time="2025-03-05T02:00:00.000+00:00")
    publish(uri, "advising.tasks_changed", {"tasks": [{**talk, "status": "done"}]}, "advising",
            time="2025-03-18T02:00:00.000+00:00")
    item = {"item_id": "SY-1", "semester": S, "topic": "实验课时不足", "course_code": "ME101", "teacher": "T2001",
            "raised_by": "机械2101 学习委员", "raised_on": "2025-04-20", "status": "routed", "route_kind": "teacher",
            "routed_to": "T2001", "assignee": "T2001", "answer_kind": None}
    publish(uri, "advising.symposium_changed", {"items": [item]}, "advising")
    wait_for(lambda: rpc.call("assessment", "outcomes_summary")["projections"] ==
             {"classes": 2, "students": 3, "staff": 2, "tasks": 1, "warning_levels": 1, "outcomes": 0,
              "symposium_items": 1},
             timeout=30, message="the projections of the three events")

    accepted = rpc.call("assessment", "import_outcomes", "outcomes.csv", payload(OUTCOMES), "tester")
    assert (accepted["status"], accepted["new"]) == ("accepted", 9)
    again = rpc.call("assessment", "import_outcomes", "outcomes.csv", payload(OUTCOMES), "tester")
    assert (again["new"], again["changed"], again["unchanged"]) == (0, 0, 9)

    card = rpc.call("assessment", "head_teacher_scorecard", "T1001", S, "2025-07-01")
    assert card["status"] == "ok" and card["name"] == "蒋涛"
    [mine] = card["classes"]
    assert mine["students"] == 2
    assert mine["cet4"] == {"numerator": 1, "denominator": 2, "rate": 0.5}
    assert mine["graduates"]["employment"]["rate"] == 1.0                      # 升学 + 就业
    assert mine["graduates"]["dual_certificate"]["rate"] == 0.5
    assert mine["duties"]["talks"] == {"numerator": 1, "denominator": 1, "rate": 1.0}
    assert mine["duties"]["talks_on_time"] == 1                                # done 18 March, due 20 March
    # The college's mean class: 机械2101 100% employed, 电气2101 0% (待就业).
    assert card["college_average"]["employment_rate"] == 0.5

    dept = rpc.call("assessment", "department_scorecard", "机械设计制造及其自动化", 2025, "2025-07-01")
    assert dept["enrolment"] == {"numerator": 38, "denominator": 40, "rate": 0.95}
    assert dept["postgraduate_rate"] == 0.5
    assert rpc.call("assessment", "department_scorecard", "化学", 2025)["status"] == "not_found"

    report = rpc.call("assessment", "semester_report", S, "2025-07-01")
    assert report["status"] == "ok"
    assert report["warnings"]["previous_levels"]["yellow"] == 1 and report["warnings"]["levels"]["total"] == 0
    assert [(i["item_id"], i["days_open"]) for i in report["symposium"]["items"]] == [("SY-1", 72)]
    assert rpc.call("assessment", "semester_report", "2025-1")["status"] == "rejected"
