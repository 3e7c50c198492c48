"""The issue-#4 workflow through the JSON API (werkzeug's client, the route table, the services stood in for):
policy check and what-if (JSON and multipart), the pending lists, confirming and excluding in one's own staff id,
installing a policy, a student's history within one's scope (merged by aq_cli/timeline.py), and counselor lists
seen whole or in part; every read of personal data audited."""
from __future__ import annotations

import base64
import io
import json

import pytest

from services.warnings.domain.policy import DEFAULT_POLICY_PATH
from tests.unit.gateway.harness import GatewayApp

POLICY = DEFAULT_POLICY_PATH.read_text(encoding="utf-8")


@pytest.fixture
def app(tmp_path):
    app = GatewayApp(tmp_path)
    app.add_role_users()
    return app


def as_user(app, username):
    client = app.client()
    csrf = app.sign_in(client, username)
    return client, {"X-CSRF-Token": csrf}


def audited(app, action):
    return [(r["actor"], json.loads(r["subject"]), r["outcome"]) for r in app.audit_rows() if r["action"] == action]


# --- policies -----------------------------------------------------------------------------------------------------

def test_checking_a_policy_says_its_version_and_rules_or_what_is_wrong_where(app):
    client, csrf = as_user(app, "a0001")
    ok = client.post("/api/policies/check", json={"policy_text": POLICY}, headers=csrf)
    assert ok.status_code == 200
    assert ok.get_json()["version"] == "default-1" and "gpa" in ok.get_json()["rules"]
    bad = client.post("/api/policies/check", headers=csrf, json={
        "filename": "college-2.yml", "content_b64": _b64(POLICY.replace("gpa:", "no_such_rule:"))})
    assert bad.status_code == 422
    problem = bad.get_json()["errors"][0]
    assert problem["field"] == "policy_text" and problem["reason"].startswith("college-2.yml:")
    assert "no_such_rule" in problem["reason"]


def test_a_policy_is_sent_once_as_text_or_as_a_file_and_a_file_must_be_utf8(app):
    client, csrf = as_user(app, "a0001")
    both = client.post("/api/policies/check", headers=csrf,
                       json={"policy_text": POLICY, "filename": "p.yml", "content_b64": _b64(POLICY)})
    neither = client.post("/api/policies/check", headers=csrf, json={})
    latin = client.post("/api/policies/check", headers=csrf,
                        json={"filename": "p.yml", "content_b64": _b64("version: 'é'", "latin-1")})
    assert both.status_code == neither.status_code == latin.status_code == 422
    assert {p["field"] for p in both.get_json()["errors"]} == {"policy_text"}
    assert "UTF-8" in latin.get_json()["errors"][0]["reason"]


def test_what_if_takes_a_multipart_file_and_reports_the_comparison_audited_without_the_text(app):
    client, csrf = as_user(app, "v0001")
    answer = client.post("/api/policies/what-if", headers=csrf, content_type="multipart/form-data",
                         data={"file": (io.BytesIO(POLICY.encode("utf-8")), "lower.yml"),
                               "semester": "2023-2024-1"})
    assert answer.status_code == 200, answer.get_json()
    body = answer.get_json()
    assert body["by_kind"]["total"] == 1 and body["by_level"]["yellow"]["difference"] == 1
    assert body["changes"][0]["name"] == "张三" and body["by_class"]["机械2101"]["issued"] == 1
    sent = app.services.called("warnings", "what_if")[0]
    assert sent["policy_text"] == POLICY and sent["source"] == "lower.yml" and sent["semester"] == "2023-2024-1"
    [(actor, subject, outcome)] = audited(app, "read:policy.what_if")
    assert actor == "user:v0001" and subject == {"candidate_policy": "lower-1", "semester": "2023-2024-1",
                                                 "students": 1}


def test_a_policy_the_service_cannot_use_is_422_with_its_reason(app):
    client, csrf = as_user(app, "a0001")
    answer = client.post("/api/policies/what-if", headers=csrf, json={"policy_text": "rules: {}"})
    assert answer.status_code == 422
    assert answer.get_json()["errors"] == [{"field": "policy_text",
                                            "reason": "policy: version must be a non-empty string"}]


def test_installing_is_academic_affairs_in_their_own_staff_id(app):
    client, csrf = as_user(app, "a0001")
    answer = client.post("/api/policies", headers=csrf, json={"policy_text": POLICY, "installed_by": "someone"})
    assert answer.status_code == 422            # nobody installs in another's name
    answer = client.post("/api/policies", headers=csrf, json={"policy_text": POLICY})
    assert answer.status_code == 201 and answer.get_json()["correlation_id"] == "policy:lower-1"
    assert app.services.called("warnings", "install_policy")[0]["installed_by"] == "A0001"
    vice_dean, csrf = as_user(app, "v0001")
    assert vice_dean.post("/api/policies", headers=csrf, json={"policy_text": POLICY}).status_code == 403


# --- review before release ----------------------------------------------------------------------------------------

def test_the_pending_list_names_each_student_and_is_audited(app):
    client, _ = as_user(app, "v0001")
    answer = client.get("/api/warnings/pending?semester=2023-2024-1")
    assert answer.status_code == 200
    [batch] = answer.get_json()["batches"]
    assert batch["batch_id"] == 7 and [c["name"] for c in batch["changes"]] == ["张三", "赵六"]
    assert batch["changes"][0]["class_name"] == "机械2101" and batch["changes"][0]["reasons"][0]["rule"] == "gpa"
    assert "correlation_id" not in batch["changes"][0]            # only declared fields leave the gateway
    [(_, subject, _)] = audited(app, "read:warnings.pending")
    assert subject == {"semester": "2023-2024-1", "batches": 1, "students": 2}


def test_confirm_and_exclude_act_in_ones_own_staff_id_with_a_reason(app):
    client, csrf = as_user(app, "a0001")
    confirmed = client.post("/api/warnings/batches/7/confirm", headers=csrf, json={})
    assert confirmed.status_code == 200 and confirmed.get_json()["released"] == 2
    assert app.services.called("warnings", "confirm_batch") == [{"batch_id": 7, "confirmed_by": "A0001"}]
    no_reason = client.post("/api/warnings/batches/7/exclude", headers=csrf,
                            json={"student_id": "2021001", "reason": "   "})
    assert no_reason.status_code == 422 and no_reason.get_json()["errors"][0]["field"] == "reason"
    excluded = client.post("/api/warnings/batches/7/exclude", headers=csrf,
                           json={"student_id": "2021001", "reason": "已办理缓考，电话 13812345678"})
    assert excluded.status_code == 200 and excluded.get_json()["changes"][0]["new_level"] == "yellow"
    sent = app.services.called("warnings", "exclude_student")[0]
    assert sent["excluded_by"] == "A0001" and sent["reason"].startswith("已办理缓考")
    # Who excluded whom is audited; the reason (free text) is not copied into the log.
    [(_, subject, _)] = audited(app, "change:warnings.exclude")
    assert subject == {"batch_id": 7, "student_id": "2021001"}


def test_an_unknown_batch_is_404_and_a_refusal_of_the_service_is_422(app):
    client, csrf = as_user(app, "a0001")
    assert client.post("/api/warnings/batches/99/confirm", headers=csrf, json={}).status_code == 404
    assert client.post("/api/warnings/batches/abc/confirm", headers=csrf, json={}).status_code == 422
    refused = client.post("/api/warnings/batches/7/exclude", headers=csrf,
                          json={"student_id": "2021999", "reason": "x"})
    assert refused.status_code == 422 and refused.get_json()["errors"][0]["field"] == "student_id"
    assert app.services.called("warnings", "confirm_batch") == []


# --- a student's history ------------------------------------------------------------------------------------------

def test_a_head_teacher_reads_the_history_of_their_own_students_only(app):
    client, csrf = as_user(app, "t1001")
    answer = client.post("/api/warnings/history", headers=csrf, json={"student_id": "2021001", "locale": "en"})
    assert answer.status_code == 200
    body = answer.get_json()
    assert body["student"]["name"] == "张三" and body["standings"][0]["level"] == "yellow"
    [semester] = body["semesters"]
    assert [e["what"] for e in semester["events"]] == ["issued", "released", "warning_formal", "created", "closed"]
    assert semester["events"][0]["text"].startswith("yellow warning issued")
    closed = semester["events"][-1]
    assert closed["what"] == "closed" and "138****5678" in closed["summary"] and "13812345678" not in answer.text
    assert client.post("/api/warnings/history", headers=csrf, json={"student_id": "2021101"}).status_code == 403
    assert [o for _, _, o in audited(app, "read:warnings.history")] == ["allowed", "denied"]
    # Only the student asked about is in the audit log's subject, never the URL.
    assert audited(app, "read:warnings.history")[0][1] == {"student_id": "2021001", "locale": "en"}


def test_a_counselor_and_a_department_head_read_their_cohorts_and_majors(app):
    for username, allowed, refused in (("c2021", "2021101", "2022001"), ("dmech", "2022001", "2021101")):
        client, csrf = as_user(app, username)
        assert client.post("/api/warnings/history", headers=csrf, json={"student_id": allowed}).status_code == 200
        assert client.post("/api/warnings/history", headers=csrf, json={"student_id": refused}).status_code == 403


def test_a_service_away_leaves_the_rest_of_the_history_and_says_what_is_missing(app):
    client, csrf = as_user(app, "a0001")
    app.services.down.add("notification")
    body = client.post("/api/warnings/history", headers=csrf, json={"student_id": "2021001"}).get_json()
    assert list(body["missing"]) == ["notices"] and "notification" in body["missing"]["notices"]
    assert {e["source"] for e in body["semesters"][0]["events"]} == {"warning", "task"}
    app.services.down |= {"warnings", "advising"}
    assert client.post("/api/warnings/history", headers=csrf, json={"student_id": "2021001"}).status_code == 503


# --- counselor lists ----------------------------------------------------------------------------------------------

def test_the_counselor_sees_the_whole_list_a_head_teacher_only_their_class(app):
    counselor, _ = as_user(app, "c2021")
    whole = counselor.get("/api/counselor-lists/CL-1").get_json()
    assert whole["whole"] and [e["student_id"] for e in whole["entries"]] == ["2021001", "2021101"]
    assert {r["staff_id"] for r in whole["recipients"]} == {"C2021", "T1001", "T1002"}
    head, _ = as_user(app, "t1001")
    part = head.get("/api/counselor-lists/CL-1").get_json()
    assert not part["whole"] and [e["student_id"] for e in part["entries"]] == ["2021001"]
    assert part["changes"] == {"added": ["2021001"], "removed": []}
    assert [r["staff_id"] for r in part["recipients"]] == ["T1001"] and part["recipients"][0]["students"] == 1
    assert "student_ids" not in part["recipients"][0]
    assert [row["list_id"] for row in head.get("/api/counselor-lists").get_json()["lists"]] == ["CL-1"]


def test_someone_with_no_student_on_a_list_neither_lists_nor_opens_it(app):
    app.add_user("t1003", staff_id="T1003")
    client, _ = as_user(app, "t1003")
    assert client.get("/api/counselor-lists").get_json()["lists"] == []
    assert client.get("/api/counselor-lists/CL-1").status_code == 403
    assert client.get("/api/counselor-lists/CL-404").status_code == 404


def test_only_the_cohorts_counselor_confirms_in_their_own_name(app):
    counselor, csrf = as_user(app, "c2021")
    answer = counselor.post("/api/counselor-lists/CL-1/confirm", headers=csrf, json={"comment": " 已核对 "})
    assert answer.status_code == 200 and answer.get_json()["status"] == "confirmed"
    assert app.services.called("advising", "confirm_list") == [
        {"list_id": "CL-1", "confirmed_by": "C2021", "comment": "已核对"}]
    head, csrf = as_user(app, "t1001")
    assert head.post("/api/counselor-lists/CL-1/confirm", headers=csrf, json={}).status_code == 403
    # The vice dean may be asked (a vacant post); the advising service says whose confirmation it is.
    vice_dean, csrf = as_user(app, "v0001")
    refused = vice_dean.post("/api/counselor-lists/CL-1/confirm", headers=csrf, json={})
    assert refused.status_code == 422 and "C2021" in refused.get_json()["message"]


def _b64(text, encoding="utf-8"):
    return base64.b64encode(text.encode(encoding)).decode("ascii")
