"""Counselor lists (duties.md "Counselor", policy art. 4): who is on a cohort's list, who is sent which part, when a
new version is issued, the counselor's confirmation, and the parent contacts for students with academic problems.
Domain functions with plain data; the service layer on a real SQLite file."""
import json
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from services.advising import handlers, list_handlers, queries, tables
from services.advising.domain import lists
from shared.db import engine_for
from shared.messaging.unit_of_work import UnitOfWork
from shared.migrations import upgrade

S = "2024-2025-1"
TZ = ZoneInfo("Asia/Shanghai")
AT = datetime(2025, 1, 20, 9, 0, tzinfo=TZ)


def person(sid, class_name, major, cohort, head, counselor="C2024", dept="D机械", name=None):
    return {"student_id": sid, "name": name or f"学生{sid[-1]}", "class_name": class_name, "major": major,
            "cohort": cohort, "status": "enrolled", "head_teacher_id": head, "counselor_id": counselor,
            "department_head_id": dept, "vice_dean_id": "V0001"}


PEOPLE = {
    "s1": person("s1", "机械2401", "机械", 2024, "T1"),
    "s2": person("s2", "机械2401", "机械", 2024, "T1"),
    "s3": person("s3", "电气2401", "电气", 2024, "T2", dept="D电气"),
    "s4": person("s4", "机械2301", "机械", 2023, "T3", counselor="C2023"),
}


def record(sid, course, score, exam="regular", course_type="required", credits=4.0, semester=S):
    return {"student_id": sid, "semester": semester, "course_code": course, "course_name": f"课程{course}",
            "credits": credits, "course_type": course_type, "exam_type": exam, "score": score}


def warned(level="yellow"):
    return {"level": level, "escalated": False,
            "reasons": [{"rule": "gpa", "level": level, "measure": 1.7, "threshold": 2.0, "comparison": "<"}]}


# --- the domain ---------------------------------------------------------------------------------------------------

def test_a_failed_course_is_one_whose_best_result_of_the_semester_is_a_fail():
    found = lists.failed_courses([
        record("s1", "A", "45"), record("s1", "A", "52", exam="makeup"),          # still failed: best fail shown
        record("s1", "B", "40"), record("s1", "B", "60", exam="makeup"),          # repaired by the make-up
        record("s1", "C", "不及格", course_type="elective", credits=2.0),          # any course type counts
        record("s1", "D", ""), record("s1", "E", "缓考"),                          # no result yet: not failed
        record("s2", "A", "缺考"), record("s3", "A", "作弊"),
    ])
    assert [(c["course_code"], c["result"], c["credits"]) for c in found["s1"]] == [("A", "52", 4.0),
                                                                                  ("C", "不及格", 2.0)]
    assert [c["result"] for c in found["s2"]] == ["缺考"] and [c["result"] for c in found["s3"]] == ["作弊"]


def test_warned_and_failing_students_are_listed_per_cohort_by_class_and_the_unplaced_are_named():
    failed = {"s1": [{"course_code": "A", "course_name": "a", "credits": 4.0, "course_type": "required",
                      "result": "40"}], "s4": [], "s9": []}
    by_cohort, unplaced = lists.entries_by_cohort(failed, {"s3": warned(), "s1": warned("orange")}, PEOPLE)
    assert {c: [e["student_id"] for e in entries] for c, entries in by_cohort.items()} == {
        "2024": ["s1", "s3"], "2023": ["s4"]}
    s1 = by_cohort["2024"][0]
    assert (s1["level"], s1["failed_credits"], s1["class_name"]) == ("orange", 4.0, "机械2401")
    assert by_cohort["2024"][1]["level"] == "yellow" and by_cohort["2024"][1]["failed_courses"] == []
    assert unplaced == ["s9"]


def entry(sid):
    p = PEOPLE[sid]
    return {"student_id": sid, "class_name": p["class_name"], "major": p["major"]}


def test_the_counselor_sees_the_cohort_head_teachers_their_class_department_heads_their_major():
    got = {r.staff_id: (r.role, r.scope, r.student_ids, r.covering_for)
           for r in lists.recipients("2024", [entry("s1"), entry("s2"), entry("s3")], PEOPLE)}
    assert got == {"C2024": ("counselor", ("2024",), ("s1", "s2", "s3"), None),
                   "T1": ("head_teacher", ("机械2401",), ("s1", "s2"), None),
                   "T2": ("head_teacher", ("电气2401",), ("s3",), None),
                   "D机械": ("department_head", ("机械",), ("s1", "s2"), None),
                   "D电气": ("department_head", ("电气",), ("s3",), None)}


def test_a_vacant_post_falls_to_the_next_up_and_earlier_recipients_hear_their_students_are_off():
    people = {"s3": {**PEOPLE["s3"], "head_teacher_id": None, "department_head_id": None}}
    got = {r.staff_id: (r.role, r.covering_for, r.student_ids)
           for r in lists.recipients("2024", [entry("s3")], people,
                                     previous=[{"staff_id": "T1", "role": "head_teacher", "covering_for": None,
                                                "scope": ["机械2401"]}])}
    assert got == {"C2024": ("counselor", "head_teacher", ("s3",)),     # the counselor covers the class, sees all
                   "V0001": ("vice_dean", "department_head", ("s3",)),
                   "T1": ("head_teacher", None, ())}


def test_a_list_changes_only_when_its_entries_do():
    a = [{"student_id": "s1", "level": "yellow"}, {"student_id": "s2", "level": None}]
    assert lists.same_entries(a, list(reversed(a)))
    assert not lists.same_entries(a, [{"student_id": "s1", "level": "orange"}, a[1]])
    assert lists.changes(a, [a[1], {"student_id": "s3"}]) == {"added": ["s3"], "removed": ["s1"]}


def test_parent_contacts_are_due_by_the_semester_end_or_14_days_after_a_late_list():
    assert lists.parent_contact_due(AT, date(2025, 3, 1)) == date(2025, 3, 1)
    assert lists.parent_contact_due(AT, date(2025, 1, 26)) == date(2025, 2, 3)     # ends within 14 days
    assert lists.parent_contact_due(AT, None) == date(2025, 2, 3)
    specs = lists.parent_contacts(S, [{"student_id": "s1", "level": None, "failed_courses": []},
                                      {"student_id": "s2", "level": "yellow", "failed_courses": []}],
                                  PEOPLE, AT, None, already_contacting={"s2"})
    assert [(s.kind, s.assignee, s.student_id, s.cause) for s in specs] == [
        ("parent_contact", "T1", "s1", f"parent_contact:{S}:s1")]


# --- the service layer ---------------------------------------------------------------------------------------------

@pytest.fixture
def engine(sqlite_url):
    upgrade("advising", sqlite_url)
    return engine_for("advising", sqlite_url)


def run(engine, func, *args, correlation="U-1", **kwargs):
    with UnitOfWork(engine, "advising", tables.MESSAGING, correlation_id=correlation) as uow:
        return func(uow, *args, **kwargs)


def announced(engine, type_name):
    outbox = tables.MESSAGING[0]
    with engine.connect() as conn:
        bodies = conn.execute(select(outbox.c.body).where(outbox.c.type == type_name).order_by(outbox.c.seq)).scalars()
        return [json.loads(b)["data"] for b in bodies]


def issue(engine, now=AT, settle=0):
    """What the lists timer does: every settled semester's lists."""
    later = datetime.now(timezone.utc) + timedelta(minutes=1)
    with engine.connect() as conn:
        marks = list_handlers.settled_marks(conn, later, settle)
    issued = []
    for mark in marks:
        with engine.connect() as conn:
            failed, warned_ = list_handlers.candidates(conn, mark["semester"])
        people = {sid: PEOPLE[sid] for sid in set(failed) | set(warned_) if sid in PEOPLE}
        issued += run(engine, list_handlers.issue_lists, mark, failed, warned_, people, None, now,
                      correlation=mark["correlation_id"])
    return issued


def change(sid, kind="issued", new="yellow", old="none", change_id=None):
    return {"change_id": change_id or f"chg-{sid}-{new}", "student_id": sid, "semester": S, "kind": kind,
            "old_level": old, "new_level": new, "escalated": False, "policy_version": "default-1",
            "reasons": [] if new == "none" else [{"rule": "semester_failed_credits", "level": new, "measure": 8.0,
                                                  "threshold": 8.0, "comparison": ">=", "courses": []}]}


def test_an_upload_issues_each_cohorts_list_once_with_its_confirmation_and_parent_contacts(engine):
    run(engine, list_handlers.record_results, [record("s1", "A", "40"), record("s2", "A", "80"),
                                               record("s4", "B", "缺考"), record("s3", "A", "75")])
    run(engine, list_handlers.record_warnings, [change("s3")], AT)
    issued = issue(engine)
    assert sorted((r["cohort"], r["version"], r["students"], r["warned"], r["failed"]) for r in issued) == [
        ("2023", 1, 1, 0, 1), ("2024", 1, 2, 1, 1)]
    assert issue(engine) == []                      # nothing new: no second version
    [c2024] = [e for e in announced(engine, "advising.counselor_list_issued") if e["cohort"] == "2024"]
    assert [e["student_id"] for e in c2024["entries"]] == ["s1", "s3"]
    assert (c2024["confirmer"], c2024["added"], c2024["previous_version"]) == ("C2024", ["s1", "s3"], None)
    assert {r["staff_id"]: r["student_ids"] for r in c2024["recipients"]}["T2"] == ["s3"]
    with engine.connect() as conn:
        confirm = queries.list_tasks(conn, kind="counselor_list", semester=S)
        contacts = queries.list_tasks(conn, kind="parent_contact")
    assert sorted((t["assignee"], t["cohort"], t["detail"]["version"]) for t in confirm) == [
        ("C2023", "2023", 1), ("C2024", "2024", 1)]
    assert [t["due"] for t in confirm] == [str(AT.date() + timedelta(days=7))] * 2
    assert sorted((t["assignee"], t["student_id"]) for t in contacts) == [("T1", "s1"), ("T2", "s3"), ("T3", "s4")]
    tasks_events = [t for e in announced(engine, "advising.tasks_changed") for t in e["tasks"]]
    assert sorted(t["kind"] for t in tasks_events) == ["counselor_list"] * 2 + ["parent_contact"] * 3


def test_a_change_makes_a_new_version_that_takes_over_the_unconfirmed_task_and_only_it_is_confirmed(engine):
    run(engine, list_handlers.record_results, [record("s1", "A", "40"), record("s2", "A", "45")])
    [v1] = issue(engine)
    run(engine, list_handlers.record_results, [record("s2", "A", "70", exam="makeup")], correlation="U-2")
    [v2] = issue(engine)
    assert (v2["version"], v2["students"], v2["task_id"], v2["correlation_id"]) == (2, 1, v1["task_id"], "U-2")
    event = announced(engine, "advising.counselor_list_issued")[-1]
    assert (event["removed"], event["previous_version"]) == (["s2"], 1)
    assert {r["staff_id"]: r["student_ids"] for r in event["recipients"]}["T1"] == ["s1"]

    refused = run(engine, list_handlers.confirm_list, v1["list_id"], "C2024")
    assert refused["status"] == "rejected" and v2["list_id"] in refused["message"]
    assert "C2024" in run(engine, list_handlers.confirm_list, v2["list_id"], "T1")["message"]
    closing = run(engine, handlers.close_task, v1["task_id"], "C2024", {"date": "2025-01-21"})
    assert closing["status"] == "rejected" and "confirm-list" in closing["message"]

    done = run(engine, list_handlers.confirm_list, v2["list_id"], "C2024", "已与班主任核对", now=AT)
    assert (done["status"], done["version"]) == ("confirmed", 2)
    assert run(engine, list_handlers.confirm_list, v2["list_id"], "C2024")["message"].startswith(
        f"list {v2['list_id']} was already confirmed by C2024")
    with engine.connect() as conn:
        task = queries.get_task(conn, v1["task_id"])
        versions = queries.list_lists(conn, semester=S)
    assert (task["status"], task["record"]["version"], task["record"]["comment"]) == ("done", 2, "已与班主任核对")
    assert [h["action"] for h in task["history"]] == ["replaced", "closed"]
    assert [(v["version"], v["status"]) for v in versions] == [(1, "replaced"), (2, "confirmed")]
    [record_made] = announced(engine, "advising.records_changed")[-1]["records"]
    assert (record_made["kind"], record_made["cohort"]) == ("counselor_list", "2024")


def test_a_list_that_becomes_empty_is_issued_to_whoever_had_it_and_a_touch_during_building_waits(engine):
    run(engine, list_handlers.record_results, [record("s1", "A", "40")])
    [v1] = issue(engine)
    run(engine, list_handlers.confirm_list, v1["list_id"], "C2024")
    run(engine, list_handlers.record_results, [record("s1", "A", "合格", exam="makeup")])
    with engine.connect() as conn:
        [mark] = list_handlers.settled_marks(conn, datetime.now(timezone.utc) + timedelta(seconds=1), 0)
        failed, warned_ = list_handlers.candidates(conn, S)
    run(engine, list_handlers.touch, [S], datetime.now(timezone.utc) + timedelta(seconds=5))   # news meanwhile
    assert run(engine, list_handlers.issue_lists, mark, failed, warned_, {}, None, AT) == []
    [v2] = issue(engine)
    assert (v2["version"], v2["students"]) == (2, 0)
    event = announced(engine, "advising.counselor_list_issued")[-1]
    assert event["removed"] == ["s1"] and {r["staff_id"] for r in event["recipients"]} == {"C2024", "T1", "D机械"}
    assert all(r["student_ids"] == [] for r in event["recipients"])
    with engine.connect() as conn:
        [open_confirmation] = queries.list_tasks(conn, kind="counselor_list", status="open")
    assert open_confirmation["detail"]["list_id"] == v2["list_id"]     # the empty version is confirmed too


def test_lifting_a_warning_leaves_the_semester_parent_contact_unmarked_and_late_changes_lose(engine):
    run(engine, list_handlers.record_results, [record("s1", "A", "40")])
    issue(engine)
    lifted = change("s1", kind="lifted", old="yellow", new="none")
    run(engine, handlers.on_warning_changes, [lifted],
        {"s1": handlers.responsibles_from({"s1": PEOPLE["s1"]})["s1"]}, AT)
    with engine.connect() as conn:
        [contact] = queries.list_tasks(conn, kind="parent_contact")
    assert contact["note"] is None
    run(engine, list_handlers.record_warnings, [change("s1", new="red")], AT)
    run(engine, list_handlers.record_warnings, [change("s1", new="yellow")], AT - timedelta(hours=1))
    with engine.connect() as conn:
        assert list_handlers.candidates(conn, S)[1]["s1"]["level"] == "red"


def test_a_students_tasks_and_lists_for_the_timeline(engine):
    run(engine, list_handlers.record_results, [record("s1", "A", "40")])
    run(engine, list_handlers.record_warnings, [change("s1")], AT)
    issue(engine)
    with engine.connect() as conn:
        mine = queries.tasks_for_student(conn, "s1")
        other = queries.tasks_for_student(conn, "s2")
    assert [t["kind"] for t in mine["tasks"]] == ["parent_contact"] and mine["tasks"][0]["created_at"]
    [on_list] = mine["lists"]
    assert (on_list["cohort"], on_list["version"], on_list["status"], on_list["entry"]["level"]) == (
        "2024", 1, "unconfirmed", "yellow")
    assert other == {"student_id": "s2", "tasks": [], "lists": []}


def test_a_semesters_results_are_merged_batch_after_batch_and_a_correction_replaces_its_record(engine):
    """Results are kept one row per student and semester: later batches lay their records over it."""
    def failed_now():
        with engine.connect() as conn:
            return {sid: [(c["course_code"], c["result"]) for c in courses]
                    for sid, courses in list_handlers.candidates(conn, S)[0].items()}
    run(engine, list_handlers.record_results, [record("s1", "A", "40"), record("s1", "B", "80"),
                                               record("s2", "A", "30")])
    assert failed_now() == {"s1": [("A", "40")], "s2": [("A", "30")]}
    run(engine, list_handlers.record_results, [record("s1", "A", "70", exam="makeup"),
                                               record("s2", "A", "50", exam="makeup")], correlation="U-2")
    assert failed_now() == {"s2": [("A", "50")]}                     # s1 repaired by the make-up
    run(engine, list_handlers.record_results, [record("s1", "A", "55", exam="makeup")], correlation="U-3")
    assert failed_now() == {"s1": [("A", "55")], "s2": [("A", "50")]}   # the corrected make-up fails again
    run(engine, list_handlers.record_results, [record("s1", "B", "20"), record("s2", "A", "65", exam="makeup")],
        correlation="U-4")
    assert failed_now() == {"s1": [("A", "55"), ("B", "20")]}
    with engine.connect() as conn:
        [kept] = conn.execute(select(tables.semester_records.c.records).where(
            tables.semester_records.c.student_id == "s1")).scalars().all()
    assert [(code, exam, score) for code, exam, _, _, score, _ in json.loads(kept)] == [
        ("A", "regular", "40"), ("B", "regular", "20"), ("A", "makeup", "55")]   # corrections keep their place


def test_a_record_whose_score_cannot_be_read_is_left_out_and_the_rest_of_the_batch_is_kept(engine, caplog):
    run(engine, list_handlers.record_results, [record("s1", "A", "40")])
    kept = run(engine, list_handlers.record_results, [record("s1", "A", "??"), record("s1", "B", "30")])
    assert kept == 1 and "unreadable score '??'" in caplog.text
    with engine.connect() as conn:
        failed, _ = list_handlers.candidates(conn, S)
    assert [(c["course_code"], c["result"]) for c in failed["s1"]] == [("A", "40"), ("B", "30")]
