"""Acknowledgements through the notification service layer on a real SQLite file (no broker): asked with the warning
notice, each recipient's own link in their own notices only, opened and signed with every use recorded, refused
when altered, expired, withdrawn or already used, flagged when the guardian's link is used from the student's
client, reminded once, handed to the head teacher through the outbox, and re-signed when a fallback takes over."""
import json
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from services.notification import acknowledgements, delivery, handlers, queries, tables
from services.notification.channels.base import FAILED_PERMANENT, SENT, Channel, DeliveryResult
from services.notification.domain.ack_links import LinkSigner, tokens_in
from services.notification.domain.ack_policy import AckSettings
from services.notification.domain.recipients import People
from services.notification.domain.routing import routes_by_kind
from services.notification.settings import NotificationSettings
from shared.db import engine_for
from shared.messaging.store import StoreAccess

SHANGHAI = ZoneInfo("Asia/Shanghai")
T0 = datetime(2024, 3, 5, 2, 0, tzinfo=timezone.utc)          # 10:00 in the college
SID = "210301001"
PEOPLE = People(student_id=SID, student_name="张三", class_name="机械2101", major="机械",
                head_teacher_id="T1001", counselor_id="C2021", department_head_id="D0301", vice_dean_id="V0001")
ACK = AckSettings(secret="unit-test-secret", public_url="https://aq.example.edu.cn")
SIGNER = LinkSigner(ACK.secret, ACK.public_url)
STUDENT_PC = {"ip": "10.1.2.3", "user_agent": "Mozilla/5.0 Firefox/120"}
PARENT_PHONE = {"ip": "172.16.0.9", "user_agent": "Mozilla/5.0 (iPhone) Safari/17"}


@pytest.fixture
def db(tmp_path):
    engine = engine_for("notification", f"sqlite:///{tmp_path / 'n.sqlite'}")
    tables.metadata.create_all(engine)
    settings = NotificationSettings(channels={"in_app": {}, "email": {}}, routes=routes_by_kind(), zone=SHANGHAI,
                                    acknowledgement=ACK)
    return engine, settings


def change(level="orange", kind="issued", change_id="chg-1", old="none"):
    return {"change_id": change_id, "student_id": SID, "semester": "2023-2024-1", "kind": kind, "old_level": old,
            "new_level": level, "escalated": False, "policy_version": "1",
            "reasons": [{"rule": "unresolved_failed_credits", "level": level if level != "none" else "orange",
                         "measure": 16.0, "threshold": 15.0, "comparison": ">=", "courses": []}]}


def warn(db, *changes, event_id="E-1", now=T0, enabled=("in_app", "email"), settings=None):
    engine, default = db
    event = {"id": event_id, "type": "warnings.changed", "correlation_id": "U-1",
             "data": {"changes": list(changes) or [change()]}}
    with StoreAccess(engine, "notification", tables.MESSAGING, "on_warnings_changed").handling(event) as uow:
        return handlers.on_warning_changes(uow, event, {SID: PEOPLE}, settings or default, set(enabled), now)


def rows(db, table, **where):
    with db[0].connect() as conn:
        query = select(table)
        for key, value in where.items():
            query = query.where(table.c[key] == value)
        return [dict(r) for r in conn.execute(query).mappings()]


def link_of(db, recipient_id, channel="email", kind=None):
    [notice] = [n for n in rows(db, tables.notices, recipient_id=recipient_id, channel=channel)
                if kind is None or n["kind"] == kind]
    [token] = set(tokens_in(notice["text"]))
    assert set(tokens_in(notice["html"])) == {token}
    return token, notice


def open_(db, token, client, now=T0 + timedelta(hours=1)):
    return acknowledgements.open_acknowledgement(db[0], ACK, token, client, now)


def sign(db, token, client, name="张伟", now=T0 + timedelta(hours=1)):
    return acknowledgements.acknowledge(db[0], ACK, token, client, name, now)


def request_of(db, recipient_id):
    [row] = [r for r in rows(db, tables.acknowledgements, recipient_id=recipient_id) if r["status"] != "superseded"]
    return row


def uses(db, recipient_id):
    return rows(db, tables.acknowledgement_uses, ack_id=request_of(db, recipient_id)["ack_id"])


# --- asking -----------------------------------------------------------------------------------------------------

def test_an_orange_warning_asks_the_student_and_the_guardian_each_with_their_own_link(db):
    warn(db)
    requests = {r["recipient_kind"]: r for r in rows(db, tables.acknowledgements)}
    assert set(requests) == {"student", "guardian"}
    assert all(r["status"] == "open" and r["level"] == "orange" for r in requests.values())
    notices = rows(db, tables.notices)
    for notice in notices:
        found = set(tokens_in(notice["text"]))
        if notice["recipient_kind"] in ("student", "guardian"):
            [token] = found                                     # each notice carries exactly its own link …
            claim = SIGNER.verify(token, T0)
            assert claim.notice_id == notice["notice_id"] and claim.role == notice["recipient_kind"]
            assert notice["requires_acknowledgement"]
            assert claim.expires_at == T0 + timedelta(days=14)
        else:
            assert found == set() and not notice["requires_acknowledgement"]     # … staff get none
    student_tokens = {t for n in notices if n["recipient_id"] == SID for t in tokens_in(n["text"])}
    assert all(SIGNER.read(t).role == "student" for t in student_tokens) and len(student_tokens) == 2  # in_app, email
    guardian_link, _ = link_of(db, f"guardian:{SID}")
    assert not any(guardian_link in (n["text"] + n["html"]) for n in notices if n["recipient_id"] != f"guardian:{SID}")
    assert "回执（签字）：请在 2024-03-19 前打开下面的链接" in link_of(db, f"guardian:{SID}")[1]["text"]


def test_the_guardian_link_goes_only_by_the_guardians_own_address_never_to_an_inbox(db):
    engine, settings = db
    in_app_guardian = NotificationSettings(channels=settings.channels, zone=SHANGHAI, acknowledgement=ACK,
                                           routes=routes_by_kind({"guardian": "in_app,email"}))
    warn(db, settings=in_app_guardian)
    [inbox_notice] = rows(db, tables.notices, recipient_id=f"guardian:{SID}", channel="in_app")
    assert tokens_in(inbox_notice["text"]) == [] and "确认方式将另行告知" in inbox_notice["text"]
    assert link_of(db, f"guardian:{SID}", "email")[0]


def test_no_request_below_the_configured_levels_or_when_switched_off(db):
    warn(db, change(level="yellow"))
    warn(db, change(level="orange", kind="downgraded", change_id="chg-2", old="red"), event_id="E-2")
    assert rows(db, tables.acknowledgements) == []
    engine, settings = db
    off = NotificationSettings(channels=settings.channels, routes=settings.routes, zone=SHANGHAI,
                               acknowledgement=AckSettings(levels=frozenset()))
    warn(db, change(level="red", change_id="chg-3"), event_id="E-3", settings=off)
    assert rows(db, tables.acknowledgements) == []
    assert all(tokens_in(n["text"]) == [] for n in rows(db, tables.notices))


def test_a_redelivered_cause_asks_once_and_an_escalation_supersedes_the_older_request(db):
    warn(db)
    warn(db, event_id="E-1b")                               # same change again (e.g. replayed): nothing new
    assert len(rows(db, tables.acknowledgements)) == 2
    old_guardian_link, _ = link_of(db, f"guardian:{SID}")
    warn(db, change(level="red", kind="escalated", old="orange", change_id="chg-2"), event_id="E-2")
    statuses = sorted((r["cause"], r["recipient_kind"], r["status"]) for r in rows(db, tables.acknowledgements))
    assert statuses == [("chg-1", "guardian", "superseded"), ("chg-1", "student", "superseded"),
                        ("chg-2", "guardian", "open"), ("chg-2", "student", "open")]
    answer = open_(db, old_guardian_link, PARENT_PHONE)
    assert answer["status"] == "error" and answer["error"] == "withdrawn" and "newer notice" in answer["message"]


def test_an_escalation_leaves_an_acknowledged_request_alone_and_names_the_newer_one_in_the_others(db):
    warn(db)
    token, _ = link_of(db, SID)
    assert sign(db, token, STUDENT_PC, name="张三")["status"] == "acknowledged"
    warn(db, change(level="red", kind="escalated", old="orange", change_id="chg-2"), event_id="E-2")
    requests = {(r["cause"], r["recipient_kind"]): r for r in rows(db, tables.acknowledgements)}
    assert requests[("chg-1", "student")]["status"] == "acknowledged"
    assert requests[("chg-1", "student")]["closed_note"] is None
    newer = requests[("chg-2", "guardian")]["ack_id"]
    assert requests[("chg-1", "guardian")]["status"] == "superseded"
    assert requests[("chg-1", "guardian")]["closed_note"] == f"superseded by {newer} (red)"


def test_a_lifted_warning_withdraws_what_is_still_open(db):
    warn(db)
    token, _ = link_of(db, SID)
    warn(db, change(level="none", kind="lifted", old="orange", change_id="chg-9"), event_id="E-9")
    assert {r["status"] for r in rows(db, tables.acknowledgements)} == {"withdrawn"}
    assert open_(db, token, STUDENT_PC)["error"] == "withdrawn"


# --- opening and signing ----------------------------------------------------------------------------------------

def test_opening_shows_the_masked_notice_and_records_how_the_link_was_used(db):
    warn(db)
    token, notice = link_of(db, f"guardian:{SID}")
    page = open_(db, token, PARENT_PHONE)
    assert page["status"] == "ok" and page["role"] == "guardian" and page["level"] == "orange"
    assert page["student"] == {"name": "张*", "id": "2103***01"} and page["acknowledged"] is False
    assert page["reasons"][0]["rule"] == "unresolved_failed_credits" and page["locale"] == "zh"
    assert page["expires_at"].startswith("2024-03-19T02:00")
    open_(db, token, PARENT_PHONE, now=T0 + timedelta(hours=2))
    request = request_of(db, f"guardian:{SID}")
    assert request["opened_count"] == 2 and request["status"] == "open"
    [first, second] = uses(db, f"guardian:{SID}")
    assert (first["action"], first["notice_id"], first["channel"], first["ip"], first["user_agent"]) == \
        ("opened", notice["notice_id"], "email", PARENT_PHONE["ip"], PARENT_PHONE["user_agent"])


def test_signing_records_who_through_which_channel_and_from_where_once(db):
    warn(db)
    token, notice = link_of(db, f"guardian:{SID}")
    answer = sign(db, token, PARENT_PHONE, name=" 张  伟 ")
    assert answer["status"] == "acknowledged" and answer["acknowledged"] is True
    assert answer["same_client_flagged"] is False
    request = request_of(db, f"guardian:{SID}")
    assert (request["status"], request["signer_name"], request["ack_notice_id"], request["ack_channel"],
            request["ack_ip"], request["ack_user_agent"]) == (
        "acknowledged", "张 伟", notice["notice_id"], "email", PARENT_PHONE["ip"], PARENT_PHONE["user_agent"])
    assert request["first_opened_at"] is not None
    again = sign(db, token, PARENT_PHONE, now=T0 + timedelta(days=1))
    assert again["error"] == "already_acknowledged" and again["acknowledged_at"].startswith("2024-03-05T03:00")
    assert request_of(db, f"guardian:{SID}")["signer_name"] == "张 伟"                 # the first signature stands
    assert [u["action"] for u in uses(db, f"guardian:{SID}")] == ["acknowledged", "refused"]
    shown = open_(db, token, PARENT_PHONE)                    # opening again shows it as acknowledged
    assert shown["status"] == "ok" and shown["acknowledged"] and shown["acknowledged_at"]
    assert request_of(db, SID)["status"] == "open"            # the student's own request is untouched


@pytest.mark.parametrize("alter", [lambda t: t[:-1] + ("x" if t[-1] != "x" else "y"),
                                   lambda t: t.replace(".g.", ".s."), lambda t: "nonsense", lambda t: None])
def test_an_altered_or_made_up_link_is_invalid_and_changes_nothing(db, alter):
    warn(db)
    token, _ = link_of(db, f"guardian:{SID}")
    answer = sign(db, alter(token), STUDENT_PC)
    assert answer["status"] == "error" and answer["error"] == "invalid"
    assert request_of(db, f"guardian:{SID}")["status"] == "open" and rows(db, tables.acknowledgement_uses) == []


def test_a_genuine_link_to_a_notice_that_asks_nothing_is_invalid(db):
    warn(db, change(level="yellow"))
    [notice] = rows(db, tables.notices, recipient_id=SID, channel="email")
    token = SIGNER.token(notice["notice_id"], "student", T0 + timedelta(days=1))     # signed, but nothing to sign
    assert open_(db, token, STUDENT_PC)["error"] == "invalid"
    ghost = SIGNER.token("N-ffffffffffffffff", "student", T0 + timedelta(days=1))
    assert open_(db, ghost, STUDENT_PC)["error"] == "invalid"


def test_an_expired_link_is_refused_and_the_attempt_recorded(db):
    warn(db)
    token, _ = link_of(db, SID)
    answer = sign(db, token, STUDENT_PC, now=T0 + timedelta(days=14))
    assert answer["error"] == "expired" and "2024-03-19" in answer["message"]
    assert request_of(db, SID)["status"] == "open"
    [use] = uses(db, SID)
    assert (use["action"], use["detail"]) == ("refused", "expired")


def test_bad_requests_say_what_is_wrong(db):
    warn(db)
    token, _ = link_of(db, SID)
    assert "signer_name is required" in sign(db, token, STUDENT_PC, name="  ")["message"]
    assert "client must be an object" in open_(db, token, "10.0.0.1")["message"]
    assert "ip" in open_(db, token, {"ip": "1" * 80})["message"]
    assert rows(db, tables.acknowledgement_uses) == []
    assert open_(db, token, None)["status"] == "ok"                        # an unknown client is recorded as such
    assert uses(db, SID)[0]["ip"] is None


def test_a_guardian_link_used_from_the_students_client_is_flagged_not_refused(db):
    warn(db)
    student, _ = link_of(db, SID)
    guardian, _ = link_of(db, f"guardian:{SID}")
    assert sign(db, student, STUDENT_PC, name="张三", now=T0 + timedelta(hours=1))["status"] == "acknowledged"
    answer = sign(db, guardian, STUDENT_PC, name="张伟", now=T0 + timedelta(hours=1, minutes=10))
    assert answer["status"] == "acknowledged" and answer["same_client_flagged"] is True
    assert request_of(db, f"guardian:{SID}")["shared_client_at"] is not None
    assert request_of(db, SID)["shared_client_at"] is None          # the flag is on the guardian's acknowledgement
    assert uses(db, f"guardian:{SID}")[-1]["same_client"] is True
    [listed] = [r for r in acknowledgements.list_acknowledgements(db[0].connect()) if r["recipient_kind"] == "guardian"]
    assert listed["shared_client"] and listed["uses"][-1]["same_client"]


def test_the_flag_needs_the_same_address_and_browser_close_in_time(db):
    warn(db)
    student, _ = link_of(db, SID)
    guardian, _ = link_of(db, f"guardian:{SID}")
    open_(db, student, STUDENT_PC, now=T0 + timedelta(hours=1))
    open_(db, guardian, {**STUDENT_PC, "user_agent": "Safari/17"}, now=T0 + timedelta(hours=1))   # same Wi-Fi
    open_(db, guardian, STUDENT_PC, now=T0 + timedelta(hours=2))                                  # much later
    assert request_of(db, f"guardian:{SID}")["shared_client_at"] is None
    open_(db, guardian, STUDENT_PC, now=T0 + timedelta(hours=3))
    open_(db, student, STUDENT_PC, now=T0 + timedelta(hours=3, minutes=20))   # the student after the guardian
    assert request_of(db, f"guardian:{SID}")["shared_client_at"] is not None


# --- reminders and the head teacher -----------------------------------------------------------------------------

def remind(db, now):
    engine, settings = db
    command = StoreAccess(engine, "notification", tables.MESSAGING, None).command
    return acknowledgements.due_reminders(engine, command, settings, {"in_app", "email"}, now)


def overdue_events(db):
    outbox = tables.MESSAGING[0]
    return [json.loads(r["body"]) for r in rows(db, outbox) if r["type"] == "notification.acknowledgement_overdue"]


def test_one_reminder_through_the_same_routes_then_the_head_teacher_is_asked(db):
    warn(db)
    token, _ = link_of(db, f"guardian:{SID}")
    assert remind(db, T0 + timedelta(days=2, hours=23)) == {"reminded": 0, "overdue": 0}
    assert remind(db, T0 + timedelta(days=3)) == {"reminded": 2, "overdue": 0}
    assert remind(db, T0 + timedelta(days=4)) == {"reminded": 0, "overdue": 0}          # once
    reminders = [n for n in rows(db, tables.notices) if n["kind"] == "acknowledgement_reminder"]
    assert sorted((n["recipient_id"], n["channel"]) for n in reminders) == [
        (SID, "email"), (SID, "in_app"), (f"guardian:{SID}", "email")]
    assert all(n["correlation_id"] == "U-1" and n["status"] == "pending" for n in reminders)
    reminder_link, reminder = link_of(db, f"guardian:{SID}", kind="acknowledgement_reminder")
    assert reminder_link != token and reminder["subject"].startswith("提醒：请确认学业预警通知书")
    # The reminder's own link opens the same request and records the reminder as the notice used.
    assert sign(db, reminder_link, PARENT_PHONE, now=T0 + timedelta(days=4))["status"] == "acknowledged"
    assert request_of(db, f"guardian:{SID}")["ack_notice_id"] == reminder["notice_id"]

    assert remind(db, T0 + timedelta(days=7)) == {"reminded": 0, "overdue": 1}
    [event] = overdue_events(db)
    assert event["correlation_id"] == "U-1" and event["source"] == "notification"
    [entry] = event["data"]["acknowledgements"]
    assert (entry["change_id"], entry["student_id"], entry["recipient_kind"], entry["level"], entry["days_open"],
            entry["opened"]) == ("chg-1", SID, "student", "orange", 7, False)
    assert entry["reminded_at"].startswith("2024-03-08T02:00")
    assert "guardian" not in json.dumps(event["data"])              # the guardian did sign
    assert remind(db, T0 + timedelta(days=8)) == {"reminded": 0, "overdue": 0}          # announced once


def test_acknowledged_withdrawn_and_expired_links_are_not_reminded(db):
    warn(db)
    sign(db, link_of(db, SID)[0], STUDENT_PC)
    sign(db, link_of(db, f"guardian:{SID}")[0], PARENT_PHONE)
    assert remind(db, T0 + timedelta(days=8)) == {"reminded": 0, "overdue": 0}
    warn(db, change(level="red", change_id="chg-2"), event_id="E-2", now=T0 + timedelta(days=9))
    warn(db, change(level="none", kind="lifted", old="red", change_id="chg-3"), event_id="E-3",
         now=T0 + timedelta(days=10))
    assert remind(db, T0 + timedelta(days=20)) == {"reminded": 0, "overdue": 0}
    assert overdue_events(db) == []


def test_the_list_for_staff_says_how_each_went(db):
    warn(db)
    with db[0].begin() as conn:
        conn.execute(tables.notices.update().values(status="sent"))
    sign(db, link_of(db, f"guardian:{SID}")[0], PARENT_PHONE)
    with db[0].connect() as conn:
        listed = {r["recipient_kind"]: r for r in acknowledgements.list_acknowledgements(conn)}
        missing = acknowledgements.list_acknowledgements(conn, missing=True)
        other_term = acknowledgements.list_acknowledgements(conn, semester="2024-2025-1")
    assert listed["guardian"]["status"] == "acknowledged" and listed["guardian"]["sent_via"] == ["email"]
    assert listed["guardian"]["ack_channel"] == "email" and listed["guardian"]["signer_name"] == "张伟"
    assert listed["student"]["sent_via"] == ["email", "in_app"] and listed["student"]["acknowledged_at"] is None
    assert [r["recipient_kind"] for r in missing] == ["student"] and other_term == []


def test_staff_reading_a_notice_do_not_get_a_usable_link(db):
    warn(db)
    token, notice = link_of(db, f"guardian:{SID}")
    with db[0].connect() as conn:
        shown = queries.notice(conn, notice["notice_id"])
    assert token not in shown["text"] and token not in shown["html"] and tokens_in(shown["text"]) == []
    assert f"{notice['notice_id']}.g." in shown["text"]


# --- a fallback carries its own link ----------------------------------------------------------------------------

class Answering(Channel):
    def __init__(self, name, address_field, answer):
        super().__init__({})
        self.name, self.address_field, self.answer, self.messages = name, address_field, answer, []
        self.requires_address = address_field is not None

    def deliver(self, message, checkpoint=None):
        self.messages.append(message)
        if self.answer == SENT and not self.pass_point_of_no_return(checkpoint):
            return DeliveryResult("abandoned")
        return DeliveryResult(self.answer, "550 no such number" if self.answer != SENT else "ok")


def test_when_the_sms_fails_the_email_that_stands_in_carries_a_link_of_its_own(db):
    engine, _ = db
    channels = {"in_app": Answering("in_app", None, SENT), "email": Answering("email", "email", SENT),
                "sms": Answering("sms", "phone", FAILED_PERMANENT)}
    settings = NotificationSettings(channels={n: {} for n in channels}, routes=routes_by_kind(), zone=SHANGHAI,
                                    acknowledgement=ACK)                 # guardian: sms>email
    warn(db, settings=settings, enabled=tuple(channels))
    sms_token, sms_notice = link_of(db, f"guardian:{SID}", channel="sms")
    assert sms_token in sms_notice["short_text"]
    deliverer = delivery.Deliverer(engine, channels, settings, lambda: T0)
    contacts = {SID: {"email": "s@stu.example.edu.cn"},
                f"guardian:{SID}": {"email": "p@family.example.com", "phone": "18710026086"}}
    for _ in range(3):
        claimed, claim_token, _ = deliverer.claim()
        deliverer.deliver(claimed, claim_token, contacts)
    email_token, email_notice = link_of(db, f"guardian:{SID}", channel="email")
    assert email_notice["fallback_of"] == sms_notice["notice_id"] and email_notice["status"] == "sent"
    assert SIGNER.read(email_token).notice_id == email_notice["notice_id"] and email_token != sms_token
    [mail] = [m for m in channels["email"].messages if m.recipient_id == f"guardian:{SID}"]
    assert email_token in mail.text and email_token in mail.html
    assert sign(db, email_token, PARENT_PHONE)["status"] == "acknowledged"
    assert request_of(db, f"guardian:{SID}")["ack_channel"] == "email"
