"""The e-mail channel against a REAL local SMTP server (aiosmtpd) on a free port: what arrives, and how refusals map."""
import socket
from email import message_from_bytes, policy

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult

from services.notification.channels import OutgoingMessage, load_channels
from services.notification.channels.email import EmailChannel, SmtpServer
from services.notification.channels.in_app import InAppChannel

SUBJECT = "学业预警通知书：张三同学（橙色预警，2023-2024学年第一学期）"
TEXT = "尊敬的家长：\n\n您好！您的孩子张三的学业情况已达到橙色预警。\n回执：请在收到本通知书后回复确认。\n"
HTML = "<p>尊敬的家长：</p><p>您好！您的孩子张三的学业情况<strong>已达到橙色预警</strong>。</p>"
FROM = "学院教务办公室 <jwb@college.example>"


class Sink:
    """An SMTP server's handler that keeps what it accepts, or answers RCPT / DATA with a set reply."""

    def __init__(self):
        self.received = []          # (mail_from, rcpt_tos, raw message bytes)
        self.rcpt_reply = None
        self.data_reply = None

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if self.rcpt_reply:
            return self.rcpt_reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.data_reply:
            return self.data_reply
        self.received.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.content))
        return "250 Message accepted for delivery"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def smtp_server():
    """(handler, port) of an SMTP server running for this test only."""
    handler = Sink()
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield handler, port
    finally:
        controller.stop()


def channel_for(port, **settings) -> EmailChannel:
    return EmailChannel({"smtp_url": f"smtp://127.0.0.1:{port}", "from": FROM, "timeout": 5, **settings})


def message(key="chg-1|guardian:210301001|email", address="parent@example.org") -> OutgoingMessage:
    return OutgoingMessage(key=key, recipient_id="guardian:210301001", subject=SUBJECT, text=TEXT, html=HTML,
                           address=address)


def test_message_arrives_multipart_with_chinese_subject_encoded(smtp_server):
    sink, port = smtp_server
    channel = channel_for(port)
    result = channel.deliver(message())
    assert result.status == "sent" and result.sent

    [(mail_from, rcpt_tos, raw)] = sink.received
    assert (mail_from, rcpt_tos) == ("jwb@college.example", ["parent@example.org"])
    headers = raw.split(b"\r\n\r\n", 1)[0]
    assert headers.isascii()                                # 7-bit headers: RFC 2047 encoded words
    assert b"Subject: =?utf-8?" in headers
    mail = message_from_bytes(raw, policy=policy.default)
    assert mail["Subject"] == SUBJECT
    assert mail["From"].addresses[0].display_name == "学院教务办公室"
    assert mail["To"] == "parent@example.org"
    assert mail["Message-ID"] == channel.message_id("chg-1|guardian:210301001|email")
    assert mail.get_content_type() == "multipart/alternative"
    plain, html = mail.iter_parts()
    assert plain.get_content_type() == "text/plain" and plain.get_content() == TEXT
    assert html.get_content_type() == "text/html" and html.get_content().strip() == HTML


def test_the_same_delivery_key_gives_the_same_message_id(smtp_server):
    sink, port = smtp_server
    channel = channel_for(port)
    channel.deliver(message(key="k-1"))
    channel.deliver(message(key="k-1"))
    channel.deliver(message(key="k-2"))
    ids = [message_from_bytes(raw, policy=policy.default)["Message-ID"] for _, _, raw in sink.received]
    assert ids[0] == ids[1] != ids[2]
    assert ids[0].endswith("@college.example>")


@pytest.mark.parametrize("stage,reply,status", [
    ("rcpt", "451 4.7.1 Greylisted, try again later", "failed_temporary"),
    ("rcpt", "550 5.1.1 No such mailbox", "failed_permanent"),
    ("data", "451 4.3.0 Local error in processing", "failed_temporary"),
    ("data", "554 5.7.1 Message rejected as spam", "failed_permanent"),
])
def test_smtp_refusals_map_to_temporary_and_permanent_failures(smtp_server, stage, reply, status):
    sink, port = smtp_server
    setattr(sink, f"{stage}_reply", reply)
    result = channel_for(port).deliver(message())
    assert result.status == status
    assert reply.split()[0] in result.detail
    assert sink.received == []


def test_connection_refused_is_a_temporary_failure():
    result = channel_for(free_port(), timeout=2).deliver(message())   # nothing listens there
    assert result.status == "failed_temporary"
    assert "Connection" in result.detail or "refused" in result.detail.lower()


def test_a_recipient_without_address_fails_permanently_without_connecting():
    result = channel_for(free_port()).deliver(message(address=None))
    assert result.status == "failed_permanent" and "guardian:210301001" in result.detail


def test_health_says_whether_the_server_answers(smtp_server):
    _, port = smtp_server
    assert channel_for(port).health() is True
    assert channel_for(free_port(), timeout=2).health() is False


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
def test_login_with_credentials_from_the_url():
    def authenticator(server, session, envelope, mechanism, auth_data):
        # handled=False: the server itself answers a failure with 535.
        return AuthResult(success=(auth_data.login, auth_data.password) == (b"jwb", b"p@ss:word"), handled=False)

    sink = Sink()
    port = free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=port, authenticator=authenticator,
                            auth_required=True, auth_require_tls=False)
    controller.start()
    try:
        good = EmailChannel({"smtp_url": f"smtp://jwb:p%40ss%3Aword@127.0.0.1:{port}", "from": FROM, "timeout": 5})
        assert good.deliver(message()).status == "sent"
        bad = EmailChannel({"smtp_url": f"smtp://jwb:wrong@127.0.0.1:{port}", "from": FROM, "timeout": 5})
        # Our credentials are wrong, not the message: it must still go out once the configuration is fixed.
        refused = bad.deliver(message())
        assert refused.status == "failed_temporary" and "535" in refused.detail
    finally:
        controller.stop()
    assert len(sink.received) == 1


def test_smtp_urls():
    assert SmtpServer.parse("smtp://127.0.0.1:8025") == SmtpServer("127.0.0.1", 8025, "none")
    assert SmtpServer.parse("smtp+starttls://user:p%40ss@mail.college.example:587") == SmtpServer(
        "mail.college.example", 587, "starttls", "user", "p@ss")
    assert SmtpServer.parse("smtps://mail.college.example") == SmtpServer("mail.college.example", 465, "tls")
    with pytest.raises(ValueError):
        SmtpServer.parse("http://mail.college.example")


def test_the_email_channel_needs_a_from_address():
    with pytest.raises(ValueError, match="from"):
        EmailChannel({"smtp_url": "smtp://127.0.0.1:8025"})


def test_in_app_channel_marks_the_notice_delivered_to_the_inbox():
    result = InAppChannel({}).deliver(OutgoingMessage("k", "210301001", SUBJECT, TEXT, HTML))
    assert result.status == "sent" and "210301001" in result.detail
    assert InAppChannel().health() is True


def test_channels_are_loaded_from_entry_points_by_configuration():
    channels = load_channels({"email": {"smtp_url": "smtp://127.0.0.1:8025", "from": FROM}, "in_app": None})
    assert isinstance(channels["email"], EmailChannel) and isinstance(channels["in_app"], InAppChannel)
    assert channels["email"].name == "email" and channels["in_app"].name == "in_app"
    assert list(load_channels({"in_app": {}})) == ["in_app"]         # a channel not configured stays off
    with pytest.raises(LookupError, match="pigeon"):
        load_channels({"pigeon": {}})


def test_an_address_that_would_inject_headers_fails_permanently():
    result = channel_for(free_port()).deliver(message(address="parent@example.org\r\nBcc: someone@example.org"))
    assert result.status == "failed_permanent"


def test_email_is_idempotent_only_for_a_server_configured_to_drop_repeated_message_ids():
    assert not channel_for(free_port()).idempotent
    assert channel_for(free_port(), deduplicates="1").idempotent
