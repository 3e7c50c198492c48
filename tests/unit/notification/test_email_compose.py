"""The e-mail channel writes its messages out itself (no email-package generator, for speed): what it writes must
read back through the email package exactly as intended — headers decoded, both parts, text as given — with no
line over 78 characters and no header injection."""
from email import message_from_bytes, policy

import pytest

from services.notification.channels.base import OutgoingMessage
from services.notification.channels.email import EmailChannel

SUBJECT = "学业预警通知书：张三同学（橙色预警，2023-2024学年第一学期）"


def compose(subject=SUBJECT, text="尊敬的家长：\n\n您好！\n", html="<p>您好</p>", sender="学院教务办公室 <jwb@college.example>",
            address="p210301001@family.example.com"):
    channel = EmailChannel({"smtp_url": "smtp://127.0.0.1:1", "from": sender})
    message = OutgoingMessage(key="N-1234", recipient_id="guardian:210301001", subject=subject, text=text, html=html,
                              address=address)
    return channel, channel.compose(message)


@pytest.mark.parametrize("subject", [SUBJECT * 3, "Academic warning", "Warning " * 20, "x"])
@pytest.mark.parametrize("sender", ["学院教务办公室 <jwb@college.example>", "jwb@college.example",
                                    "Academic Affairs Office <jwb@college.example>"])
def test_what_is_written_reads_back_through_the_email_package(subject, sender):
    channel, raw = compose(subject=subject, sender=sender, text="第一行\r\n第二行\rthird\n" * 30)
    mail = message_from_bytes(raw, policy=policy.default)
    assert not mail.defects
    assert str(mail["Subject"]) == subject
    assert mail["From"].addresses[0].addr_spec == "jwb@college.example"
    assert str(mail["To"]) == "p210301001@family.example.com"
    assert str(mail["Message-ID"]) == channel.message_id("N-1234")
    assert mail["Auto-Submitted"] == "auto-generated"
    assert mail.get_content_type() == "multipart/alternative"
    plain, html = mail.iter_parts()
    assert (plain.get_content_type(), html.get_content_type()) == ("text/plain", "text/html")
    assert plain["Content-Transfer-Encoding"] == "base64" and plain.get_content_charset() == "utf-8"
    assert plain.get_content() == "第一行\n第二行\nthird\n" * 30
    assert html.get_content() == "<p>您好</p>\n"
    assert all(len(line) <= 78 for line in raw.split(b"\r\n"))
    assert b"\n" not in raw.replace(b"\r\n", b"")                 # CRLF line ends only
    assert raw.isascii()                                           # 7-bit: no 8BITMIME needed


@pytest.mark.parametrize("field", ["subject", "address", "sender"])
def test_a_line_break_in_a_header_is_refused(field):
    with pytest.raises(ValueError):
        compose(**{field: {"subject": "hi\r\nBcc: x@evil.example", "address": "a@b.example\nBcc: x@evil.example",
                           "sender": "jwb@college.example\r\nBcc: x@evil.example"}[field]})
