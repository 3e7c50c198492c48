"""Chat robots for staff: a WeCom (企业微信) group robot and a DingTalk (钉钉) custom robot, by webhook.

A group robot posts into a staff group chat and @mentions the recipient by mobile number (the roster's phone), so
use them for staff only — everyone in the group reads the message. The text is the notice's subject and plain text,
cut to the robot's limit.

WeCom group robot (``AQ_CHANNEL_WECOM_<SETTING>``):
  webhook        the robot's URL, https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=... (required; secret)
  mention        1 (default) to @mention the recipient's mobile number, 0 not to
  timeout        seconds (default 10)
  health_url     if set, GET it for the health check (else: can we connect to the webhook's host)
DingTalk custom robot (``AQ_CHANNEL_DINGTALK_<SETTING>``):
  webhook        https://oapi.dingtalk.com/robot/send?access_token=... (required; secret)
  secret         the robot's signing secret (SEC...); when set, every request carries ``timestamp`` (ms) and
                 ``sign`` = urlencode(base64(HMAC-SHA256(key=secret, "timestamp\\nsecret"))) as query parameters
  mention, timeout, health_url as for WeCom

Both answer HTTP 200 with ``{"errcode": 0, ...}`` on success. Rate limiting (both allow 20 messages a minute per
robot; rate_per_minute defaults to 20), "system busy" and a refused configuration (bad key, bad signature, IP not
allowed, keyword missing) are temporary: once the robot or our settings are fixed the notice must still go out.
Any other errcode says this message is wrong: permanent. No answer or HTTP 5xx: temporary.
Neither robot recognises a repeated message, so a delivery left in doubt by a crash is not sent again (unconfirmed).
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import time
from typing import Any, Callable, Mapping
from urllib.parse import quote_plus, urlencode, urlsplit, urlunsplit

from services.notification.channels.base import (
    FAILED_PERMANENT, FAILED_TEMPORARY, SENT, Channel, Checkpoint, DeliveryResult, OutgoingMessage, flag,
)
from services.notification.channels.http import get_ok, post, reachable

DEFAULT_RATE_PER_MINUTE = 20


def dingtalk_sign(secret: str, timestamp_ms: int) -> str:
    """DingTalk's signature: urlencode(base64(HMAC-SHA256(secret, f"{timestamp}\\n{secret}")))."""
    digest = hmac.new(secret.encode("utf-8"), f"{timestamp_ms}\n{secret}".encode("utf-8"), hashlib.sha256).digest()
    return quote_plus(base64.b64encode(digest).decode("ascii"))


def cut_bytes(text: str, limit: int) -> str:
    """``text`` cut to at most ``limit`` UTF-8 bytes (with "…"), never inside a character."""
    if len(text.encode("utf-8")) <= limit:
        return text
    room = limit - len("…".encode("utf-8"))
    return text.encode("utf-8")[:room].decode("utf-8", "ignore").rstrip() + "…"


class _Robot(Channel):
    address_field = "phone"
    requires_address = False         # the phone only serves the @mention
    max_bytes = 2000
    temporary_codes: frozenset[int] = frozenset()
    SETTINGS = {"webhook": "the robot's webhook URL (required; secret)",
                "mention": "1 (default) to @mention the recipient by mobile number",
                "timeout": "seconds (default 10)",
                "health_url": "GET this for the health check (else: can we connect)"}
    SECRET_SETTINGS = frozenset({"webhook", "secret"})

    def __init__(self, settings: Mapping[str, Any] | None = None):
        super().__init__(settings)
        self.webhook = str(self.settings.get("webhook") or "")
        if not self.webhook:
            raise ValueError(f"the {self.name} channel needs the robot's webhook (AQ_CHANNEL_{self.name.upper()}_WEBHOOK)")
        self.mention = flag(self.settings.get("mention"), default=True)
        self.timeout = float(self.settings.get("timeout") or 10)
        self.settings.setdefault("rate_per_minute", DEFAULT_RATE_PER_MINUTE)

    def content(self, message: OutgoingMessage) -> str:
        return cut_bytes(f"{message.subject}\n\n{message.text}".strip(), self.max_bytes)

    def payload(self, message: OutgoingMessage) -> dict:
        raise NotImplementedError

    def url(self) -> str:
        return self.webhook

    def deliver(self, message: OutgoingMessage, checkpoint: Checkpoint | None = None) -> DeliveryResult:
        answer = post(self.url(), self.payload(message), timeout=self.timeout, checkpoint=checkpoint)
        if isinstance(answer, DeliveryResult):
            return answer
        body = answer.json()
        if not isinstance(body, dict) or "errcode" not in body:
            return DeliveryResult(FAILED_TEMPORARY, f"unexpected answer from the {self.name} robot: {answer.text()}")
        code = int(body["errcode"])
        if code == 0:
            return DeliveryResult(SENT, f"posted by the {self.name} robot", reference=message.key)
        status = FAILED_TEMPORARY if code in self.temporary_codes or code < 0 else FAILED_PERMANENT
        return DeliveryResult(status, f"{self.name} robot errcode {code}: {str(body.get('errmsg', ''))[:200]}")

    def health(self) -> bool:
        url = self.settings.get("health_url")
        return get_ok(str(url)) if url else reachable(self.webhook)


class WeComRobot(_Robot):
    name = "wecom"
    max_bytes = 2048                 # text messages: at most 2048 bytes
    # -1 system busy; 45009 API frequency limit; 93000 invalid webhook key; 93004 robot disabled; 93008 not in group
    temporary_codes = frozenset({-1, 45009, 45033, 93000, 93004, 93008})

    def payload(self, message: OutgoingMessage) -> dict:
        text: dict[str, Any] = {"content": self.content(message)}
        if self.mention and message.address:
            text["mentioned_mobile_list"] = [message.address]
        return {"msgtype": "text", "text": text}


class DingTalkRobot(_Robot):
    name = "dingtalk"
    max_bytes = 5000
    # -1 busy; 130101 sending too fast; 310000 signature / keyword / IP whitelist refused; 400013 robot disabled
    temporary_codes = frozenset({-1, 130101, 130102, 310000, 400013, 410100})
    SETTINGS = {**_Robot.SETTINGS, "secret": "the robot's signing secret (SEC...), if the robot uses signing"}

    def __init__(self, settings: Mapping[str, Any] | None = None, clock: Callable[[], float] = time.time):
        super().__init__(settings)
        self.secret = str(self.settings.get("secret") or "")
        self.clock = clock

    def url(self) -> str:
        if not self.secret:
            return self.webhook
        timestamp = int(self.clock() * 1000)
        parts = urlsplit(self.webhook)
        # sign is already url-encoded (the robot's documented scheme), so it is appended as is.
        query = "&".join(filter(None, [parts.query, urlencode({"timestamp": timestamp}),
                                       f"sign={dingtalk_sign(self.secret, timestamp)}"]))
        return urlunsplit((parts.scheme, parts.netloc, parts.path, query, ""))

    def payload(self, message: OutgoingMessage) -> dict:
        mobiles = [message.address] if self.mention and message.address else []
        return {"msgtype": "text", "text": {"content": self.content(message)},
                "at": {"atMobiles": mobiles, "isAtAll": False}}
