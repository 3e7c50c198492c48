"""Acknowledgements (回执) through the whole system: six services as OS processes on real RabbitMQ and PostgreSQL, the
development mail sink as the families' mailboxes.

One upload gives an orange warning (学生0) and a red one (学生1). Each student and each guardian gets a notice with
a link of their own; the links are read from the mail sink and the student's in-app inbox and used through the
RPCs the gateway calls (open, acknowledge). The guardian's link used from the student's computer is recorded and
flagged for staff (`aq notices acks`). Moving the notification clock (test mode) shows the red warning's family
reminded once, then the head teacher given the task to contact them, and the link expiring."""
import json
from datetime import datetime, timedelta
from email import message_from_bytes, policy

import pytest

from services.notification.domain.ack_links import tokens_in
from tests.support.broker import temporary_vhost
from tests.support.cluster import Cluster, wait_for
from tests.support.postgres import temporary_databases

pytestmark = [pytest.mark.real, pytest.mark.e2e]

MAJOR = "机械设计制造及其自动化"
ORANGE, RED, PASSING = "219902001", "219902002", "219902003"
PUBLIC = "https://aq.college.example.edu.cn"
STUDENT_PC = {"ip": "10.20.30.40", "user_agent": "Mozilla/5.0 (Windows NT 10.0) Firefox/120.0"}
PARENT_PHONE = {"ip": "183.2.4.8", "user_agent": "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0) Safari/604.1"}
COURSES = [("KX01", "工程力学", 6.0), ("KX02", "机械原理", 5.0), ("KX03", "机械设计", 5.0), ("KX04", "材料力学", 5.0),
           ("KX05", "电工电子", 5.0)]
FAILED = {ORANGE: 3, RED: 5, PASSING: 0}          # 16 failed credits: orange; 26: red


def write_files(folder):
    (folder / "staff.csv").write_text(
        "工号,姓名,角色,负责范围,邮箱,手机\n"
        "T9002,蒋涛,班主任,测试2102,t9002@college.example.edu.cn,13597942942\n"
        "C2021,余丽明,辅导员,2021,c2021@college.example.edu.cn,13932868828\n"
        f"D9001,李建子,系主任,{MAJOR},dept-jx@college.example.edu.cn,13894130244\n"
        "V0001,冯霞艳,教学副院长,学院,vicedean@college.example.edu.cn,13745176955\n", encoding="utf-8")
    (folder / "classes.csv").write_text(f"班级,专业,年级,班主任工号\n测试2102,{MAJOR},2021,T9002\n", encoding="utf-8")
    students = ["学号,姓名,班级,学生邮箱,学生手机,家长姓名,家长关系,家长手机,家长邮箱,学籍状态"]
    for n, sid in enumerate((ORANGE, RED, PASSING)):
        students.append(f"{sid},学生{n},测试2102,s{sid}@stu.example.edu.cn,1566413{n:04d},家长{n},母亲,"
                        f"1871002{n:04d},p{sid}@family.example.com,在读")
    (folder / "students.csv").write_text("\n".join(students) + "\n", encoding="utf-8")
    rows = ["学号,姓名,学年学期,课程代码,课程名称,学分,课程性质,考试性质,成绩,任课教师,开课学院"]
    for n, sid in enumerate((ORANGE, RED, PASSING)):
        for i, (code, name, credits) in enumerate(COURSES):
            score = 40 if i < FAILED[sid] else 80
            rows.append(f"{sid},学生{n},2021-2022-1,{code},{name},{credits},必修,正常考试,{score},王老师,")
    (folder / "grades.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")


@pytest.fixture(scope="module")
def college(tmp_path_factory):
    folder = tmp_path_factory.mktemp("files")
    write_files(folder)
    with temporary_vhost() as uri, temporary_databases() as db:
        cluster = Cluster(tmp_path_factory.mktemp("aq-home"), uri, db, {
            "AQ_TEST_CLOCK": "1", "AQ_ACK_POLL_SECONDS": "0.5", "AQ_NOTICE_QUIET_HOURS": "off",
            "AQ_LINK_SECRET": "e2e-link-secret", "AQ_PUBLIC_URL": PUBLIC,
        })
        cluster.up()
        try:
            cluster.aq("roster", "import", *(str(folder / f) for f in ("staff.csv", "classes.csv", "students.csv")))
            upload = cluster.upload(folder / "grades.csv")         # --wait: every notice is delivered
            yield cluster, upload
        finally:
            with cluster.rpc() as rpc:
                rpc.call("notification", "set_clock", None)
            cluster.down()


def mails_to(cluster, address, subject_start=""):
    found = []
    for path in cluster.mailbox():
        message = message_from_bytes(path.read_bytes(), policy=policy.default)
        if message["To"] == address and str(message["Subject"]).startswith(subject_start):
            found.append(message)
    return found


def body(message, kind: str) -> str:
    return message.get_body(preferencelist=(kind,)).get_content()


def link_in(message) -> str:
    [token] = set(tokens_in(body(message, "plain")))
    assert set(tokens_in(body(message, "html"))) == {token}
    return token


def call(cluster, method, *args):
    with cluster.rpc() as rpc:
        return rpc.call("notification", method, *args)


def acks(cluster, *args):
    return {(a["student_id"], a["recipient_kind"]): a for a in cluster.json("notices", "acks", *args)}


def test_each_family_member_acknowledges_with_their_own_link_and_every_use_is_recorded(college):
    cluster, _ = college
    [guardian_mail] = mails_to(cluster, f"p{ORANGE}@family.example.com", "学业预警通知书")
    guardian = link_in(guardian_mail)
    assert f"{PUBLIC}/ack/{guardian}" in body(guardian_mail, "plain")
    [student_mail] = mails_to(cluster, f"s{ORANGE}@stu.example.edu.cn", "【学业预警】")
    [inbox] = call(cluster, "inbox", ORANGE)
    student_by_mail, student = link_in(student_mail), set(tokens_in(inbox["text"])).pop()
    assert len({guardian, student_by_mail, student}) == 3            # one link per notice, never shared
    assert ".g." in guardian and ".s." in student and ".s." in student_by_mail
    for path in cluster.mailbox():                        # the guardian's link is in the guardian's mail only
        message = message_from_bytes(path.read_bytes(), policy=policy.default)
        if message["To"] != f"p{ORANGE}@family.example.com":
            assert guardian not in body(message, "plain") + body(message, "html")
    assert mails_to(cluster, f"p{PASSING}@family.example.com") == []         # no warning, no notice

    page = call(cluster, "open_acknowledgement", guardian, PARENT_PHONE)
    assert page["status"] == "ok" and page["role"] == "guardian" and page["level"] == "orange"
    assert page["student"] == {"name": "学*0", "id": "2199***01"} and page["acknowledged"] is False
    assert page["reasons"] and page["semester"] == "2021-2022-1"

    assert call(cluster, "acknowledge", student, STUDENT_PC, "学生0")["status"] == "acknowledged"
    # The guardian's link, used from the student's own computer a moment later: recorded and flagged, not refused.
    signed = call(cluster, "acknowledge", guardian, STUDENT_PC, "家长0")
    assert signed["status"] == "acknowledged" and signed["same_client_flagged"] is True
    again = call(cluster, "acknowledge", guardian, PARENT_PHONE, "家长0")
    assert again["status"] == "error" and again["error"] == "already_acknowledged"
    forged = call(cluster, "acknowledge", guardian[:-2] + ("AA" if not guardian.endswith("AA") else "BB"),
                  PARENT_PHONE, "家长0")
    assert forged["error"] == "invalid"

    listed = acks(cluster, "--semester", "2021-2022-1")
    g = listed[(ORANGE, "guardian")]
    assert (g["status"], g["signer_name"], g["ack_channel"], g["ack_ip"], g["shared_client"], g["sent_via"]) == (
        "acknowledged", "家长0", "email", STUDENT_PC["ip"], True, ["email"])
    assert [u["action"] for u in g["uses"]] == ["opened", "acknowledged", "refused"]
    assert g["uses"][0]["ip"] == PARENT_PHONE["ip"] and g["uses"][1]["same_client"] is True
    assert listed[(ORANGE, "student")]["ack_channel"] == "in_app"
    assert {k for k, a in listed.items() if a["status"] == "open"} == {(RED, "student"), (RED, "guardian")}
    table = cluster.aq("notices", "acks", "--missing").stdout
    assert RED in table and ORANGE not in table
    assert "same client as student" in cluster.aq("notices", "acks", "--student", ORANGE).stdout
    shown = cluster.aq("notices", "show", g["ack_notice_id"]).stdout
    assert guardian.rsplit(".", 1)[0] in shown and guardian not in shown        # staff never see a usable link


def test_a_missing_acknowledgement_is_reminded_once_then_becomes_the_head_teachers_task(college):
    cluster, upload = college
    [red_mail] = mails_to(cluster, f"p{RED}@family.example.com", "学业预警通知书")
    first_link = link_in(red_mail)
    start = datetime.fromisoformat(call(cluster, "get_clock")["now"])

    assert call(cluster, "set_clock", (start + timedelta(days=3, minutes=1)).isoformat())["status"] == "set"
    [reminder] = wait_for(lambda: mails_to(cluster, f"p{RED}@family.example.com", "提醒"), timeout=60,
                          message="the guardian's reminder e-mail")
    reminder_link = link_in(reminder)
    assert reminder_link != first_link
    wait_for(lambda: mails_to(cluster, f"s{RED}@stu.example.edu.cn", "提醒"), timeout=60,
             message="the student's reminder e-mail")
    listed = acks(cluster)
    assert listed[(RED, "guardian")]["reminder_via"] == ["email"]
    assert listed[(RED, "student")]["reminder_via"] == ["email", "in_app"]
    assert all(a["reminded_at"] is None for a in listed.values() if a["status"] == "acknowledged")
    page = call(cluster, "open_acknowledgement", reminder_link, PARENT_PHONE)      # opened, but not signed
    assert page["status"] == "ok" and page["level"] == "red" and page["acknowledged"] is False

    call(cluster, "set_clock", (start + timedelta(days=7, minutes=1)).isoformat())

    def follow_up():
        with cluster.rpc() as rpc:
            return rpc.call("advising", "list_tasks", None, "all", kind="acknowledgement_follow_up")
    [task] = wait_for(follow_up, timeout=60, message="the head teacher's follow-up task")
    assert (task["assignee"], task["student_id"], task["status"]) == ("T9002", RED, "open")
    assert task["detail"]["missing"] == ["guardian", "student"] and task["detail"]["opened"] == ["guardian"]
    assert task["detail"]["level"] == "red"
    listed = acks(cluster, "--missing")
    assert set(listed) == {(RED, "student"), (RED, "guardian")}
    assert all(a["overdue_at"] for a in listed.values())
    assert len(mails_to(cluster, f"p{RED}@family.example.com", "提醒")) == 1          # reminded once only

    call(cluster, "set_clock", (start + timedelta(days=15)).isoformat())
    late = call(cluster, "acknowledge", first_link, PARENT_PHONE, "家长1")
    assert late["status"] == "error" and late["error"] == "expired"
    assert acks(cluster, "--student", RED)[(RED, "guardian")]["uses"][-1]["detail"] == "expired"
    # The hand-over went out through the outbox, correlated with the upload, without a contact in it.
    emitted = call(cluster, "trace", upload)["emitted"]
    assert "notification.acknowledgement_overdue" in {e["type"] for e in emitted}
    assert "family.example.com" not in json.dumps(emitted) and "1871002" not in json.dumps(emitted)
