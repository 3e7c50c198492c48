"""Every notice that asks for an acknowledgement carries its link in both languages and every form (text, HTML, SMS),
and the SMS keeps the link whole when it is cut to its segments."""
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from services.notification.acknowledgements import Links
from services.notification.channels.sms import fit, segments
from services.notification.domain import ack_policy
from services.notification.domain.ack_links import tokens_in
from services.notification.domain.ack_policy import AckSettings
from services.notification.domain.examples import PEOPLE, example_change
from services.notification.domain.recipients import notices_for_warning_change
from services.notification.domain.rendering import LINK_STAND_IN, render

T0 = datetime(2024, 3, 5, 2, 0, tzinfo=timezone.utc)
SETTINGS = AckSettings(public_url="https://aq.jwc.college.example.edu.cn")


def asking_specs(kind="issued", old="none", new="red"):
    c = example_change(kind, old, new)
    specs = ack_policy.mark(notices_for_warning_change(c, PEOPLE), {c["change_id"]: c}, SETTINGS)
    asking = [s for s in specs if s.requires_acknowledgement]
    reminders = [ack_policy.reminder_spec({"ack_id": f"A-{s.recipient_kind}", "recipient_kind": s.recipient_kind,
                                           "recipient_id": s.recipient_id},
                                          {**s.context, "audience": s.recipient_kind, "requested_on": "2024-03-05"})
                 for s in asking]
    return asking + reminders


def with_link(spec, channel="email"):
    links = Links(SETTINGS, {(spec.cause, spec.recipient_id): T0 + timedelta(days=14)}, ZoneInfo("Asia/Shanghai"))
    ack = links.context("N-0123456789abcdef", spec, channel)
    return replace(spec, context={**spec.context, "ack": ack}), ack["url"]


@pytest.mark.parametrize("locale", ["zh", "en"])
@pytest.mark.parametrize("kind,old,new", [("issued", "none", "orange"), ("escalated", "orange", "red")])
def test_each_form_carries_the_recipients_own_link_and_its_date(locale, kind, old, new):
    specs = asking_specs(kind, old, new)
    assert sorted((s.kind, s.recipient_kind) for s in specs) == sorted([
        ("acknowledgement_reminder", "guardian"), ("acknowledgement_reminder", "student"),
        ("warning_formal", "guardian"), (f"warning_{kind}", "student")])
    for spec in specs:
        own, url = with_link(spec, "sms")
        rendered = render(own, locale)
        for body in (rendered.text, rendered.html, rendered.short):
            assert url in body, (spec.kind, spec.recipient_kind, body)
            assert set(tokens_in(body)) == {url.rsplit("/", 1)[1]}          # that link and no other
        assert "2024-03-19" in rendered.text and "2024-03-19" in rendered.short
        sms = fit(rendered.short, 3, signature="【某某学院】")
        assert url in sms and segments("【某某学院】" + sms) <= 3, sms


@pytest.mark.parametrize("locale", ["zh", "en"])
@pytest.mark.parametrize("channel", ["email", "sms", "in_app"])
def test_one_rendering_with_a_stand_in_link_gives_each_notice_exactly_its_own_texts(locale, channel):
    # handlers.store_notices renders a spec once and puts each notice's own link in (RenderedNotice.with_link);
    # an address with characters HTML escapes shows the link is escaped in the HTML exactly as Jinja escapes it.
    odd = AckSettings(public_url="https://aq.example.edu.cn/portal?a=1&b='x'")
    for spec in asking_specs():
        links = Links(odd, {(spec.cause, spec.recipient_id): T0 + timedelta(days=14)}, ZoneInfo("Asia/Shanghai"))
        ack = links.context("N-0123456789abcdef", spec, channel)
        if ack is None:
            continue                                   # the guardian's link never goes to an inbox
        stand_in = replace(spec, context={**spec.context, "ack": {**ack, "url": LINK_STAND_IN}})
        own = replace(spec, context={**spec.context, "ack": ack})
        assert render(stand_in, locale).with_link(ack["url"]) == render(own, locale)
        assert "&amp;b=&#39;x&#39;" in render(own, locale).html


@pytest.mark.parametrize("locale", ["zh", "en"])
def test_the_guardians_sms_still_says_why_when_there_is_room(locale):
    [spec] = [s for s in asking_specs() if s.kind == "warning_formal"]
    own, url = with_link(spec, "sms")
    short = render(own, locale).short
    assert url in short and "26" in short


def test_a_notice_that_asks_but_has_no_link_says_how_else_to_confirm():
    [spec] = [s for s in asking_specs() if s.kind == "warning_formal"]
    rendered = render(spec, "zh")                      # e.g. the guardian's in-app notice: no link there
    assert "http" not in rendered.text + rendered.html + rendered.short
    assert "确认方式将另行告知" in rendered.text


def test_staff_notices_of_the_same_warning_ask_nothing():
    c = example_change("issued", "none", "red")
    specs = ack_policy.mark(notices_for_warning_change(c, PEOPLE), {c["change_id"]: c}, SETTINGS)
    staff = [s for s in specs if s.recipient_kind not in ("student", "guardian")]
    assert staff and not any(s.requires_acknowledgement for s in staff)
    links = Links(SETTINGS, {(s.cause, s.recipient_id): T0 for s in specs}, ZoneInfo("Asia/Shanghai"))
    assert all(links.context("N-0123456789abcdef", s, "email") is None for s in staff)
