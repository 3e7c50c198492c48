"""A counselor list (advising.counselor_list_issued) becomes one notice per recipient carrying only that recipient's
students, in Chinese or English; a student's notices and acknowledgements are found for the warning timeline."""
from datetime import datetime, timezone

from contracts.events import CounselorListIssuedSchema
from services.notification import queries, tables
from services.notification.domain.lists import notices_for_counselor_list
from services.notification.domain.rendering import render
from shared.db import engine_for
from shared.migrations import upgrade


def entry(sid, name, class_name, level=None, courses=()):
    return {"student_id": sid, "name": name, "class_name": class_name, "major": "机械", "status": "enrolled",
            "level": level, "escalated": False,
            "reasons": [{"rule": "gpa", "level": level, "measure": 1.7, "threshold": 2.0, "comparison": "<"}]
            if level else [],
            "failed_courses": [{"course_code": c, "course_name": "数据结构", "credits": 4.0, "course_type": "required",
                                "result": "45"} for c in courses],
            "failed_credits": 4.0 * len(courses)}


LIST = {
    "list_id": "CL-abc", "semester": "2024-2025-1", "cohort": "2024", "version": 2, "previous_version": 1,
    "confirmer": "C2024", "confirm_due": "2025-01-27", "task_id": "T-1", "students": 2, "warned": 1, "failed": 1,
    "added": ["s2"], "removed": ["s9"],
    "entries": [entry("s1", "蔡涛", "机械2401", courses=["AQ01"]), entry("s2", "吴萱英", "机械2402", level="yellow")],
    "recipients": [
        {"staff_id": "C2024", "role": "counselor", "covering_for": None, "scope": ["2024"],
         "student_ids": ["s1", "s2"]},
        {"staff_id": "T1", "role": "head_teacher", "covering_for": None, "scope": ["机械2401"], "student_ids": ["s1"]},
        {"staff_id": "T9", "role": "head_teacher", "covering_for": None, "scope": ["机械2409"], "student_ids": []},
    ],
}


def test_the_event_validates_against_its_contract():
    assert CounselorListIssuedSchema().validate(LIST) == {}


def test_each_recipient_is_sent_only_their_students_and_only_the_counselor_is_asked_to_confirm():
    specs = {s.recipient_id: s for s in notices_for_counselor_list(LIST)}
    assert {k: (s.recipient_kind, s.cause) for k, s in specs.items()} == {
        "C2024": ("counselor", "counselor_list:CL-abc"), "T1": ("head_teacher", "counselor_list:CL-abc"),
        "T9": ("head_teacher", "counselor_list:CL-abc")}
    counselor, head, gone = (render(specs[k]) for k in ("C2024", "T1", "T9"))
    assert "2 人" in counselor.subject and "第 2 版" in counselor.subject
    assert "蔡涛" in counselor.text and "吴萱英" in counselor.text and "黄色预警" in counselor.text
    assert "aq advising confirm-list CL-abc" in counselor.text and "2025-01-27" in counselor.text
    assert "新增 1 人，移出 1 人" in counselor.text
    assert "蔡涛" in head.text and "吴萱英" not in head.text and "AQ01 数据结构（45）" in head.text
    assert "confirm-list" not in head.text and "联系名单上学生的家长" in head.text
    assert "都不在名单上" in gone.text and "蔡涛" not in gone.text
    assert "<table" in counselor.html and "吴萱英" not in head.html


def test_the_list_reads_in_english_too():
    [counselor] = [s for s in notices_for_counselor_list(LIST) if s.recipient_id == "C2024"]
    english = render(counselor, "en")
    assert english.subject.startswith("[Students with academic problems]") and "cohort 2024" in english.subject
    assert "yellow warning" in english.text and "1 failed course(s), 4 credits" in english.text


def test_a_students_notices_include_staff_told_of_the_same_change_and_the_acknowledgements(sqlite_url):
    upgrade("notification", sqlite_url)
    engine = engine_for("notification", sqlite_url)
    now = datetime(2025, 1, 20, 1, 0, tzinfo=timezone.utc)

    def notice(notice_id, cause, kind, recipient_kind, recipient_id):
        return {"notice_id": notice_id, "cause": cause, "kind": kind, "recipient_kind": recipient_kind,
                "recipient_id": recipient_id, "channel": "email", "subject": "s", "text": "t", "html": "h",
                "requires_acknowledgement": False, "status": "sent", "attempts": 1, "correlation_id": "U-1",
                "event_id": "E-1", "created_at": now}

    with engine.begin() as conn:
        conn.execute(tables.notices.insert(), [
            notice("N-1", "chg-1", "warning_issued", "student", "s1"),
            notice("N-2", "chg-1", "warning_formal", "guardian", "guardian:s1"),
            notice("N-3", "chg-1", "warning_staff", "counselor", "C2024"),
            notice("N-4", "chg-2", "warning_issued", "student", "s2"),
            notice("N-5", "counselor_list:CL-abc", "counselor_list", "counselor", "C2024")])
        conn.execute(tables.acknowledgements.insert().values(
            ack_id="A-1", cause="chg-1", recipient_kind="guardian", recipient_id="guardian:s1", student_id="s1",
            semester="2024-2025-1", level="orange", context="{}", status="acknowledged", requested_at=now,
            expires_at=now, opened_count=1, acknowledged_at=now, signer_name="蔡父", correlation_id="U-1"))
    with engine.connect() as conn:
        found = queries.notices_for_student(conn, "s1")
    assert sorted(n["notice_id"] for n in found["notices"]) == ["N-1", "N-2", "N-3"]
    [ack] = found["acknowledgements"]
    assert (ack["status"], ack["signer_name"], ack["recipient_kind"]) == ("acknowledged", "蔡父", "guardian")
