"""The sample college through the whole system: six services as separate OS processes, real RabbitMQ and
PostgreSQL, the 14 uploads in order (policy.md, kpis.md; expected results in demo/sample_college)."""
import csv
import json
from collections import Counter

import pytest

from tests.support.broker import temporary_vhost
from tests.support.cluster import SAMPLE, Cluster, sample_uploads
from tests.support.postgres import temporary_databases

pytestmark = [pytest.mark.real, pytest.mark.e2e]

EXPECTED = json.loads((SAMPLE / "expected.json").read_text())

# policy.md §6, written out again here so the test does not trust the code it checks.
TOLD = {
    ("issued", "yellow"): ("student", "guardian"),
    ("issued", "orange"): ("student", "guardian", "counselor"),
    ("issued", "red"): ("student", "guardian", "department_head"),
    "downgraded": ("student", "guardian", "head_teacher"),
    "lifted": ("student", "guardian", "head_teacher"),
}
CHANNELS = {"student": ("in_app", "email"), "guardian": ("email",)}
STAFF_CHANNELS = ("in_app", "email")
TASKS = {"yellow": {"talk": 14}, "orange": {"talk": 7, "parent_contact": 14},
         "red": {"talk": 7, "parent_contact": 7, "counselor_talk": 7}}


def told(change):
    if change["kind"] in ("issued", "escalated"):
        return TOLD[("issued", change["new_level"])]
    return TOLD[change["kind"]]


def read_roster():
    rows = lambda name: list(csv.DictReader(open(SAMPLE / "csv" / "roster" / name, encoding="utf-8")))
    classes = {r["班级"]: r for r in rows("classes.csv")}
    students = {r["学号"]: classes[r["班级"]] for r in rows("students.csv")}
    staff = rows("staff.csv")
    counselor = {r["负责范围"]: r["工号"] for r in staff if r["角色"] == "辅导员"}
    dept_head = {r["负责范围"]: r["工号"] for r in staff if r["角色"] == "系主任"}
    return {sid: {"head_teacher": c["班主任工号"], "counselor": counselor[c["年级"]], "department_head": dept_head[c["专业"]]}
            for sid, c in students.items()}


def run_sample(cluster: Cluster, disturb=None) -> dict:
    """Upload the 14 files in order; ``disturb(index, upload_id)`` may kill services mid-cascade. With review on,
    academic affairs confirm each upload's computed list before the next upload."""
    cluster.import_sample_roster()
    changes_by_upload = []
    for index, path in enumerate(sample_uploads()):
        upload_id = cluster.upload(path, wait=disturb is None)
        if disturb is not None:
            disturb(index, upload_id)
            cluster.aq("wait", upload_id, "--timeout", "300")
        if cluster.review:
            with cluster.rpc() as rpc:
                assert rpc.call("warnings", "trace", upload_id)["changes"] == [], "announced before review"
            cluster.confirm_pending()
        with cluster.rpc() as rpc:
            changes_by_upload.append(rpc.call("warnings", "trace", upload_id)["changes"])
    return snapshot(cluster, changes_by_upload)


def snapshot(cluster: Cluster, changes_by_upload) -> dict:
    """Everything the cascade produced, with generated ids replaced by what they stand for, so two runs
    compare equal exactly when they did the same things."""
    with cluster.rpc() as rpc:
        warnings = rpc.call("warnings", "list_warnings", None, "all")
        notices = rpc.call("notification", "list_notices")
        tasks = rpc.call("advising", "list_tasks", None, "all")
        flags = rpc.call("assessment", "list_flags", None)
    change_of = {c["change_id"]: (c["kind"], c["student_id"], c["semester"], c["old_level"], c["new_level"])
                 for upload in changes_by_upload for c in upload}

    def cause(text):
        kind, _, rest = text.partition(":")
        if text in change_of:
            return "|".join(change_of[text])
        if rest in change_of:
            return kind + ":" + "|".join(change_of[rest])
        return text

    return {
        "changes_by_upload": [sorted(change_of[c["change_id"]] for c in upload) for upload in changes_by_upload],
        "change_ids": change_of,
        "warnings": sorted((w["student_id"], w["semester"], w["level"], w["status"], w["escalated"], tuple(w["rules"]))
                           for w in warnings),
        # What the cascade told people; "a list waits for review" belongs to the review process (runs with review
        # off have none), and is checked on its own below.
        "notices": sorted((cause(n["cause"]), n["recipient_kind"], n["recipient_id"], n["channel"], n["kind"], n["status"])
                          for n in notices if n["kind"] != "review_pending"),
        "tasks": sorted((cause(t["cause"]), t["kind"], t["assignee"], t["student_id"] or "", t["course_code"] or "")
                        for t in tasks),
        "flags": sorted(f"{f['semester']}|{f['course_code']}|{f['teacher']}" for f in flags),
        "raw_notices": notices,
        "raw_tasks": tasks,
    }


@pytest.fixture(scope="module")
def undisturbed(tmp_path_factory):
    """The sample college as the college runs it: review before release on (the policy's default), every computed
    list confirmed by academic affairs. The runs it is compared with below have review off: the same changes must
    be announced, and the same notices and tasks follow."""
    with temporary_vhost() as uri, temporary_databases() as db:
        cluster = Cluster(tmp_path_factory.mktemp("aq-home"), uri, db, review=True)
        cluster.up()
        try:
            yield cluster, run_sample(cluster)
        finally:
            cluster.down()


def test_final_warnings_equal_the_expected_levels(undisturbed):
    _, result = undisturbed
    active = {f"{s}|{sem}": {"level": level, "rules": list(rules), "escalated": esc}
              for s, sem, level, status, esc, rules in result["warnings"] if status == "active"}
    assert active == EXPECTED["levels"]


def test_course_flags_equal_the_expected_flags(undisturbed):
    _, result = undisturbed
    assert result["flags"] == sorted(EXPECTED["flags"])


def test_every_upload_announces_exactly_the_expected_changes(undisturbed):
    _, result = undisturbed
    expected = [tuple(e) for e in EXPECTED["event_list"]]
    position = 0
    for got in result["changes_by_upload"]:
        want = sorted(expected[position:position + len(got)])
        assert got == want
        position += len(got)
    assert position == len(expected)
    assert Counter(c[0] for c in result["change_ids"].values()) == Counter(
        {k: v for k, v in EXPECTED["events"].items() if v})


def test_every_change_told_the_people_policy_names_once_on_each_channel(undisturbed):
    cluster, result = undisturbed
    roster = read_roster()
    expected = []
    for change_id, (kind, student, semester, old, new) in result["change_ids"].items():
        for recipient in told({"kind": kind, "new_level": new}):
            if recipient == "student":
                rid = student
            elif recipient == "guardian":
                rid = f"guardian:{student}"
            else:
                rid = roster[student][recipient]
            for channel in CHANNELS.get(recipient, STAFF_CHANNELS):
                expected.append(((kind, student, semester, old, new), recipient, rid, channel))
    got = [(tuple(n[0].split("|")), n[1], n[2], n[3]) for n in result["notices"] if not n[0].startswith("flag:")]
    assert sorted(got) == sorted(expected)
    assert {n[5] for n in result["notices"]} == {"sent"}
    emails = [n for n in result["raw_notices"] if n["channel"] == "email"]
    assert len(cluster.mailbox()) == len(emails)


def test_academic_affairs_are_told_of_every_list_waiting_for_review(undisturbed):
    _, result = undisturbed
    told = [n for n in result["raw_notices"] if n["kind"] == "review_pending"]
    lists = {n["cause"] for n in told}
    assert lists, "no academic-affairs notice for a list waiting for review"
    assert sorted((n["recipient_id"], n["channel"]) for n in told) == sorted(
        (staff, channel) for _ in lists for staff, channel in (("A0001", "in_app"), ("A0001", "email")))


def test_every_flag_told_its_department_head_or_the_vice_dean(undisturbed):
    _, result = undisturbed
    flag_notices = [n for n in result["raw_notices"] if n["cause"].startswith("flag:")]
    offerings_ever_flagged = {n["cause"] for n in flag_notices}
    assert len(flag_notices) == 2 * len(offerings_ever_flagged)     # in-app and e-mail, once each
    assert {n["recipient_kind"] for n in flag_notices} == {"department_head", "vice_dean"}
    reviews = [t for t in result["raw_tasks"] if t["kind"] == "course_review"]
    assert len(reviews) == len(offerings_ever_flagged)


def test_every_warning_change_created_the_tasks_policy_names_once(undisturbed):
    _, result = undisturbed
    roster = read_roster()
    expected = Counter()
    for kind, student, semester, old, new in result["change_ids"].values():
        if kind in ("issued", "escalated"):
            for task_kind in TASKS[new]:
                owner = roster[student]["counselor" if task_kind == "counselor_talk" else "head_teacher"]
                expected[(task_kind, owner, student)] += 1
    got = Counter((t["kind"], t["assignee"], t["student_id"]) for t in result["raw_tasks"]
                  if t["kind"] in ("talk", "parent_contact", "counselor_talk"))
    assert got == expected
    lifted = {(s, sem) for kind, s, sem, *_ in result["change_ids"].values() if kind == "lifted"}
    for task in result["raw_tasks"]:
        if (task["student_id"], task["semester"]) in lifted and task["kind"] == "talk" and task["status"] == "open":
            assert task["note"] == "warning lifted"


def test_cheating_records_create_integrity_talks(undisturbed):
    _, result = undisturbed
    cheating = {(r["学号"], r["学年学期"], r["课程代码"]) for path in sample_uploads()
                for r in csv.DictReader(open(path, encoding="utf-8")) if r["成绩"].strip() == "作弊"}
    got = {(t["student_id"], t["semester"], t["course_code"]) for t in result["raw_tasks"] if t["kind"] == "integrity_talk"}
    assert got == cheating


def test_uploading_the_same_file_again_changes_nothing(undisturbed):
    cluster, before = undisturbed
    out = cluster.aq("grades", "upload", str(sample_uploads()[4]), "--wait")
    assert "0 new, 0 corrected" in out.stderr
    after = snapshot(cluster, [])
    for key in ("warnings", "flags", "raw_notices", "raw_tasks"):
        assert after[key] == before[key]


def test_a_file_with_bad_rows_is_rejected_whole_naming_every_bad_row(undisturbed, tmp_path):
    cluster, _ = undisturbed
    good = sample_uploads()[0].read_text(encoding="utf-8").splitlines()
    header, first = good[0], good[1]
    bad_score = first.replace(",70,", ",101,", 1) if ",70," in first else first.rsplit(",", 3)[0] + ",101,x,"
    rows = [header, first.replace("2021-2022-1", "2025-2026-1"), bad_score.replace("2021-2022-1", "2025-2026-1"),
            "999999999,无此人,2025-2026-1,X01,测试,2.0,必修,正常考试,80,某老师,"]
    path = tmp_path / "bad.csv"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    with cluster.rpc() as rpc:
        records_before = rpc.call("grades", "summary")["records"]
    result = cluster.aq("grades", "upload", str(path), "--wait", check=False)
    assert result.returncode == 1
    assert "bad.csv" in result.stderr and "nothing was stored" in result.stderr
    assert "999999999" in result.stderr            # the unknown student's row is named
    assert "101" in result.stderr                  # and the bad score's
    with cluster.rpc() as rpc:
        assert rpc.call("grades", "summary")["records"] == records_before


def test_trace_shows_the_cascade_as_a_settled_tree(undisturbed):
    cluster, _ = undisturbed
    with cluster.rpc() as rpc:
        flags = rpc.call("assessment", "list_flags", None)
    out = cluster.aq("trace", flags[0]["upload_id"]).stdout
    assert "grades.records_stored" in out and "warnings.changed" in out
    assert "assessment.course_flags_changed" in out and "settled" in out


def test_a_service_killed_mid_cascade_loses_and_doubles_nothing(undisturbed, tmp_path):
    _, calm = undisturbed
    victims = {2: "warnings", 4: "notification", 6: "advising", 8: "assessment", 10: "warnings", 12: "notification"}

    with temporary_vhost() as uri, temporary_databases() as db:
        cluster = Cluster(tmp_path / "home", uri, db, {"AQ_DELIVERY_LEASE_SECONDS": "2"})
        cluster.up()

        def disturb(index, upload_id):
            if index in victims:
                cluster.kill(victims[index])      # SIGKILL while the upload's events are in flight
                cluster.up()                      # `aq up` restarts what died

        try:
            stormy = run_sample(cluster, disturb)
        finally:
            cluster.down()
    for key in ("changes_by_upload", "warnings", "notices", "tasks", "flags"):
        assert stormy[key] == calm[key], key


def test_two_instances_of_listening_services_split_the_work_without_doubling_effects(undisturbed, tmp_path):
    _, calm = undisturbed
    with temporary_vhost() as uri, temporary_databases() as db:
        cluster = Cluster(tmp_path / "home", uri, db)
        cluster.up(replicas="warnings=2,notification=2,advising=2")
        try:
            scaled = run_sample(cluster)
        finally:
            cluster.down()
        logs = {p.stem: p.read_text(errors="replace") for p in (tmp_path / "home" / "logs").glob("*.log")}
    for key in ("changes_by_upload", "warnings", "notices", "tasks", "flags"):
        assert scaled[key] == calm[key], key
    for instance in ("warnings", "warnings@2", "notification", "notification@2", "advising", "advising@2"):
        assert "handled " in logs[instance], f"{instance} handled nothing: the work was not shared"
