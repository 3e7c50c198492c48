"""SMS through a generic HTTP gateway: one POST per message, JSON or form, with a client reference id.

Settings (``AQ_CHANNEL_SMS_<SETTING>`` or the ``sms`` section of the configuration):
  url               the gateway's send endpoint (required), e.g. https://sms.example.com/api/send
  format            json (default) or form (application/x-www-form-urlencoded)
  phone_field       the request field holding the mobile number (default "mobile")
  text_field        the request field holding the text (default "content")
  reference_field   the request field holding our client reference id (default "client_ref"; the delivery key,
                    the same on every attempt of one delivery)
  extra             a JSON object of constant fields sent with every request, e.g. {"sign_name": "某某学院"}
  token             if set, sent as "Authorization: Bearer <token>"
  headers           a JSON object of further request headers
  ok_field          if set, a 2xx answer is a success only when this field of its JSON body ...
  ok_value          ... equals this value (compared as text), e.g. ok_field=code, ok_value=0
  permanent_values  comma-separated values of ok_field that mean "this message can never go" (invalid number,
                    blocked content); any other non-ok value is temporary
  id_field          the answer's field holding the gateway's message id (kept as the provider reference)
  deduplicates      1 if the gateway accepts a repeated client reference as the SAME message (sends it at most
                    once). Only then is a delivery left in doubt by a crash sent again; otherwise it is marked
                    unconfirmed for staff. Default 0: claim it only for gateways that document it.
  signature         text the gateway puts before every message (e.g. 【某某学院】); counted in the segments
  segment_chars     characters per segment for text with Chinese (UCS-2) characters (default 70)
  ascii_segment_chars  characters per segment for plain ASCII text (default 160)
  max_segments      at most this many segments per message (default 3); a longer text is cut with "…"
  timeout           seconds to wait for the gateway (default 10)
  health_url        if set, `health` GETs it and expects a 2xx; otherwise it checks the gateway accepts connections

Failures: no answer, HTTP 5xx/408/429 -> temporary; other HTTP 4xx -> permanent; a 2xx whose ok_field is not ok_value
-> permanent if the value is one of permanent_values, else temporary.
"""
from __future__ import annotations

import json
import math
import re
from typing import Any, Mapping

from services.notification.channels.base import (
    FAILED_PERMANENT, FAILED_TEMPORARY, SENT, Channel, Checkpoint, DeliveryResult, OutgoingMessage, flag,
)
from services.notification.channels.http import get_ok, post, reachable

ELLIPSIS = "…"
_LINK = re.compile(r"https?://[A-Za-z0-9._~:/?#@!$&'*+,;=%-]+")


def is_ascii(text: str) -> bool:
    return all(ord(ch) < 128 for ch in text)


def segments(text: str, segment_chars: int = 70, ascii_segment_chars: int = 160) -> int:
    """How many SMS segments ``text`` takes: Chinese (UCS-2) text counts ``segment_chars`` per segment."""
    size = ascii_segment_chars if is_ascii(text) else segment_chars
    return max(1, math.ceil(len(text) / size))


def fit(text: str, max_segments: int, segment_chars: int = 70, ascii_segment_chars: int = 160,
        signature: str = "") -> str:
    """``text`` cut (with "…") so that signature + text fits in ``max_segments`` segments."""
    whole = signature + text
    if segments(whole, segment_chars, ascii_segment_chars) <= max_segments:
        return text
    # "…" is not ASCII, so the cut text counts as UCS-2 whatever it was before.
    room = max_segments * segment_chars - len(signature) - len(ELLIPSIS)
    link = _LINK.search(text)
    if link and link.end() > room and room - len(link.group(0)) - 1 > 0:
        # An acknowledgement link cannot be said in other words: cut the words before it, never the link.
        return text[:room - len(link.group(0)) - 1].rstrip() + ELLIPSIS + " " + link.group(0)
    return text[:max(room, 0)].rstrip() + ELLIPSIS


class SmsChannel(Channel):
    name = "sms"
    address_field = "phone"
    SETTINGS = {
        "url": "the gateway's send endpoint (required)",
        "format": "json (default) or form",
        "phone_field": "request field for the mobile number (default mobile)",
        "text_field": "request field for the text (default content)",
        "reference_field": "request field for the client reference id (default client_ref)",
        "extra": "JSON object of constant request fields",
        "token": "bearer token (Authorization header)",
        "headers": "JSON object of further request headers",
        "ok_field": "answer field that says success ...", "ok_value": "... when it has this value",
        "permanent_values": "comma-separated ok_field values meaning the message can never go",
        "id_field": "answer field with the gateway's message id",
        "deduplicates": "1 if the gateway sends a repeated client reference at most once (default 0)",
        "signature": "text the gateway prefixes to every message, e.g. 【某某学院】",
        "segment_chars": "characters per segment of Chinese text (default 70)",
        "ascii_segment_chars": "characters per segment of ASCII text (default 160)",
        "max_segments": "most segments per message (default 3)",
        "timeout": "seconds to wait for the gateway (default 10)",
        "health_url": "GET this for the health check (else: can we connect)",
    }
    SECRET_SETTINGS = frozenset({"token", "headers"})

    def __init__(self, settings: Mapping[str, Any] | None = None):
        super().__init__(settings)
        self.url = str(self.settings.get("url") or "")
        if not self.url:
            raise ValueError("the sms channel needs the gateway's url (AQ_CHANNEL_SMS_URL)")
        self.form = str(self.settings.get("format", "json")).lower() == "form"
        self.phone_field = str(self.settings.get("phone_field") or "mobile")
        self.text_field = str(self.settings.get("text_field") or "content")
        self.reference_field = str(self.settings.get("reference_field") or "client_ref")
        self.extra = _json_object(self.settings.get("extra"), "extra")
        self.headers = _json_object(self.settings.get("headers"), "headers")
        if self.settings.get("token"):
            self.headers["Authorization"] = f"Bearer {self.settings['token']}"
        self.ok_field = self.settings.get("ok_field") or None
        self.ok_value = str(self.settings.get("ok_value", ""))
        self.permanent_values = {v.strip() for v in str(self.settings.get("permanent_values") or "").split(",")
                                 if v.strip()}
        self.id_field = self.settings.get("id_field") or None
        self.idempotent = flag(self.settings.get("deduplicates"))
        self.signature = str(self.settings.get("signature") or "")
        self.segment_chars = int(self.settings.get("segment_chars") or 70)
        self.ascii_segment_chars = int(self.settings.get("ascii_segment_chars") or 160)
        self.max_segments = int(self.settings.get("max_segments") or 3)
        self.timeout = float(self.settings.get("timeout") or 10)

    def text_for(self, message: OutgoingMessage) -> str:
        return fit(message.short or message.subject, self.max_segments, self.segment_chars,
                   self.ascii_segment_chars, self.signature)

    def deliver(self, message: OutgoingMessage, checkpoint: Checkpoint | None = None) -> DeliveryResult:
        if not message.address:
            return DeliveryResult(FAILED_PERMANENT, f"no mobile number for {message.recipient_id}")
        text = self.text_for(message)
        payload = {**self.extra, self.phone_field: message.address, self.text_field: text,
                   self.reference_field: message.key}
        answer = post(self.url, payload, form=self.form, headers=self.headers, timeout=self.timeout,
                      checkpoint=checkpoint)
        if isinstance(answer, DeliveryResult):
            return answer
        count = segments(self.signature + text, self.segment_chars, self.ascii_segment_chars)
        body = answer.json()
        reference = None
        if isinstance(body, dict) and self.id_field and body.get(self.id_field) is not None:
            reference = str(body[self.id_field])
        if self.ok_field:
            value = body.get(self.ok_field) if isinstance(body, dict) else None
            if value is None or str(value) != self.ok_value:
                status = FAILED_PERMANENT if str(value) in self.permanent_values else FAILED_TEMPORARY
                return DeliveryResult(status, f"gateway said {self.ok_field}={value}: {answer.text()}")
        return DeliveryResult(SENT, f"accepted by the gateway ({count} segment{'s' if count != 1 else ''})",
                              reference=reference or message.key)

    def health(self) -> bool:
        url = self.settings.get("health_url")
        return get_ok(str(url)) if url else reachable(self.url)


def _json_object(value: Any, name: str) -> dict:
    if value in (None, ""):
        return {}
    if isinstance(value, Mapping):
        return dict(value)
    parsed = json.loads(str(value))
    if not isinstance(parsed, dict):
        raise ValueError(f"the sms channel's {name} must be a JSON object")
    return parsed
