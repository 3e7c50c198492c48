"""Counselor lists and a student's warning timeline through the whole system: six services as OS processes on the
real RabbitMQ and PostgreSQL, the warning policy's review before release on (academic affairs confirm).

An upload gives three students of cohort 2024 academic problems (11 failed credits — a yellow warning once released;
a 作弊; one failed course). The cohort's list is issued while the warning waits for review, to the counselor, the two
head teachers and the two department heads, each with only their students; releasing the warning issues version 2,
which takes over the counselor's confirmation task; the counselor confirms it. `aq warnings history` then shows the
warning with its reasons and release, the notices, the tasks and the lists — and, with notification stopped, says
which part is missing.
"""
import pytest

from tests.support.broker import temporary_vhost
from tests.support.cluster import Cluster, wait_for
from tests.support.postgres import temporary_databases

pytestmark = [pytest.mark.real, pytest.mark.e2e]

S = "2024-2025-1"
HEADER = "学号,姓名,学年学期,课程代码,课程名称,学分,课程性质,考试性质,成绩,任课教师,开课学院"
# 机械2401 (head teacher T1010, 机械设计制造及其自动化) and 电气2401 (T1011, 电气工程及其自动化): cohort 2024, C2024.
STUDENTS = {"240101001": "蔡涛", "240101002": "余子萱", "240101003": "吴萱刚", "240201001": "吴萱英",
            "240201003": "郭志洋"}
SCORES = {"240101001": ("40", "45", "50"), "240101002": ("80", "作弊", "85"), "240201003": ("80", "75", "52")}


def grades_file(path):
    rows = [HEADER]
    for sid, name in STUDENTS.items():
        scores = SCORES.get(sid, ("80", "75", "85"))
        for (code, course, credits), score in zip((("AQ01", "数据结构", 4.0), ("AQ02", "电路原理", 4.0),
                                                   ("AQ03", "工程制图", 3.0)), scores):
            rows.append(f"{sid},{name},{S},{code},{course},{credits},必修,正常考试,{score},王老师,")
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    with temporary_vhost() as uri, temporary_databases() as db:
        cluster = Cluster(tmp_path_factory.mktemp("aq-lists"), uri, db, {
            "AQ_COUNSELOR_LISTS": "on", "AQ_COUNSELOR_LIST_SETTLE_SECONDS": "1",
            "AQ_COUNSELOR_LIST_TICK_SECONDS": "0.5"}, review=True)
        cluster.up()
        try:
            yield cluster
        finally:
            cluster.down()


def test_counselor_lists_go_to_the_people_responsible_and_the_history_tells_the_whole_story(cluster, tmp_path):
    cluster.import_sample_roster()
    cluster.upload(grades_file(tmp_path / "s.csv"))
    lists = lambda: cluster.json("advising", "lists", "--semester", S)      # noqa: E731

    # --- version 1, while the warning waits for review: the failed courses ---------------------------------
    [v1] = wait_for(lists, timeout=30, message="the cohort's first list")
    assert (v1["cohort"], v1["version"], v1["students"], v1["warned"], v1["status"]) == ("2024", 1, 3, 0,
                                                                                          "unconfirmed")
    shown = cluster.json("advising", "lists", v1["list_id"])
    assert [(e["student_id"], [c["result"] for c in e["failed_courses"]]) for e in shown["entries"]] == [
        ("240101001", ["40", "45", "50"]), ("240101002", ["作弊"]), ("240201003", ["52"])]
    sent_to = {r["staff_id"]: r["student_ids"] for r in shown["recipients"]}
    assert sent_to == {"C2024": ["240101001", "240101002", "240201003"],
                       "T1010": ["240101001", "240101002"], "T1011": ["240201003"],
                       "D机械": ["240101001", "240101002"], "D电气": ["240201003"]}

    def list_notices():
        found = [n for n in rpc.call("notification", "list_notices", None, ["sent"], None, ["counselor_list"])
                 if n["cause"] == f"counselor_list:{v1['list_id']}"]
        return found if len(found) == 10 else None        # five people, in-app and e-mail each

    with cluster.rpc() as rpc:
        notices = wait_for(list_notices, timeout=30, message="the list sent to its five recipients")
        texts = {n["recipient_id"]: rpc.call("notification", "notice", n["notice_id"])["text"]
                 for n in notices if n["channel"] == "email"}
    assert {(n["recipient_kind"], n["recipient_id"]) for n in notices} == {
        ("counselor", "C2024"), ("head_teacher", "T1010"), ("head_teacher", "T1011"),
        ("department_head", "D机械"), ("department_head", "D电气")}
    assert "郭志洋" in texts["C2024"] and f"aq advising confirm-list {v1['list_id']}" in texts["C2024"]
    assert "蔡涛" in texts["T1010"] and "郭志洋" not in texts["T1010"] and "confirm-list" not in texts["T1010"]
    assert "郭志洋" in texts["D电气"] and "蔡涛" not in texts["D电气"]

    # --- academic affairs release the warning: version 2 takes over the confirmation --------------------------
    cluster.confirm_pending()
    v2 = wait_for(lambda: [v for v in lists() if v["version"] == 2], timeout=30, message="version 2")[0]
    assert (v2["warned"], v2["students"]) == (1, 3)
    [confirmation] = cluster.json("tasks", "list", "--kind", "counselor_list")
    assert (confirmation["assignee"], confirmation["detail"]["list_id"], confirmation["status"]) == (
        "C2024", v2["list_id"], "open")
    refused = cluster.aq("advising", "confirm-list", v1["list_id"], "--by", "C2024", check=False)
    assert refused.returncode == 1 and v2["list_id"] in refused.stderr
    refused = cluster.aq("advising", "confirm-list", v2["list_id"], "--by", "T1010", check=False)
    assert refused.returncode == 1 and "C2024" in refused.stderr
    cluster.aq("advising", "confirm-list", v2["list_id"], "--by", "C2024", "--comment", "已与班主任核对")
    assert [(v["version"], v["status"], v["confirmed_by"]) for v in lists()] == [(1, "replaced", None),
                                                                                 (2, "confirmed", "C2024")]
    with cluster.rpc() as rpc:
        closed = rpc.call("advising", "get_task", confirmation["task_id"])
    assert (closed["status"], closed["closed_by"], closed["record"]["comment"]) == ("done", "C2024", "已与班主任核对")
    contacts = cluster.json("tasks", "list", "--kind", "parent_contact")
    assert sorted((t["assignee"], t["student_id"]) for t in contacts) == [
        ("T1010", "240101001"), ("T1010", "240101002"), ("T1011", "240201003")]

    # --- the student's history ---------------------------------------------------------------------------------
    history = cluster.json("warnings", "history", "240101001")
    assert history["missing"] == {} and [g["semester"] for g in history["semesters"]] == [S]
    events = history["semesters"][0]["events"]
    [issued] = [e for e in events if e["source"] == "warning" and e["what"] == "issued"]
    assert (issued["new_level"], issued["release_status"]) == ("yellow", "released") and issued["policy_version"]
    assert {r["rule"] for r in issued["reasons"]} == {"semester_failed_credits", "unresolved_failed_credits"}
    told = {(e["recipient_kind"], e["what"]) for e in events if e["source"] == "notice"}
    assert {("student", "warning_issued"), ("guardian", "warning_issued")} <= told
    assert {e["kind"] for e in events if e["source"] == "task" and e["what"] == "created"} == {"talk",
                                                                                              "parent_contact"}
    assert [(e["version"], e["status"]) for e in events if e["source"] == "list"] == [(1, "replaced"),
                                                                                     (2, "confirmed")]
    text = cluster.aq("warnings", "history", "240101001").stdout
    assert "学生 240101001 的学业预警记录" in text and "2024-2025学年第一学期" in text and "发布黄色预警" in text

    # --- notification away: the timeline says what is missing ------------------------------------------------
    cluster.kill("notification")
    partial = cluster.aq("warnings", "history", "240101001", "--timeout", "2", "--locale", "en")
    assert partial.returncode == 0
    assert "missing: notices and acknowledgements (notification:" in partial.stdout
    assert "yellow warning issued" in partial.stdout and "task talk" in partial.stdout
