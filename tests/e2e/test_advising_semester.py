"""A semester of duties through the whole system (duties.md, policy.md §6), six services as OS processes on the
real RabbitMQ and PostgreSQL, the advising clock moved by `aq tasks clock set` (test mode) instead of waiting:

the calendar opens the semester (class meetings, observations…); a grade upload warns a student, records a 作弊
and flags a course; the head teacher records the talk and its follow-up comes due; reminders and escalation fire
on the clock; the course review is submitted, approved, and checked when the course's grades arrive the next
semester; a symposium item goes from raised to adopted; a new head teacher takes over the class's open tasks;
the handbook is exported.
"""
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from kombu import Connection, Queue

from shared.messaging.topology import EVENTS_EXCHANGE
from tests.support.broker import temporary_vhost
from tests.support.cluster import SAMPLE, Cluster, wait_for
from tests.support.postgres import temporary_databases

pytestmark = [pytest.mark.real, pytest.mark.e2e]

TODAY = datetime.now(ZoneInfo("Asia/Shanghai")).date()
S1, S2 = "2026-2027-1", "2026-2027-2"
S1_START = TODAY - timedelta(days=3)
S2_START = S1_START + timedelta(weeks=18 + 7)
HEADER = "学号,姓名,学年学期,课程代码,课程名称,学分,课程性质,考试性质,成绩,任课教师,开课学院"
MECH = ["240101001,蔡涛", "240101002,余子萱", "240101003,吴萱刚", "240101004,彭超", "240101005,许建萱",
        "240101006,何志明", "0240101007,曹然华", "240101008,郭国萍", "240101009,黄辉", "240101010,黄浩子"]
ELEC = [f"2402010{n:02d},{name}" for n, name in enumerate(
    ["吴萱英", "蒋伟磊", "郭志洋", "宋玲兰", "许玉", "吴明", "赵子", "韩霞", "彭英敏", "刘志"], start=1)]
MAJOR = "机械设计制造及其自动化"


def grades_file(path, semester, aq01_fails, extra=True):
    """AQ01 (王老师) for 机械2401, failed by ``aq01_fails``; in S1 also AQ02 (作弊 by 240101002) and AQ03 for
    both classes, failed by 240101001 only: 4 + 4 + 3 failed credits, a yellow warning (policy.md §4)."""
    rows = [HEADER]
    for student in MECH:
        sid = student.split(",")[0]
        rows.append(f"{student},{semester},AQ01,数据结构,4.0,必修,正常考试,{40 if sid in aq01_fails else 80},王老师,")
    if extra:
        for student in MECH + ELEC:
            sid = student.split(",")[0]
            aq02 = {"240101001": "45", "240101002": "作弊"}.get(sid, "75")
            rows.append(f"{student},{semester},AQ02,电路原理,4.0,必修,正常考试,{aq02},李老师,")
            rows.append(f"{student},{semester},AQ03,工程制图,3.0,必修,正常考试,{50 if sid == '240101001' else 85},赵老师,")
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    home = tmp_path_factory.mktemp("aq-advising")
    calendar = home / "calendar.yml"
    calendar.write_text(f"semesters:\n  {S1}: {{start: {S1_START}, weeks: 18}}\n  {S2}: {{start: {S2_START}}}\n",
                        encoding="utf-8")
    with temporary_vhost() as uri, temporary_databases() as db:
        cluster = Cluster(home, uri, db, {"AQ_TEST_CLOCK": "1", "AQ_ADVISING_TICK_SECONDS": "0.3",
                                          "AQ_SEMESTER_CALENDAR": str(calendar)})
        cluster.up()
        try:
            yield cluster
        finally:
            cluster.down()


class Events:
    """advising.* events as they leave the outbox (nobody subscribes to reminders_due yet: we listen)."""

    def __init__(self, uri):
        self.conn = Connection(uri)
        channel = self.conn.channel()
        EVENTS_EXCHANGE(channel).declare()
        self.queue = self.conn.SimpleQueue(Queue("e2e-advising-events", exchange=EVENTS_EXCHANGE,
                                                 routing_key="advising.#"))
        self.seen = []

    def drain(self):
        while True:
            try:
                message = self.queue.get(block=True, timeout=0.2)
            except self.queue.Empty:
                return self.seen
            message.ack()
            self.seen.append(message.payload)

    def of(self, type_name):
        return [e["data"] for e in self.drain() if e["type"] == type_name]

    def reminders(self):
        return [r for e in self.of("advising.reminders_due") for r in e["reminders"]]


@pytest.fixture
def events(cluster):
    listener = Events(cluster.amqp_uri)
    yield listener
    listener.conn.release()


@pytest.fixture
def rpc(cluster):
    with cluster.rpc() as client:
        yield client


def test_a_semester_of_duties(cluster, events, rpc, tmp_path):
    task = lambda task_id: rpc.call("advising", "get_task", task_id)      # noqa: E731
    tasks = lambda **f: rpc.call("advising", "list_tasks", **f)           # noqa: E731

    # --- the calendar opens the running semester once the roster is in ---------------------------------------
    cluster.import_sample_roster()
    wait_for(lambda: rpc.call("advising", "list_semesters"), timeout=30, message="the timer to open S1")
    [opened] = cluster.json("tasks", "semesters")
    assert (opened["semester"], opened["opened_by"], opened["tasks"]) == (S1, "calendar", 12 * 7 + 4 * 4 + 3)
    meetings = tasks(assignee="T1010", semester=S1, kind="class_meeting")
    assert [m["due"] for m in meetings] == [str(S1_START + timedelta(days=7 * w - 1)) for w in (6, 11, 16)]

    # --- grades: a yellow warning (talk), a 作弊 (integrity talk), a flagged course (review) -----------------
    cluster.upload(grades_file(tmp_path / "s1.csv", S1, {"240101001", "240101003", "240101004", "240101005",
                                                         "240101006"}))
    [talk] = tasks(kind="talk")
    [integrity] = tasks(kind="integrity_talk")
    [review] = tasks(kind="course_review")
    assert (talk["assignee"], talk["student_id"], talk["class_name"]) == ("T1010", "240101001", "机械2401")
    assert (integrity["assignee"], integrity["student_id"]) == ("T1010", "240101002")
    assert (review["assignee"], review["course_code"], review["detail"]["rate"]) == ("D机械", "AQ01", 0.5)

    # --- the head teacher records the talk; its follow-up comes due -----------------------------------------
    follow_up_on = date.fromisoformat(talk["due"]) + timedelta(days=21)
    out = cluster.aq("tasks", "close", talk["task_id"], "--by", "T1010", "--field", f"date={TODAY}",
                     "--field", "place=机械楼 302", "--field", "discussion=三门课不及格的原因",
                     "--field", "support_plan=每周两次答疑，期中前补习数据结构",
                     "--field", f"follow_up={follow_up_on}").stdout
    [follow_up] = tasks(kind="follow_up")
    assert f"follow-up {follow_up['task_id']} due {follow_up_on}" in out
    assert (follow_up["assignee"], follow_up["student_id"]) == ("T1010", "240101001")
    refused = cluster.aq("tasks", "close", integrity["task_id"], "--by", "T1010", "--field", f"date={TODAY}",
                         check=False)
    assert refused.returncode == 1 and "summary" in refused.stderr

    # --- reminders and escalation on the advising clock --------------------------------------------------------
    integrity_due = date.fromisoformat(integrity["due"])
    cluster.aq("tasks", "clock", "set", str(integrity_due - timedelta(days=2)))
    wait_for(lambda: any(r["task_id"] == integrity["task_id"] for r in events.reminders()), timeout=30,
             message="the due-soon reminder")
    cluster.aq("tasks", "clock", "set", str(integrity_due + timedelta(days=7)))
    wait_for(lambda: task(integrity["task_id"])["escalated_to"], timeout=30, message="the escalation")
    mine = [(r["reminder"], r["overdue_days"], r["escalate_to"]) for r in events.reminders()
            if r["task_id"] == integrity["task_id"]]
    assert mine == [("due_soon", -2, None), ("overdue", 7, None), ("escalated", 7, "C2024")]
    assert not any(r["task_id"] == talk["task_id"] for r in events.reminders())     # done: never reminded
    escalated = cluster.json("tasks", "list", "--escalated-to", "C2024")
    assert integrity["task_id"] in {t["task_id"] for t in escalated}
    overdue = {t["task_id"] for t in cluster.json("tasks", "list", "--overdue", "--assignee", "T1010")}
    assert integrity["task_id"] in overdue and follow_up["task_id"] not in overdue

    # --- the course review: submitted by the course group, approved by the department head -------------------
    cluster.aq("tasks", "submit", review["task_id"], "--by", "T9001", "--field", "analysis=半数学生期末不及格",
               "--field", "causes=先修课程薄弱，实验课时不足", "--field", "measures=增加习题课与实验课",
               "--field", "authors=数据结构课程组")
    out = cluster.aq("tasks", "review", review["task_id"], "--by", "D电气", "--approve", check=False)
    assert out.returncode == 1 and "reviewed by D机械" in out.stderr
    cluster.aq("tasks", "review", review["task_id"], "--by", "D机械", "--approve")
    assert task(review["task_id"])["status"] == "done"

    # --- the next semester: the calendar opens it, the course's grades arrive, the review is checked ---------
    cluster.aq("tasks", "clock", "set", str(S2_START + timedelta(days=1)))
    wait_for(lambda: len(rpc.call("advising", "list_semesters")) == 2, timeout=30, message="the timer to open S2")
    cluster.upload(grades_file(tmp_path / "s2.csv", S2, {"240101003", "240101004", "240101005"}, extra=False))
    checked = wait_for(lambda: task(review["task_id"])["outcome"], timeout=30, message="the review's check")
    assert checked["text"] == "50.0% → 30.0% (fell)" and checked["semester_now"] == S2
    steps = [(e["step"], e["by"]) for e in events.of("advising.course_review_changed")]
    assert steps == [("submitted", "T9001"), ("approved", "D机械"), ("checked", None)]

    # --- mid-term symposium feedback: raised, routed, answered, adopted ---------------------------------------
    item_id = cluster.aq("symposium", "raise", "--semester", S2, "--topic", "数据结构实验课时不足",
                         "--course-code", "AQ01", "--teacher", "王老师", "--raised-by", "机械2401 学习委员",
                         "--date", str(S2_START)).stdout.strip()
    cluster.aq("symposium", "route", item_id, "--by", "V0001", "--department", MAJOR)
    [open_item] = cluster.json("symposium", "list", "--open")
    assert (open_item["status"], open_item["assignee"], open_item["age_days"]) == ("routed", "D机械", 1)
    cluster.aq("symposium", "answer", item_id, "--by", "D机械", "--kind", "解决",
               "--answer", "下学期起每周增加 2 学时实验", "--date", str(S2_START + timedelta(days=1)))
    cluster.aq("symposium", "close", item_id, "--by", "V0001", "--outcome", "adopted")
    assert cluster.json("symposium", "list", "--open") == []
    statuses = [e["items"][0]["status"] for e in events.of("advising.symposium_changed")]
    assert statuses == ["raised", "routed", "answered", "adopted"]

    # --- a new head teacher takes over the class's unfinished tasks ------------------------------------------
    classes = (SAMPLE / "csv" / "roster" / "classes.csv").read_text(encoding="utf-8")
    changed = tmp_path / "classes.csv"
    changed.write_text(classes.replace("机械2401,机械设计制造及其自动化,2024,T1010",
                                       "机械2401,机械设计制造及其自动化,2024,T1001"), encoding="utf-8")
    assert "T1001" in changed.read_text(encoding="utf-8").split("机械2401")[1].splitlines()[0]
    cluster.aq("roster", "import", str(changed))
    wait_for(lambda: {t["assignee"] for t in tasks(class_name="机械2401", status="unfinished")} == {"T1001"},
             timeout=30, message="the class's open tasks to move")
    moved = task(integrity["task_id"])["history"]
    assert moved[-1]["action"] == "moved" and moved[-1]["detail"]["from"] == "T1010"
    assert task(talk["task_id"])["assignee"] == "T1010"                       # what is done stays done

    # --- the handbook of the semester ---------------------------------------------------------------------------
    out = tmp_path / "handbook.html"
    cluster.aq("handbook", "export", "T1010", "--semester", S1, "--out", str(out))
    html = out.read_text(encoding="utf-8")
    assert "蔡涛 (240101001)" in html and "机械楼 302" in html and "每周两次答疑" in html
    assert "一对一面谈" in html and "专题班会" not in html            # the open class meetings moved on
    markdown = tmp_path / "handbook.md"
    cluster.aq("handbook", "export", "T1001", "--semester", S1, "--out", str(markdown))
    text = markdown.read_text(encoding="utf-8")
    assert "诚信谈话 Integrity talks" in text and "已上报 escalated to C2024" in text
    assert "| 专题班会 Themed class meetings | 0 | 6 | ≥ 3 × 2 |" in text
    records = cluster.json("records", "list", "--assignee", "T1010")
    assert [(r["kind"], r["date"]) for r in records] == [("talk", str(TODAY))]
    assert cluster.json("dlq", "list") == []          # every consumer of advising's events took them
