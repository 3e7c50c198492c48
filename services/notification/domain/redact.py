"""Contacts never appear in full outside the moment of sending: masks for logs, stored errors and listings.

An SMTP server's refusal often quotes the address ("550 5.1.1 <parent@example.org>: no such user") and an SMS
gateway may echo the number; every detail the service keeps or logs goes through ``redact`` first.
"""
from __future__ import annotations

import re

_EMAIL = re.compile(r"([A-Za-z0-9._%+-])[A-Za-z0-9._%+-]*@([A-Za-z0-9.-]+\.[A-Za-z]{2,})")
# Mainland mobile numbers (optionally +86) and any other run of 7+ digits that looks like a phone number.
_PHONE = re.compile(r"(?<!\d)(\+?\d{1,3}[ -]?)?(\d{3})\d{4,}(\d{4})(?!\d)")


def mask_email(address: str) -> str:
    local, _, domain = address.partition("@")
    return f"{local[:1]}***@{domain}" if domain else "***"


def mask_phone(number: str) -> str:
    digits = re.sub(r"\D", "", number)
    return f"{digits[:3]}****{digits[-4:]}" if len(digits) >= 7 else "****"


def mask(address: str | None) -> str:
    if not address:
        return ""
    return mask_email(address) if "@" in address else mask_phone(address)


def redact(text: str | None) -> str:
    """``text`` with every e-mail address and phone number in it masked."""
    if not text:
        return text or ""
    text = _EMAIL.sub(lambda m: f"{m.group(1)}***@{m.group(2)}", text)
    return _PHONE.sub(lambda m: f"{m.group(2)}****{m.group(3)}", text)
