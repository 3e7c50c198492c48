"""The JSON API's rules through HTTP (werkzeug's client, the route table, a real SQLite gateway database, the
services stood in for): sign-in and lock-out, cookies, CSRF, tokens, 422 bodies, file reports, scope, audit."""
from __future__ import annotations

import base64
import io
import logging

import pytest
from sqlalchemy import select

from services.gateway import tables
from services.gateway.errors import Forbidden, Unprocessable
from services.gateway.settings import Settings
from tests.unit.gateway.harness import PASSWORD, GatewayApp


@pytest.fixture
def app(tmp_path):
    app = GatewayApp(tmp_path)
    app.add_role_users()
    return app


def signed_in(app, username):
    client = app.client()
    return client, app.sign_in(client, username)


# --- sign-in, lock-out, sessions ----------------------------------------------------------------------------------

def test_five_wrong_passwords_lock_the_account_and_every_attempt_is_recorded(app):
    client = app.client()
    for _ in range(5):
        answer = client.post("/api/session", json={"username": "t1001", "password": "wrong password!"})
        assert answer.status_code == 401
    answer = client.post("/api/session", json={"username": "t1001", "password": PASSWORD})
    assert answer.status_code == 401
    assert "locked out until 2024-03-01T08:15" in answer.get_json()["message"]
    app.clock.advance(minutes=15)
    assert client.post("/api/session", json={"username": "t1001", "password": PASSWORD}).status_code == 200
    with app.gateway.engine.connect() as conn:
        outcomes = conn.execute(select(tables.sign_in_attempts.c.outcome)
                                .where(tables.sign_in_attempts.c.username == "t1001")).scalars().all()
    assert outcomes == ["failure"] * 5 + ["locked", "success"]


def test_an_unknown_user_and_a_wrong_password_get_the_same_answer(app):
    client = app.client()
    unknown = client.post("/api/session", json={"username": "nobody", "password": "whatever it is"})
    wrong = client.post("/api/session", json={"username": "t1001", "password": "whatever it is"})
    assert unknown.status_code == wrong.status_code == 401
    assert unknown.get_json()["message"] == wrong.get_json()["message"] == "wrong user name or password"


def test_the_session_cookie_is_httponly_samesite_lax_and_secure_when_configured(tmp_path):
    for secure in (False, True):
        (tmp_path / str(secure)).mkdir()
        app = GatewayApp(tmp_path / str(secure), Settings(secure_cookies=secure))
        app.add_user("t1001", staff_id="T1001")
        answer = app.client().post("/api/session", json={"username": "t1001", "password": PASSWORD})
        cookie = next(c for c in answer.headers.getlist("Set-Cookie") if c.startswith("aq_session="))
        assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Path=/" in cookie
        assert ("Secure" in cookie) is secure


def test_the_session_ends_after_thirty_idle_minutes_and_its_id_is_stored_only_as_a_digest(app):
    client, _ = signed_in(app, "t1001")
    session_id = client.get_cookie("aq_session").value
    with app.gateway.engine.connect() as conn:
        stored = conn.execute(select(tables.sessions)).mappings().all()
    assert len(stored) == 1 and session_id not in str(dict(stored[0]))
    app.clock.advance(minutes=29)
    assert client.get("/api/me").status_code == 200
    app.clock.advance(minutes=31)
    assert client.get("/api/me").status_code == 401


# --- CSRF ---------------------------------------------------------------------------------------------------------

def test_cookie_sessions_need_the_csrf_token_on_every_unsafe_request(app):
    client, csrf = signed_in(app, "t1001")
    body = {"student_id": "2021001"}
    assert client.post("/api/grades/history", json=body).status_code == 403
    assert client.post("/api/grades/history", json=body, headers={"X-CSRF-Token": "forged"}).status_code == 403
    assert client.post("/api/grades/history", json=body, headers={"X-CSRF-Token": csrf}).status_code == 200
    # a form carries it as a field
    assert client.post("/api/grades/history", data={**body, "csrf_token": csrf}).status_code == 200
    assert client.get("/api/warnings").status_code == 200        # safe methods need none


def test_a_form_posted_before_sign_in_needs_the_anonymous_csrf_cookie_and_text_plain_is_refused(app):
    client = app.client()
    form = {"username": "t1001", "password": PASSWORD}
    assert client.post("/api/session", data=form).status_code == 403
    ctx_token = "anonymous-token-value"
    client.set_cookie("aq_csrf", ctx_token)
    assert client.post("/api/session", data={**form, "csrf_token": ctx_token}).status_code == 200
    plain = app.client().post("/api/session", data='{"username": "t1001", "password": "x"}',
                              content_type="text/plain")
    assert plain.status_code == 422 and "application/json" in plain.get_json()["message"]


def test_api_tokens_need_no_csrf_are_stored_as_digests_and_stop_working_when_revoked(app):
    admin, csrf = signed_in(app, "root")
    created = admin.post("/api/accounts/tokens", json={"name": "BI system", "role": "head_teacher",
                                                       "staff_id": "T1001"}, headers={"X-CSRF-Token": csrf})
    assert created.status_code == 201
    token = created.get_json()["token"]
    with app.gateway.engine.connect() as conn:
        row = conn.execute(select(tables.api_tokens)).mappings().one()
    assert token not in str(dict(row))
    listed = admin.get("/api/accounts/tokens").get_json()["tokens"]
    assert "token" not in listed[0] and listed[0]["role"] == "head_teacher"
    other = app.client()
    bearer = {"Authorization": f"Bearer {token}"}
    me = other.get("/api/me", headers=bearer).get_json()
    assert me["role"] == "head_teacher" and me["scope"]["classes"] == ["机械2101"] and me["csrf_token"] is None
    assert other.post("/api/grades/history", json={"student_id": "2021001"}, headers=bearer).status_code == 200
    assert other.post("/api/grades/history", json={"student_id": "2022001"}, headers=bearer).status_code == 403
    revoked = admin.delete(f"/api/accounts/tokens/{row['token_id']}", headers={"X-CSRF-Token": csrf})
    assert revoked.status_code == 200
    assert other.get("/api/me", headers=bearer).status_code == 401


# --- bad input ----------------------------------------------------------------------------------------------------

def test_bad_input_gets_422_naming_each_field_and_reason(app):
    client, csrf = signed_in(app, "a0001")
    answer = client.get("/api/warnings?status=sometimes&semester=2023-2025-1")
    assert answer.status_code == 422
    problems = {p["field"]: p["reason"] for p in answer.get_json()["errors"]}
    assert set(problems) == {"status", "semester"}
    assert "active" in problems["status"] and "YYYY-YYYY-T" in problems["semester"]
    answer = client.post("/api/tasks/search", json={"status": "open", "colour": "red"}, headers={"X-CSRF-Token": csrf})
    assert answer.status_code == 422 and answer.get_json()["errors"] == [{"field": "colour", "reason": "Unknown field."}]
    answer = client.post("/api/tasks/search", data="[1, 2]", content_type="application/json",
                         headers={"X-CSRF-Token": csrf})
    assert answer.status_code == 422 and answer.get_json()["errors"][0]["field"] is None


def test_a_nul_character_in_any_text_field_is_422_before_any_service_is_asked(app):
    client, csrf = signed_in(app, "a0001")
    asked = len(app.services.calls)
    answer = client.post("/api/tasks/search", json={"status": "open", "kind": "talk\x00"},
                         headers={"X-CSRF-Token": csrf})
    assert answer.status_code == 422
    assert answer.get_json()["errors"] == [{"field": "kind", "reason": "contains a NUL character (U+0000)"}]
    assert len(app.services.calls) == asked


def test_a_grade_file_with_bad_rows_gets_the_row_by_row_report(app):
    client, csrf = signed_in(app, "a0001")
    app.services.answers[("grades", "upload")] = {
        "status": "rejected", "report": "g.csv 第 3 行…",
        "problems": [{"file": "g.csv", "row": 3, "column": "score", "header": "成绩", "value": "abc",
                      "reason_zh": "成绩无法识别", "reason_en": "the score is not a number or a grade word"},
                     {"file": "g.csv", "row": 7, "column": "student_id", "header": "学号", "value": "99",
                      "reason_zh": "学号不在名册中", "reason_en": "no such student in the roster"}]}
    content = base64.b64encode("学号,成绩\n".encode()).decode()
    answer = client.post("/api/grades/uploads", json={"filename": "g.csv", "content_b64": content},
                         headers={"X-CSRF-Token": csrf})
    assert answer.status_code == 422
    body = answer.get_json()
    assert [(p["file"], p["row"], p["field"], p["reason"]) for p in body["errors"]] == [
        ("g.csv", 3, "score", "the score is not a number or a grade word"),
        ("g.csv", 7, "student_id", "no such student in the roster")]
    assert body["report"] == "g.csv 第 3 行…"


def test_a_grade_file_can_be_uploaded_as_a_multipart_form(app):
    client, csrf = signed_in(app, "a0001")
    answer = client.post("/api/grades/uploads", data={"file": (io.BytesIO(b"a,b\n1,2\n"), "g.csv"),
                                                      "csrf_token": csrf}, content_type="multipart/form-data")
    assert answer.status_code == 201, answer.get_json()
    sent = app.services.called("grades", "upload")[0]
    assert sent["filename"] == "g.csv" and base64.b64decode(sent["content_b64"]) == b"a,b\n1,2\n"
    assert sent["uploaded_by"] == "user:a0001"


# --- scope and audit ----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("username, students", [
    ("t1001", {"2021001", "2021002"}),                       # head teacher: their class
    ("c2021", {"2021001", "2021002", "2021101"}),            # counselor: the 2021 cohort
    ("dmech", {"2021001", "2021002", "2022001"}),            # department head: the major 机械
    ("v0001", {"2021001", "2021002", "2021101", "2022001"}),  # vice dean: the college
])
def test_each_role_sees_the_warnings_and_notices_of_its_scope_only(app, username, students):
    client, csrf = signed_in(app, username)
    assert {w["student_id"] for w in client.get("/api/warnings").get_json()["warnings"]} == students
    notices = client.post("/api/notices/search", json={}, headers={"X-CSRF-Token": csrf}).get_json()["notices"]
    assert {n["recipient_id"].split(":")[1] for n in notices if n["recipient_kind"] == "guardian"} == students


def test_a_task_or_notice_outside_the_scope_is_refused(app):
    client, csrf = signed_in(app, "t1001")
    assert client.get("/api/tasks/K1").status_code == 200
    assert client.get("/api/tasks/K2").status_code == 403
    assert client.get("/api/notices/N-2022001").status_code == 403
    assert client.get("/api/notices/N-staff").status_code == 403     # another head teacher's notice
    assert client.get("/api/tasks/nope").status_code == 404


def test_acting_is_always_in_the_signed_in_persons_name(app):
    client, csrf = signed_in(app, "t1001")
    answer = client.post("/api/tasks/K1/close", json={"record": {"date": "2024-03-01", "place": "办公室"}},
                         headers={"X-CSRF-Token": csrf})
    assert answer.status_code == 200
    assert app.services.called("advising", "close_task")[0]["closed_by"] == "T1001"
    refused = client.post("/api/tasks/K1/close", json={"record": {"place": "办公室"}}, headers={"X-CSRF-Token": csrf})
    assert refused.status_code == 422 and refused.get_json()["errors"][0]["field"] == "record"


def test_every_read_of_personal_data_is_audited_with_who_what_when_and_refusals_too(app):
    client, csrf = signed_in(app, "t1001")
    client.post("/api/grades/history", json={"student_id": "2021001"}, headers={"X-CSRF-Token": csrf})
    client.post("/api/grades/history", json={"student_id": "2022001"}, headers={"X-CSRF-Token": csrf})
    client.get("/api/flags")                                              # no personal data: not audited
    rows = [(r["actor"], r["role"], r["action"], r["subject"], r["outcome"]) for r in app.audit_rows()]
    assert rows == [("user:t1001", "head_teacher", "read:grades.history", '{"student_id": "2021001"}', "allowed"),
                    ("user:t1001", "head_teacher", "read:grades.history", '{"student_id": "2022001"}', "denied")]
    assert all(r["at"] is not None for r in app.audit_rows())


def test_contacts_in_notices_are_masked(app):
    client, _ = signed_in(app, "v0001")
    notice = client.get("/api/notices/N-2021001").get_json()
    assert "13912345678" not in notice["text"] and "139****5678" in notice["text"]
    assert "guardian@example.com" not in notice["last_error"]


def test_no_personal_data_reaches_the_logs(app, caplog):
    client, csrf = signed_in(app, "v0001")
    app.services.answers[("grades", "history")] = lambda **kw: 1 / 0      # a bug: logged by route name only
    with caplog.at_level(logging.DEBUG):
        answer = client.post("/api/grades/history", json={"student_id": "2021001"}, headers={"X-CSRF-Token": csrf})
        client.get("/api/warnings")
    assert answer.status_code == 500 and answer.get_json()["message"] == "internal error (logged)"
    logged = "\n".join(r.getMessage() + (r.exc_text or "") for r in caplog.records)
    assert "grades.history failed" in logged
    for personal in ("2021001", "张三", "13912345678"):
        assert personal not in logged


def test_a_service_that_is_not_running_gets_503_naming_it(app):
    client, _ = signed_in(app, "v0001")
    app.services.down.add("warnings")
    answer = client.get("/api/warnings")
    assert answer.status_code == 503 and "warnings service is not running" in answer.get_json()["message"]


def test_ctx_api_applies_the_same_rules_as_http(app):
    from services.gateway.context import Context
    client, _ = signed_in(app, "t1001")
    ctx = Context.for_request(app.gateway, app.services, _request_with_cookie(client))
    assert ctx.principal.role == "head_teacher"
    assert {w["student_id"] for w in ctx.api("warnings.list")["warnings"]} == {"2021001", "2021002"}
    with pytest.raises(Forbidden):
        ctx.api("grades.history", student_id="2022001")
    with pytest.raises(Forbidden):
        ctx.api("grades.upload", filename="g.csv", content_b64="")
    with pytest.raises(Unprocessable) as bad:
        ctx.api("warnings.list", status="never")
    assert bad.value.errors[0]["field"] == "status"
    assert [(r["action"], r["outcome"]) for r in app.audit_rows()][-3:] == [
        ("read:warnings.list", "allowed"), ("read:grades.history", "denied"), ("change:grades.upload", "denied")]


def _request_with_cookie(client):
    from werkzeug.test import EnvironBuilder
    from werkzeug.wrappers import Request
    builder = EnvironBuilder(path="/ui/", headers={"Cookie": f"aq_session={client.get_cookie('aq_session').value}"})
    return Request(builder.get_environ())


def test_sign_in_through_ctx_returns_why_not_as_text(app):
    from werkzeug.test import EnvironBuilder
    from werkzeug.wrappers import Request, Response
    from services.gateway.context import Context
    ctx = Context.for_request(app.gateway, app.services, Request(EnvironBuilder(path="/login").get_environ()))
    assert ctx.sign_in("t1001", "nope nope nope", "10.0.0.1") == "wrong user name or password"
    principal = ctx.sign_in("t1001", PASSWORD, "10.0.0.1")
    assert principal.staff_id == "T1001" and ctx.principal is principal
    response = Response("ok")
    ctx.set_cookies(response)
    assert any(c.startswith("aq_session=") for c in response.headers.getlist("Set-Cookie"))
    ctx.sign_out()
    assert ctx.principal is None


# --- acknowledgement links ----------------------------------------------------------------------------------------

PAGE = {"status": "ok", "role": "guardian", "student": {"name": "张*", "id": "2021***01"}, "semester": "2023-2024-1",
        "level": "orange", "change": "issued", "old_level": None, "escalated": False, "reasons": [],
        "follow_up": {"talk_days": 7}, "locale": "zh", "acknowledged": False, "expires_at": "2024-04-01T00:00:00",
        "acknowledged_at": None}


@pytest.mark.parametrize("answer, status", [
    ({"status": "error", "error": "invalid", "message": "this link is not valid"}, 404),
    ({"status": "error", "error": "expired", "message": "expired", "expired_at": "2024-01-01"}, 410),
    ({"status": "error", "error": "withdrawn", "message": "the warning was lifted"}, 410),
    ({"status": "error", "error": "already_acknowledged", "message": "already"}, 409),
    ({"status": "error", "error": "bad_request", "message": "signer_name: too long"}, 422),
])
def test_an_acknowledgement_link_refused_by_notification_gets_its_status(app, answer, status):
    app.services.answers[("notification", "acknowledge")] = answer
    got = app.client().post("/api/ack/tok-123456789", json={"signer_name": "张父"})
    assert got.status_code == status and got.get_json()["error"] == answer["error"]


def test_a_guardian_opens_and_signs_through_the_link_alone(app):
    app.services.answers[("notification", "open_acknowledgement")] = PAGE
    app.services.answers[("notification", "acknowledge")] = {**PAGE, "status": "acknowledged", "acknowledged": True,
                                                             "same_client_flagged": False}
    client = app.client()                     # no session, no token: the link is the credential
    opened = client.get("/api/ack/tok-123456789", headers={"User-Agent": "Phone/1.0"}, environ_base={
        "REMOTE_ADDR": "10.1.2.3"})
    assert opened.status_code == 200 and opened.get_json()["student"] == {"name": "张*", "id": "2021***01"}
    signed = client.post("/api/ack/tok-123456789", json={"signer_name": "张父"})
    assert signed.status_code == 200 and signed.get_json()["acknowledged"] is True
    sent = app.services.called("notification", "open_acknowledgement")[0]
    assert sent == {"token": "tok-123456789", "client": {"ip": "10.1.2.3", "user_agent": "Phone/1.0"}}
    assert app.services.called("notification", "acknowledge")[0]["signer_name"] == "张父"


def test_staff_see_the_acknowledgements_of_their_students_with_addresses_cut(app):
    rows = [{"ack_id": f"A-{sid}", "student_id": sid, "recipient_kind": "guardian", "status": "open",
             "shared_client": False, "sent_via": ["email"], "reminder_via": [], "opened_count": 1,
             "uses": [{"at": "2024-03-01T00:00:00", "action": "opened", "ip": "10.1.2.3", "channel": "email",
                       "same_client": False}]} for sid in ("2021001", "2022001")]
    app.services.answers[("notification", "acknowledgements")] = rows
    client, csrf = signed_in(app, "t1001")
    listed = client.post("/api/acknowledgements/search", json={}, headers={"X-CSRF-Token": csrf}).get_json()
    assert [a["student_id"] for a in listed["acknowledgements"]] == ["2021001"]
    assert listed["acknowledgements"][0]["uses"][0]["ip"] == "10.1.2.*"


def test_a_phone_number_in_a_duty_record_is_masked(app):
    app.services.tasks["K1"]["record"] = {"date": "2024-03-01", "notes": "家长电话 13812345678，已联系"}
    client, _ = signed_in(app, "t1001")
    task = client.get("/api/tasks/K1").get_json()
    assert task["record"] == {"date": "2024-03-01", "notes": "家长电话 138****5678，已联系"}
