"""The notification service in-process on the real RabbitMQ and PostgreSQL, a stand-in roster answering its RPC,
and real local servers for SMTP, the SMS gateway and both robots; the clock is injected, never slept on.

Shows: delivery on every channel, retry after a temporary failure, fallback after a permanent one (and staff seeing
it), quiet-hour holding, task digests and urgent tasks, outcome events without contacts, and the trace."""
import json
import os
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

# The timer's interval is read when the service module is imported: poll often here, without leaking the setting
# into the environment of later tests (an e2e cluster inherits os.environ).
_poll = os.environ.get("AQ_DELIVERY_POLL_SECONDS")
os.environ["AQ_DELIVERY_POLL_SECONDS"] = "0.2"

import pytest  # noqa: E402
from click.testing import CliRunner  # noqa: E402
from kombu import Connection, Queue  # noqa: E402
from nameko.containers import ServiceContainer  # noqa: E402

from aq_cli.commands.notices import notices as notices_cli  # noqa: E402
from contracts.envelope import make_envelope  # noqa: E402
from services.notification.service import NotificationService  # noqa: E402
from shared.messaging.rpc import rpc  # noqa: E402  (the stand-in roster stops as promptly as the service)
from shared.messaging.topology import EVENTS_EXCHANGE, declare_topology  # noqa: E402
from shared.rpc_client import RpcClient  # noqa: E402
from tests.support.broker import temporary_vhost  # noqa: E402
from tests.support.cluster import wait_for  # noqa: E402
from tests.support.postgres import temporary_databases  # noqa: E402
from tests.unit.notification.standins import RobotServer, SmsGateway, SmtpStandIn  # noqa: E402

if _poll is None:
    del os.environ["AQ_DELIVERY_POLL_SECONDS"]
else:
    os.environ["AQ_DELIVERY_POLL_SECONDS"] = _poll

pytestmark = pytest.mark.real

SHANGHAI = ZoneInfo("Asia/Shanghai")
STUDENTS = {f"2103010{n:02d}": n for n in range(1, 10)}
STAFF = {"T1001": "13597942942", "C2021": "13932868828", "D0301": "13894130244", "V0001": "13745176955"}


def guardian_phone(student_id):
    return f"1871000{STUDENTS[student_id]:04d}"


class StandInRoster:
    """The roster's RPC as notification uses it, for six students of one class."""
    name = "roster"

    @rpc
    def responsibles(self, student_ids):
        return {sid: {"student_id": sid, "name": f"学生{STUDENTS[sid]}", "class_name": "机械2101",
                      "major": "机械设计制造及其自动化", "cohort": "2021", "status": "在读", "head_teacher_id": "T1001",
                      "counselor_id": "C2021", "department_head_id": "D0301", "vice_dean_id": "V0001"}
                for sid in student_ids if sid in STUDENTS}

    @rpc
    def officers(self):
        return {"department_head_by_major": {"机械设计制造及其自动化": "D0301"}, "vice_dean_id": "V0001",
                "counselor_by_cohort": {"2021": "C2021"}, "academic_affairs": []}

    @rpc
    def contacts(self, recipients):
        answer = []
        for r in recipients:
            rid = r["id"]
            if r["kind"] == "guardian":
                sid = rid.split(":", 1)[1]
                entry = {"email": f"p{sid}@family.example.com", "phone": guardian_phone(sid)}
            elif rid in STUDENTS:
                entry = {"email": f"s{rid}@stu.example.edu.cn", "phone": f"1566413{STUDENTS[rid]:04d}"}
            else:
                entry = {"email": f"{rid.lower()}@college.example.edu.cn", "phone": STAFF.get(rid)}
            answer.append({"kind": r["kind"], "id": rid, "name": None, **entry})
        return answer


class Clock:
    def __init__(self):
        self.at = datetime(2024, 3, 5, 10, 0, tzinfo=SHANGHAI)

    def __call__(self):
        return self.at


@pytest.fixture(scope="module")
def system():
    clock = Clock()
    with temporary_vhost() as uri, temporary_databases() as db, SmtpStandIn() as smtp, SmsGateway() as gateway, \
            RobotServer() as robots:
        env = {
            "AQ_NOTICE_CHANNELS": "in_app,email,sms,wecom,dingtalk",
            "AQ_CHANNEL_EMAIL_SMTP_URL": smtp.url, "AQ_CHANNEL_EMAIL_FROM": "学院教务办公室 <jwb@college.example>",
            "AQ_CHANNEL_EMAIL_TIMEOUT": "5",
            "AQ_CHANNEL_SMS_URL": gateway.url("/send"), "AQ_CHANNEL_SMS_TOKEN": "s3cret",
            "AQ_CHANNEL_SMS_OK_FIELD": "code", "AQ_CHANNEL_SMS_OK_VALUE": "0", "AQ_CHANNEL_SMS_PERMANENT_VALUES": "40001",
            "AQ_CHANNEL_SMS_ID_FIELD": "msg_id", "AQ_CHANNEL_SMS_DEDUPLICATES": "1", "AQ_CHANNEL_SMS_TIMEOUT": "5",
            "AQ_CHANNEL_WECOM_WEBHOOK": robots.wecom_url,
            "AQ_CHANNEL_DINGTALK_WEBHOOK": robots.dingtalk_url, "AQ_CHANNEL_DINGTALK_SECRET": robots.dingtalk_secret,
            "AQ_NOTICE_ROUTES": "guardian=sms>email; department_head=in_app,wecom>email; staff=in_app,dingtalk>email",
            "AQ_NOTICE_QUIET_HOURS": "guardian:sms=22:00-07:00", "AQ_NOTICE_DIGEST_TIMES": "08:00",
            "AQ_NOTICE_RETRY_BASE_SECONDS": "60", "AQ_NOTICE_MAX_ATTEMPTS": "4", "AQ_DELIVERY_LEASE_SECONDS": "30",
        }
        declare_topology(uri)
        outcomes = Queue("test.deliveries", exchange=EVENTS_EXCHANGE, routing_key="notification.deliveries_recorded.v1",
                         durable=False, auto_delete=False)
        with Connection(uri) as conn:
            outcomes(conn.channel()).declare()
        roster = ServiceContainer(StandInRoster, {"AMQP_URI": uri})
        notification = ServiceContainer(NotificationService, {
            "AMQP_URI": uri, "DATABASE_URL": db.replace("{service}", "notification"), "RETRY_DELAYS": "0.2,0.5",
            "OUTBOX_POLL_SECONDS": 0.2, "NOTIFICATION_ENV": env, "CLOCK": clock, "serializer": "json"})
        roster.start()
        notification.start()
        try:
            yield {"uri": uri, "clock": clock, "smtp": smtp, "gateway": gateway, "robots": robots}
        finally:
            notification.stop()
            roster.stop()


def publish(uri, type_name, data, correlation_id):
    envelope = make_envelope(type_name, 1, type_name.split(".")[0], data, correlation_id=correlation_id,
                             causation_id=correlation_id)
    with Connection(uri) as conn:
        conn.Producer().publish(envelope, exchange=EVENTS_EXCHANGE, routing_key=f"{type_name}.v1", serializer="json",
                                delivery_mode=2, declare=[EVENTS_EXCHANGE])
    return envelope


def warn(system, student, level="red", kind="issued", upload=None):
    change = {"change_id": f"chg-{student}-{level}", "student_id": student, "semester": "2023-2024-1", "kind": kind,
              "old_level": "none", "new_level": level, "escalated": False, "policy_version": "default-1",
              "reasons": [{"rule": "unresolved_failed_credits", "level": level, "measure": 26.0, "threshold": 25.0,
                           "comparison": ">=", "courses": [{"course_code": "MATH01", "course_name": "高等数学",
                                                            "credits": 5.0, "result": "45"}]}]}
    publish(system["uri"], "warnings.changed", {"changes": [change]}, upload or f"U-{student}")
    return change


def call(system, method, *args):
    with RpcClient(system["uri"], timeout=30) as client:
        return client.call("notification", method, *args)


def by_channel(system, recipient):
    return {n["channel"]: n for n in call(system, "list_notices", recipient)}


def settled(system, upload):
    trace = call(system, "trace", upload)
    return trace if trace["notices"] and trace["pending_deliveries"] == 0 else None


def drain_outcomes(uri):
    events = []
    with Connection(uri) as conn:
        channel = conn.channel()
        while (message := channel.basic_get("test.deliveries", no_ack=True)) is not None:
            events.append(json.loads(message.body))
    return events


def test_a_red_warning_reaches_everyone_on_their_routes_and_the_outcomes_are_announced(system):
    student = "210301001"
    warn(system, student)
    trace = wait_for(lambda: settled(system, f"U-{student}"), timeout=60, message="the notices to be delivered")
    assert {(n["recipient_kind"], n["channel"], n["status"]) for n in trace["notices"]} == {
        ("student", "in_app", "sent"), ("student", "email", "sent"), ("guardian", "sms", "sent"),
        ("department_head", "in_app", "sent"), ("department_head", "wecom", "sent")}
    [mail] = system["smtp"].messages_to(f"s{student}@stu.example.edu.cn")
    assert "红色预警" in mail["Subject"]
    sms = by_channel(system, f"guardian:{student}")["sms"]
    [request] = system["gateway"].requests_for(sms["notice_id"])
    assert request["mobile"] == guardian_phone(student) and "26 学分" in request["content"]
    assert sms["provider_ref"].startswith("M-")
    [robot] = [m for m in system["robots"].wecom if student in m["text"]["content"]]
    assert robot["text"]["mentioned_mobile_list"] == [STAFF["D0301"]]
    assert [i["subject"] for i in call(system, "inbox", student)] == [mail["Subject"]]

    emitted = wait_for(lambda: [e for e in call(system, "trace", f"U-{student}")["emitted"] if e["published"]],
                       message="the outcome event to be published")
    assert {e["type"] for e in emitted} == {"notification.deliveries_recorded"}
    events = [e for e in drain_outcomes(system["uri"]) if e["correlation_id"] == f"U-{student}"]
    delivered = [d for e in events for d in e["data"]["deliveries"]]
    assert sorted((d["recipient_kind"], d["channel"], d["status"]) for d in delivered) == sorted(
        (n["recipient_kind"], n["channel"], n["status"]) for n in trace["notices"])
    text = json.dumps(events, ensure_ascii=False)
    assert "@" not in text and guardian_phone(student) not in text and STAFF["D0301"] not in text


def test_the_light_trace_says_what_settles_the_upload_without_its_notices(system):
    """`aq wait` polls trace(..., details=False): the ledger and the pending count, not every notice of the upload."""
    student = "210301009"
    warn(system, student)
    wait_for(lambda: settled(system, f"U-{student}"), timeout=60, message="the notices to be delivered")
    light = call(system, "trace", f"U-{student}", False)
    full = call(system, "trace", f"U-{student}")
    assert "notices" not in light and light["pending_deliveries"] == 0
    assert full["notices"]
    assert {k: v for k, v in full.items() if k != "notices"} == light


def test_a_red_warnings_tasks_are_told_at_once_by_the_staff_route(system):
    student = "210301002"
    change = warn(system, student)
    wait_for(lambda: settled(system, f"U-{student}"), message="the warning's notices")
    tasks = [{"task_id": f"T-{student}-{kind}", "kind": kind, "assignee": "T1001", "student_id": student,
              "course_code": None, "semester": "2023-2024-1", "due": "2024-03-12", "status": "open",
              "cause": f"{kind}:{change['change_id']}"} for kind in ("talk", "parent_contact")]
    publish(system["uri"], "advising.tasks_changed", {"tasks": tasks}, f"U-{student}")
    # Each channel's notice is sent on its own: wait until both have gone, not just the first.
    urgent = wait_for(lambda: (sent := [n for n in call(system, "list_notices", "T1001", ["sent"], f"U-{student}")
                                        if n["kind"] == "task_urgent"]) and len(sent) >= 2 and sent,
                      message="the urgent task notice on both staff channels")
    assert {n["channel"] for n in urgent} == {"in_app", "dingtalk"}
    [posted] = [m for m in system["robots"].dingtalk if student in m["text"]["content"]]
    assert posted["text"]["content"].startswith("【紧急任务】学生 210301002 红色及以上学业预警")
    assert posted["at"]["atMobiles"] == [STAFF["T1001"]]


def test_a_temporary_failure_is_retried_after_backoff_without_a_duplicate(system):
    student, clock, gateway = "210301003", system["clock"], system["gateway"]
    gateway.script[guardian_phone(student)] = [("status", 503)]
    warn(system, student, level="yellow")
    sms = wait_for(lambda: (n := by_channel(system, f"guardian:{student}").get("sms")) and n["attempts"] == 1
                   and n["status"] == "pending" and n, message="the first, failed attempt")
    assert "HTTP 503" in sms["last_error"] and guardian_phone(student) not in sms["last_error"]
    due = datetime.fromisoformat(sms["next_attempt_at"])
    assert timedelta(seconds=30) <= due - clock() <= timedelta(seconds=60)     # base 60 s, with jitter
    clock.at = due + timedelta(seconds=1)
    sent = wait_for(lambda: (n := by_channel(system, f"guardian:{student}")["sms"])["status"] == "sent" and n,
                    message="the retry")
    assert sent["attempts"] == 2
    assert len(gateway.requests_for(sent["notice_id"])) == 2 and sent["notice_id"] in gateway.delivered
    assert "email" not in by_channel(system, f"guardian:{student}")        # no fallback for a temporary failure


def test_a_permanent_failure_falls_back_at_once_and_is_shown_to_staff(system):
    student = "210301004"
    system["gateway"].script[guardian_phone(student)] = [("code", 40001)]
    warn(system, student, level="yellow")
    guardian = wait_for(lambda: (n := by_channel(system, f"guardian:{student}")).get("email", {}).get("status") == "sent"
                        and n, message="the fallback e-mail")
    assert guardian["sms"]["status"] == "failed" and guardian["sms"]["attempts"] == 1
    assert guardian["email"]["fallback_of"] == guardian["sms"]["notice_id"]
    assert len(system["smtp"].messages_to(f"p{student}@family.example.com")) == 1
    result = CliRunner().invoke(notices_cli, ["list", "--failed"], env={"AQ_AMQP_URI": system["uri"]})
    assert result.exit_code == 0, result.output
    line = next(line for line in result.output.splitlines() if f"guardian:{student}" in line)
    assert "sms" in line and "failed" in line and "code=40001" in line


def test_guardian_sms_is_held_in_quiet_hours_and_sent_in_the_morning(system):
    student, clock = "210301005", system["clock"]
    clock.at = datetime(2024, 3, 5, 23, 30, tzinfo=SHANGHAI)
    warn(system, student, level="yellow")
    trace = wait_for(lambda: settled(system, f"U-{student}"), message="the upload to settle with the SMS held")
    statuses = {(n["recipient_kind"], n["channel"]): n for n in trace["notices"]}
    held = statuses[("guardian", "sms")]
    assert held["status"] == "held" and held["attempts"] == 0
    assert datetime.fromisoformat(held["next_attempt_at"]) == datetime(2024, 3, 6, 7, 0, tzinfo=SHANGHAI)
    assert statuses[("student", "email")]["status"] == "sent"           # e-mail is not held
    assert system["gateway"].requests_for(held["notice_id"]) == []
    clock.at = datetime(2024, 3, 6, 7, 0, 5, tzinfo=SHANGHAI)
    wait_for(lambda: by_channel(system, f"guardian:{student}")["sms"]["status"] == "sent", message="the morning SMS")
    assert len(system["gateway"].requests_for(held["notice_id"])) == 1


def test_task_assignments_are_gathered_into_one_digest_per_staff_member_per_day(system):
    clock = system["clock"]
    clock.at = datetime(2024, 3, 7, 10, 0, tzinfo=SHANGHAI)
    student = "210301006"
    warn(system, student, level="yellow", upload="U-digest")
    tasks = [{"task_id": f"T-d-{n}", "kind": kind, "assignee": "C2021", "student_id": student, "course_code": None,
              "semester": "2023-2024-1", "due": "2024-03-21", "status": "open", "cause": f"{kind}:chg-{student}-yellow"}
             for n, kind in enumerate(("talk", "integrity_talk", "follow_up"))]
    publish(system["uri"], "advising.tasks_changed", {"tasks": tasks[:2]}, "U-digest")
    publish(system["uri"], "advising.tasks_changed", {"tasks": tasks[2:]}, "U-digest-2")
    wait_for(lambda: len(call(system, "task_items", "C2021")) == 3, message="the tasks to wait for the digest")
    assert wait_for(lambda: settled(system, "U-digest"), message="the upload to settle")   # a digest is not pending
    assert [n for n in call(system, "list_notices", "C2021") if n["kind"] == "task_digest"] == []
    clock.at = datetime(2024, 3, 8, 8, 0, 1, tzinfo=SHANGHAI)

    def sent_digests():
        found = [n for n in call(system, "list_notices", "C2021", ["sent"]) if n["kind"] == "task_digest"]
        return found if len(found) == 2 else None

    digests = wait_for(sent_digests, message="the digest, in-app and by robot")
    assert {n["channel"] for n in digests} == {"in_app", "dingtalk"}
    assert {n["cause"] for n in digests} == {"digest:C2021:2024-03-08T08:00"}
    [posted] = [m for m in system["robots"].dingtalk if "待办汇总" in m["text"]["content"]]
    assert posted["text"]["content"].count(f"学生 {student}") == 3
    assert call(system, "task_items", "C2021") == []


def test_a_recipients_own_preference_chooses_channels_and_language(system):
    student = "210301007"
    env = {"AQ_AMQP_URI": system["uri"]}
    result = CliRunner().invoke(notices_cli, ["prefer", f"guardian:{student}", "--routes", "email", "--locale", "en"],
                                env=env)
    assert result.exit_code == 0 and "routes email, locale en" in result.output
    refused = CliRunner().invoke(notices_cli, ["prefer", student, "--routes", "pigeon"], env=env)
    assert refused.exit_code != 0 and "pigeon" in refused.output
    warn(system, student, level="yellow")
    wait_for(lambda: settled(system, f"U-{student}"), message="the notices")
    assert set(by_channel(system, f"guardian:{student}")) == {"email"}
    [mail] = system["smtp"].messages_to(f"p{student}@family.example.com")
    assert mail["Subject"].startswith("[Academic warning]")
    assert "学业预警" in system["smtp"].messages_to(f"s{student}@stu.example.edu.cn")[0]["Subject"]   # others: Chinese


def test_channels_report_their_health_and_settings_without_secrets(system):
    info = call(system, "channels")
    assert {c["name"]: c["healthy"] for c in info["channels"]} == {
        "in_app": True, "email": True, "sms": True, "wecom": True, "dingtalk": True}
    text = json.dumps(info)
    assert "s3cret" not in text and system["robots"].dingtalk_secret not in text and "wk-1" not in text
    assert info["routes"]["guardian"] == "sms>email" and info["quiet_hours"] == ["guardian:sms=22:00-07:00"]
    assert next(c for c in info["channels"] if c["name"] == "sms")["idempotent"] is True
