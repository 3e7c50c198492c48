"""Which notices ask for an acknowledgement, the settings and their checks, same-client judgement, what the page
may show."""
from datetime import datetime, timedelta, timezone

import pytest

from services.notification.domain import ack_policy
from services.notification.domain.ack_policy import AckSettings
from services.notification.domain.recipients import People, notices_for_warning_change

PEOPLE = People(student_id="210301001", student_name="欧阳明月", class_name="机械2101", major="机械",
                head_teacher_id="T1001", counselor_id="C2021", department_head_id="D0301", vice_dean_id="V0001")
AT = datetime(2024, 3, 5, 2, 0, tzinfo=timezone.utc)


def change(kind="issued", old="none", new="orange", change_id="chg-1"):
    return {"change_id": change_id, "student_id": "210301001", "semester": "2023-2024-1", "kind": kind,
            "old_level": old, "new_level": new, "escalated": False, "policy_version": "1", "reasons": []}


def asking(c, settings=AckSettings()):
    specs = ack_policy.mark(notices_for_warning_change(c, PEOPLE), {c["change_id"]: c}, settings)
    return sorted(s.recipient_kind for s in specs if s.requires_acknowledgement)


@pytest.mark.parametrize("level", ["orange", "red"])
@pytest.mark.parametrize("kind", ["issued", "escalated"])
def test_orange_and_above_ask_the_student_and_the_guardian(kind, level):
    assert asking(change(kind=kind, old="yellow" if kind == "escalated" else "none", new=level)) == \
        ["guardian", "student"]


def test_yellow_downgrades_and_lifts_ask_nobody():
    assert asking(change(new="yellow")) == []
    assert asking(change(kind="downgraded", old="red", new="orange")) == []
    assert asking(change(kind="lifted", old="orange", new="none")) == []


def test_levels_are_the_colleges_setting_and_dismissal_is_among_the_defaults():
    assert "dismissal" in AckSettings().levels
    assert ack_policy.asks(change(new="dismissal"), "guardian", AckSettings())
    assert ack_policy.asks(change(new="dismissal"), "student", AckSettings())
    red_only = ack_policy.load({"AQ_ACK_LEVELS": "red"})
    assert asking(change(new="orange"), red_only) == []
    assert asking(change(new="red"), red_only) == ["guardian", "student"]
    assert ack_policy.load({"AQ_ACK_LEVELS": "off"}).levels == frozenset()


def test_staff_never_acknowledge():
    for kind in ("head_teacher", "counselor", "department_head", "vice_dean"):
        assert not ack_policy.asks(change(new="red"), kind, AckSettings())


def test_settings_from_the_environment():
    settings = ack_policy.load({"AQ_LINK_SECRET": "s3cret", "AQ_PUBLIC_URL": "https://aq.example.edu.cn",
                                "AQ_ACK_EXPIRY_DAYS": "10", "AQ_ACK_REMIND_DAYS": "2", "AQ_ACK_OVERDUE_DAYS": "5",
                                "AQ_ACK_SAME_CLIENT_MINUTES": "15"})
    assert (settings.expiry_days, settings.remind_days, settings.overdue_days) == (10, 2, 5)
    assert settings.same_client_window == timedelta(minutes=15) and not settings.development_secret
    assert "s3cret" not in repr(settings)
    assert ack_policy.load({}).development_secret
    assert settings.expires_at(AT) == AT + timedelta(days=10)
    assert settings.remind_cutoff(AT) == AT - timedelta(days=2)


@pytest.mark.parametrize("env,message", [
    ({"AQ_ACK_REMIND_DAYS": "three"}, "AQ_ACK_REMIND_DAYS must be a number"),
    ({"AQ_ACK_EXPIRY_DAYS": "0"}, "AQ_ACK_EXPIRY_DAYS must be a number of days above 0"),
    ({"AQ_ACK_REMIND_DAYS": "14"}, "must be less than AQ_ACK_EXPIRY_DAYS"),
    ({"AQ_ACK_OVERDUE_DAYS": "2"}, "must not come before AQ_ACK_REMIND_DAYS"),
    ({"AQ_ACK_LEVELS": "orange,purple"}, "unknown level"),
    ({"AQ_PUBLIC_URL": "aq.example.edu.cn"}, "AQ_PUBLIC_URL must start with http"),
])
def test_bad_settings_say_what_and_why(env, message):
    with pytest.raises(ValueError, match=message):
        ack_policy.load(env)


def test_same_client_means_same_address_and_browser_within_the_window():
    window = timedelta(minutes=30)
    student_use = [{"ip": "10.0.0.7", "user_agent": "Firefox/120", "at": AT}]
    assert ack_policy.same_client("10.0.0.7", "Firefox/120", AT + timedelta(minutes=29), student_use, window)
    assert ack_policy.same_client("10.0.0.7", "Firefox/120", AT - timedelta(minutes=5), student_use, window)
    assert not ack_policy.same_client("10.0.0.7", "Firefox/120", AT + timedelta(minutes=31), student_use, window)
    assert not ack_policy.same_client("10.0.0.7", "Safari/17", AT, student_use, window)      # the parent's phone
    assert not ack_policy.same_client("10.0.0.8", "Firefox/120", AT, student_use, window)
    assert not ack_policy.same_client(None, "Firefox/120", AT, student_use, window)          # unknown: no claim


def test_the_signer_is_required_and_bounded():
    assert ack_policy.check_signer("  张  伟 ") == "张 伟"
    for bad in (None, "", "   ", 42):
        with pytest.raises(ValueError, match="signer_name is required"):
            ack_policy.check_signer(bad)
    with pytest.raises(ValueError, match="too long"):
        ack_policy.check_signer("x" * 51)


def test_the_page_shows_the_warning_but_masks_who_it_is_about():
    c = change(new="red")
    [spec] = [s for s in notices_for_warning_change(c, PEOPLE) if s.recipient_kind == "guardian"]
    request = {"recipient_kind": "guardian", "semester": "2023-2024-1", "level": "red"}
    page = ack_policy.page(request, spec.context, locale="zh", acknowledged=False)
    assert page["student"] == {"name": "欧**月", "id": "2103***01"}
    assert page["level"] == "red" and page["role"] == "guardian" and page["follow_up"]["parent_contact_days"] == 7
    assert "机械2101" not in str(page) and "欧阳明月" not in str(page) and "210301001" not in str(page)


def test_masks():
    assert ack_policy.mask_name("张三") == "张*" and ack_policy.mask_name("王小明") == "王*明"
    assert ack_policy.mask_name("Li Lei") == "L* L*i" and ack_policy.mask_name(None) == ""
    assert ack_policy.mask_student_id("S1") == "S*" and ack_policy.mask_student_id("210301") == "21****"
