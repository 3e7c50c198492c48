"""`aq warnings history`: the answers of warnings, notification and advising about one student merge into one
timeline by semester and time; a service that does not answer is named, and the rest is still shown."""
from aq_cli.timeline import gather, merge, render
from shared.rpc_client import ServiceUnavailable

S1, S2 = "2024-2025-1", "2024-2025-2"
REASON = {"rule": "semester_failed_credits", "level": "yellow", "measure": 11.0, "threshold": 8.0,
          "comparison": ">=", "courses": [{"course_code": "AQ01", "course_name": "数据结构", "credits": 4.0,
                                           "result": "40"}]}

WARNINGS = {"student_id": "s1", "standings": [{"semester": S1, "level": "none", "status": "lifted",
                                               "escalated": False, "policy_version": "default-1",
                                               "updated_at": "2025-03-01T02:00:00+00:00"}],
            "changes": [
                {"change_id": "c2", "semester": S1, "kind": "lifted", "old_level": "yellow", "new_level": "none",
                 "escalated": False, "reasons": [], "policy_version": "default-1", "correlation_id": "U-2",
                 "release_status": "released", "created_at": "2025-03-01T02:00:00+00:00",
                 "released_at": "2025-03-01T02:00:00+00:00"},
                {"change_id": "c1", "semester": S1, "kind": "issued", "old_level": "none", "new_level": "yellow",
                 "escalated": False, "reasons": [REASON], "policy_version": "default-1", "correlation_id": "U-1",
                 "release_status": "released", "created_at": "2025-01-20T01:00:00+00:00",
                 "released_at": "2025-01-21T03:00:00+00:00"},
                {"change_id": "c3", "semester": S2, "kind": "issued", "old_level": "none", "new_level": "orange",
                 "escalated": True, "reasons": [REASON], "policy_version": "default-2", "correlation_id": "U-3",
                 "release_status": "excluded", "decided_by": "A0001", "decision_note": "成绩录入错误",
                 "created_at": "2025-07-10T01:00:00+00:00", "decided_at": "2025-07-11T01:00:00+00:00"},
            ]}
NOTICES = {"student_id": "s1", "notices": [
    {"notice_id": "N-1", "cause": "c1", "kind": "warning_issued", "recipient_kind": "student", "recipient_id": "s1",
     "channel": "in_app", "status": "sent", "created_at": "2025-01-21T03:00:01+00:00",
     "sent_at": "2025-01-21T03:00:02+00:00"},
    {"notice_id": "N-2", "cause": "c1", "kind": "warning_issued", "recipient_kind": "student", "recipient_id": "s1",
     "channel": "email", "status": "failed", "created_at": "2025-01-21T03:00:01+00:00", "sent_at": None},
    {"notice_id": "N-9", "cause": "c-unknown", "kind": "warning_issued", "recipient_kind": "student",
     "recipient_id": "s1", "channel": "email", "status": "sent", "created_at": "2024-01-01T00:00:00+00:00"},
], "acknowledgements": [
    {"ack_id": "A-1", "cause": "c1", "recipient_kind": "guardian", "recipient_id": "guardian:s1", "semester": S1,
     "level": "yellow", "status": "acknowledged", "signer_name": "蔡父", "ack_channel": "email",
     "requested_at": "2025-01-21T03:00:01+00:00", "acknowledged_at": "2025-01-22T12:00:00+00:00",
     "expires_at": "2025-02-04T00:00:00+00:00", "overdue_at": None}]}
TASKS = {"student_id": "s1", "tasks": [
    {"task_id": "T-1", "kind": "talk", "assignee": "T1010", "semester": S1, "due": "2025-02-04", "status": "done",
     "note": "warning lifted", "created_at": "2025-01-21T03:00:03", "record": {"date": "2025-01-25",
                                                                              "discussion": "三门课不及格的原因"},
     "history": [{"at": "2025-02-01T01:00:00+00:00", "action": "reminded", "actor": None,
                  "detail": {"reminder": "due_soon"}},
                 {"at": "2025-02-02T01:00:00+00:00", "action": "closed", "actor": "T1010",
                  "detail": {"date": "2025-01-25"}}]}],
    "lists": [{"list_id": "CL-1", "semester": S1, "cohort": "2024", "version": 1, "status": "confirmed",
               "confirmed_by": "C2024", "created_at": "2025-01-21T03:01:00+00:00",
               "entry": {"level": "yellow", "failed_courses": [{"course_code": "AQ01"}]}}]}


def answering(*down):
    answers = {("warnings", "history"): WARNINGS, ("notification", "notices_for_student"): NOTICES,
               ("advising", "tasks_for_student"): TASKS}

    def call(service, method, student_id):
        assert student_id == "s1"
        if service in down:
            raise ServiceUnavailable(f"{service} did not answer {method} within 3s (is it running? `aq up`)")
        return answers[(service, method)]
    return call


def test_the_parts_merge_by_semester_in_time_order():
    timeline = merge("s1", *gather(answering(), "s1"))
    assert timeline["missing"] == {}
    assert [g["semester"] for g in timeline["semesters"]] == [S1, S2, "?"]
    s1 = [(e["source"], e["what"]) for e in timeline["semesters"][0]["events"]]
    assert s1 == [("warning", "issued"), ("warning", "released"), ("notice", "warning_issued"),
                  ("acknowledgement", "requested"), ("task", "created"), ("list", "listed"),
                  ("acknowledgement", "acknowledged"), ("task", "reminded"), ("task", "closed"),
                  ("warning", "lifted")]
    notice = timeline["semesters"][0]["events"][2]
    assert [(c["channel"], c["status"]) for c in notice["channels"]] == [("in_app", "sent"), ("email", "failed")]
    assert [(e["what"]) for e in timeline["semesters"][1]["events"]] == ["issued", "excluded"]
    assert [e["cause"] for e in timeline["semesters"][2]["events"]] == ["c-unknown"]   # its warning is unknown


def test_it_reads_in_chinese_and_english_with_reasons_policy_and_release():
    timeline = merge("s1", *gather(answering(), "s1"))
    zh = render(timeline, "zh")
    assert "学生 s1 的学业预警记录" in zh and "== 2024-2025学年第一学期 (2024-2025-1) ==" in zh
    assert "发布黄色预警 (本学期不及格学分 11 >= 8 [AQ01]; 策略 default-1; 已发布)" in zh
    assert "2025-01-20 09:00" in zh                                   # the college's time (UTC+8)
    assert "预警被排除（A0001：成绩录入错误）" in zh and "连续预警升级" in zh
    assert "家长已回执（签名：蔡父）" in zh and "in_app sent, email failed" in zh
    assert "任务 talk 已由 T1010 记录（2025-01-25）: 三门课不及格的原因" in zh
    assert "列入 2024 级学业困难学生名单 第 1 版（辅导员 C2024 已确认）; 黄色; 不及格：AQ01" in zh
    en = render(timeline, "en")
    assert "Warning history of student s1" in en and "yellow warning issued" in en
    assert "yellow warning issued (credits failed this semester 11 >= 8 [AQ01]" in en
    assert "guardian acknowledged (signed: 蔡父)" in en and "autumn 2024-2025 (2024-2025-1)" in en


def test_a_service_that_does_not_answer_is_named_and_the_rest_is_shown():
    answers, missing = gather(answering("notification"), "s1")
    assert set(missing) == {"notices"} and "notification" in missing["notices"]
    timeline = merge("s1", answers, missing)
    sources = {e["source"] for g in timeline["semesters"] for e in g["events"]}
    assert sources == {"warning", "task", "list"}
    assert "缺少：通知与回执（notification: notification did not answer" in render(timeline, "zh")
    nothing = merge("s1", *gather(answering("warnings", "notification", "advising"), "s1"))
    assert nothing["semesters"] == [] and len(nothing["missing"]) == 3
