"""Every channel plugin against a real local server the test starts: SMTP with STARTTLS, TLS and login; the SMS
gateway (JSON and form); the WeCom and DingTalk robots (DingTalk's signature checked by the server); health checks;
temporary vs permanent failures; the point of no return."""
import time

import pytest

from services.notification.channels import OutgoingMessage, load_channels
from services.notification.channels.email import EmailChannel
from services.notification.channels.robots import DingTalkRobot, WeComRobot
from services.notification.channels.sms import SmsChannel, segments
from tests.unit.notification.standins import (
    Hold, RobotServer, SmsGateway, SmtpStandIn, free_port, self_signed_certificate,
)

FROM = "学院教务办公室 <jwb@college.example>"
SHORT = "家长您好：您的孩子张三（学号210301001）2023-2024学年第一学期学业已达到红色预警（应修未得学分 26 学分）。班主任将在7天内与孩子面谈。"


def message(key="N-0001", address="parent@example.org", short=SHORT, recipient="guardian:210301001"):
    return OutgoingMessage(key=key, recipient_id=recipient, subject="【学业预警】张三同学", text="尊敬的家长：\n您好！",
                           html="<p>尊敬的家长：</p>", address=address, short=short, recipient_kind="guardian")


@pytest.fixture(scope="module")
def certificate(tmp_path_factory):
    return self_signed_certificate(tmp_path_factory.mktemp("tls"))


# --- e-mail -----------------------------------------------------------------------------------------------------

def test_email_over_starttls_with_login_verifies_the_server_and_sends_html_and_plain(certificate):
    cert, _ = certificate
    with SmtpStandIn(tls_files=certificate, credentials=("jwb", "p@ss")) as server:
        channel = EmailChannel({"smtp_url": f"smtp+starttls://127.0.0.1:{server.port}", "username": "jwb",
                                "password": "p@ss", "ca_file": str(cert), "from": FROM, "timeout": 5})
        assert channel.health() is True
        result = channel.deliver(message())
        assert result.status == "sent" and result.reference == channel.message_id("N-0001")
        [mail] = server.messages_to("parent@example.org")
        assert mail.get_content_type() == "multipart/alternative"
        assert [p.get_content_type() for p in mail.iter_parts()] == ["text/plain", "text/html"]
        assert mail["Message-ID"] == channel.message_id("N-0001")

        wrong_password = EmailChannel({**channel.settings, "password": "nope"})
        assert wrong_password.deliver(message()).status == "failed_temporary"       # our problem, not the message's
        untrusted = EmailChannel({**channel.settings, "ca_file": None})
        refused = untrusted.deliver(message())
        assert refused.status == "failed_temporary" and "CERTIFICATE_VERIFY_FAILED" in refused.detail
        assert untrusted.health() is False
    assert len(server.received) == 1


def test_email_over_implicit_tls(certificate):
    cert, _ = certificate
    with SmtpStandIn(tls_files=certificate, implicit_tls=True) as server:
        channel = EmailChannel({"smtp_url": f"smtps://127.0.0.1:{server.port}", "ca_file": str(cert), "from": FROM,
                                "timeout": 5})
        assert channel.deliver(message()).status == "sent"
        assert len(server.messages_to("parent@example.org")) == 1


def test_email_refusals_never_show_the_full_address():
    with SmtpStandIn() as server:
        server.rcpt_replies["someone.private@example.org"] = ["550 5.1.1 <someone.private@example.org>: no such user"]
        result = EmailChannel({"smtp_url": server.url, "from": FROM, "timeout": 5}).deliver(
            message(address="someone.private@example.org"))
    assert result.status == "failed_permanent"
    assert "someone.private" not in result.detail and "s***@example.org" in result.detail


def test_email_stops_before_the_final_dot_when_the_checkpoint_says_so_and_the_server_keeps_nothing():
    with SmtpStandIn() as server:
        channel = EmailChannel({"smtp_url": server.url, "from": FROM, "timeout": 5})
        calls = []
        abandoned = channel.deliver(message(), checkpoint=lambda: calls.append("checkpoint") or False)
        assert abandoned.status == "abandoned" and calls == ["checkpoint"]
        time.sleep(0.2)                                  # give the server the chance to (wrongly) store it
        assert server.received == []
        assert channel.deliver(message(), checkpoint=lambda: True).status == "sent"
        assert len(server.received) == 1


def test_email_without_a_reply_after_the_data_is_in_doubt():
    with SmtpStandIn() as server:
        hold = server.hold_after_data["parent@example.org"] = Hold()
        result = EmailChannel({"smtp_url": server.url, "from": FROM, "timeout": 1}).deliver(message())
        hold.release()
        assert result.status == "failed_temporary" and result.in_doubt
        assert len(server.received) == 1                 # the server has it: sending again would be a duplicate


# --- SMS --------------------------------------------------------------------------------------------------------

def sms_channel(gateway, **settings):
    return SmsChannel({"url": gateway.url("/send"), "token": "s3cret", "ok_field": "code", "ok_value": "0",
                       "permanent_values": "40001,40002", "id_field": "msg_id", "signature": "【某某学院】",
                       "timeout": 2, **settings})


def test_sms_json_gateway_gets_number_text_and_client_reference():
    with SmsGateway() as gateway:
        channel = sms_channel(gateway)
        result = channel.deliver(message(address="18710026086"))
        assert result.status == "sent" and result.reference == "M-1" and "2 segments" in result.detail
        [request] = gateway.requests
        assert request == {"mobile": "18710026086", "content": SHORT, "client_ref": "N-0001"}
        assert segments("【某某学院】" + SHORT) == 2


def test_sms_form_gateway_with_constant_fields_and_the_text_capped_in_70_character_segments():
    with SmsGateway(token=None) as gateway:
        channel = SmsChannel({"url": gateway.url("/send"), "format": "form", "extra": '{"sign_name": "某某学院"}',
                              "max_segments": "2", "signature": "【某某学院】"})
        assert channel.deliver(message(address="18710026086", short="学" * 300)).status == "sent"
        [request] = gateway.requests
        assert request["sign_name"] == "某某学院" and request["client_ref"] == "N-0001"
        assert request["content"].endswith("…") and len("【某某学院】" + request["content"]) == 140


def test_sms_gateway_failures_are_temporary_or_permanent():
    with SmsGateway() as gateway:
        channel = sms_channel(gateway)
        gateway.script["18710026086"] = [("status", 503), ("status", 429), ("status", 400), ("code", 40001),
                                         ("code", 50010)]
        outcomes = [channel.deliver(message(address="18710026086")) for _ in range(5)]
        assert [o.status for o in outcomes] == ["failed_temporary", "failed_temporary", "failed_permanent",
                                                "failed_permanent", "failed_temporary"]
        assert not any(o.in_doubt for o in outcomes)
        assert "18710026086" not in " ".join(o.detail for o in outcomes)
        assert sms_channel(gateway, token="wrong").deliver(message(address="18710026086")).status == "failed_permanent"
        assert channel.deliver(message(address=None)).status == "failed_permanent"
        assert gateway.delivered == {}


def test_sms_timeout_after_sending_is_in_doubt_but_no_gateway_at_all_is_not():
    with SmsGateway() as gateway:
        gateway.script["18710026086"] = [("sleep", 3)]
        slow = sms_channel(gateway, timeout=1).deliver(message(address="18710026086"))
        assert slow.status == "failed_temporary" and slow.in_doubt
    nobody = SmsChannel({"url": f"http://127.0.0.1:{free_port()}/send", "timeout": 1}).deliver(
        message(address="18710026086"))
    assert nobody.status == "failed_temporary" and not nobody.in_doubt


def test_sms_gateway_that_deduplicates_makes_the_channel_idempotent_and_a_repeat_is_one_message():
    with SmsGateway() as gateway:
        channel = sms_channel(gateway, deduplicates="1")
        assert channel.idempotent and not sms_channel(gateway).idempotent
        assert channel.deliver(message(address="18710026086")).status == "sent"
        assert channel.deliver(message(address="18710026086")).status == "sent"
        assert len(gateway.requests_for("N-0001")) == 2 and list(gateway.delivered) == ["N-0001"]


def test_sms_health():
    with SmsGateway() as gateway:
        assert sms_channel(gateway, health_url=gateway.url("/health")).health() is True
        assert sms_channel(gateway).health() is True
    assert SmsChannel({"url": f"http://127.0.0.1:{free_port()}/send"}).health() is False
    with pytest.raises(ValueError, match="AQ_CHANNEL_SMS_URL"):
        SmsChannel({})


# --- chat robots ------------------------------------------------------------------------------------------------

def test_wecom_robot_posts_the_notice_and_mentions_the_staff_member():
    with RobotServer() as robots:
        channel = WeComRobot({"webhook": robots.wecom_url})
        result = channel.deliver(message(address="13597942942", recipient="T1001"))
        assert result.status == "sent"
        [posted] = robots.wecom
        assert posted["msgtype"] == "text" and posted["text"]["content"].startswith("【学业预警】张三同学\n\n尊敬的家长")
        assert posted["text"]["mentioned_mobile_list"] == ["13597942942"]
        assert channel.deliver(message(address=None, recipient="T1001")).status == "sent"   # no phone: no mention
        assert "mentioned_mobile_list" not in robots.wecom[-1]["text"]
        assert channel.health() is True
        assert int(channel.settings["rate_per_minute"]) == 20


@pytest.mark.parametrize("errcode,status", [(45009, "failed_temporary"), (-1, "failed_temporary"),
                                            (40058, "failed_permanent")])
def test_wecom_errcodes(errcode, status):
    with RobotServer() as robots:
        robots.errcodes = [errcode]
        assert WeComRobot({"webhook": robots.wecom_url}).deliver(message()).status == status


def test_wecom_bad_key_and_server_errors_are_temporary():
    with RobotServer() as robots:
        bad = WeComRobot({"webhook": robots.url("/cgi-bin/webhook/send?key=wrong")}).deliver(message())
        assert bad.status == "failed_temporary" and "93000" in bad.detail and "wrong" not in bad.detail
        robots.statuses = [502]
        assert WeComRobot({"webhook": robots.wecom_url}).deliver(message()).status == "failed_temporary"
        assert robots.wecom == []


def test_dingtalk_robot_signs_each_request_as_documented():
    with RobotServer() as robots:
        channel = DingTalkRobot({"webhook": robots.dingtalk_url, "secret": robots.dingtalk_secret})
        assert channel.deliver(message(address="13597942942", recipient="T1001")).status == "sent"
        [posted] = robots.dingtalk
        assert posted["at"] == {"atMobiles": ["13597942942"], "isAtAll": False}
        assert posted["text"]["content"].startswith("【学业预警】张三同学")
        query = robots.raw_queries[-1]
        assert query.startswith("access_token=dt-1&timestamp=") and "&sign=" in query
        raw_sign = query.split("&sign=", 1)[1]
        assert "%" in raw_sign and "+" not in raw_sign and "/" not in raw_sign      # url-encoded base64

        unsigned = DingTalkRobot({"webhook": robots.dingtalk_url}).deliver(message())
        wrong = DingTalkRobot({"webhook": robots.dingtalk_url, "secret": "SECwrong"}).deliver(message())
        stale = DingTalkRobot({"webhook": robots.dingtalk_url, "secret": robots.dingtalk_secret},
                              clock=lambda: time.time() - 7200).deliver(message())
        for refused in (unsigned, wrong, stale):
            assert refused.status == "failed_temporary" and "310000" in refused.detail
        assert len(robots.dingtalk) == 1
        robots.errcodes = [130101]
        assert channel.deliver(message()).status == "failed_temporary"


def test_robots_need_a_webhook_and_hide_their_secrets():
    with pytest.raises(ValueError, match="AQ_CHANNEL_WECOM_WEBHOOK"):
        WeComRobot({})
    described = DingTalkRobot({"webhook": "https://oapi.dingtalk.com/robot/send?access_token=t",
                               "secret": "SECx"}).describe()
    assert described["settings"]["webhook"] == "***" and described["settings"]["secret"] == "***"
    assert DingTalkRobot({"webhook": f"http://127.0.0.1:{free_port()}/robot/send"}).health() is False


def test_every_channel_is_a_plugin_built_from_its_own_settings():
    with SmsGateway() as gateway, RobotServer() as robots:
        channels = load_channels({"in_app": {}, "email": {"from": FROM}, "sms": {"url": gateway.url("/send")},
                                  "wecom": {"webhook": robots.wecom_url}, "dingtalk": {"webhook": robots.dingtalk_url}})
        assert {name: type(c).__name__ for name, c in channels.items()} == {
            "in_app": "InAppChannel", "email": "EmailChannel", "sms": "SmsChannel", "wecom": "WeComRobot",
            "dingtalk": "DingTalkRobot"}
        assert all(c.name == name for name, c in channels.items())
