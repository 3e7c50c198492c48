"""Phone numbers and e-mail addresses shown only as much as the reader needs: enough to recognise, never whole."""
from __future__ import annotations

import re

_PHONE = re.compile(r"(?<!\d)(1[3-9]\d)(\d{4})(\d{4})(?!\d)")
_EMAIL = re.compile(r"([A-Za-z0-9._%+\-])[A-Za-z0-9._%+\-]*(@[A-Za-z0-9.\-]+\.[A-Za-z]{2,})")


def mask_phone(value: str | None) -> str | None:
    """13812345678 -> 138****5678."""
    if not value:
        return value
    text = str(value).strip()
    if len(text) < 7:
        return "*" * len(text)
    return text[:3] + "*" * (len(text) - 7) + text[-4:]


def mask_email(value: str | None) -> str | None:
    """zhang.san@college.edu.cn -> z***@college.edu.cn."""
    if not value:
        return value
    local, sep, domain = str(value).strip().partition("@")
    if not sep:
        return mask_phone(value)
    return f"{local[:1]}***@{domain}"


def mask_text(text: str | None) -> str | None:
    """Mask every mainland mobile number and e-mail address inside free text (notice bodies, error messages)."""
    if not text:
        return text
    text = _PHONE.sub(lambda m: f"{m[1]}****{m[3]}", text)
    return _EMAIL.sub(lambda m: f"{m[1]}***{m[2]}", text)


def mask_values(value):
    """``mask_text`` through every string of a JSON-like value (a duty's record: a parent contact's notes may hold a
    phone number)."""
    if isinstance(value, str):
        return mask_text(value)
    if isinstance(value, dict):
        return {k: mask_values(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [mask_values(v) for v in value]
    return value
