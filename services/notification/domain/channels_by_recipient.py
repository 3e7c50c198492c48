"""On which channels each kind of recipient is told (the default; the service's configuration may override it).

Students and staff use the college's system, so they get the in-app inbox AND e-mail; a parent has no account,
so e-mail only. Configuration (e.g. ``NOTICE_CHANNELS: {guardian: [email, sms]}``) replaces the list of a kind.
"""
from __future__ import annotations

from typing import Iterable, Mapping

from services.notification.domain.recipients import (
    COUNSELOR, DEPARTMENT_HEAD, GUARDIAN, HEAD_TEACHER, RECIPIENT_KINDS, STUDENT, VICE_DEAN,
)

DEFAULT_CHANNELS: dict[str, tuple[str, ...]] = {
    STUDENT: ("in_app", "email"),
    GUARDIAN: ("email",),
    HEAD_TEACHER: ("in_app", "email"),
    COUNSELOR: ("in_app", "email"),
    DEPARTMENT_HEAD: ("in_app", "email"),
    VICE_DEAN: ("in_app", "email"),
}


def channels_by_recipient(configured: Mapping[str, Iterable[str] | str] | None = None) -> dict[str, tuple[str, ...]]:
    """Recipient kind -> channel names: the defaults, with the kinds ``configured`` names replaced."""
    table = dict(DEFAULT_CHANNELS)
    for kind, channels in (configured or {}).items():
        if kind not in RECIPIENT_KINDS:
            raise ValueError(f"unknown recipient kind {kind!r} in the channel configuration "
                             f"(known: {', '.join(RECIPIENT_KINDS)})")
        # A comma-separated string ("in_app,email") is allowed, so an environment variable can set it.
        names = channels.split(",") if isinstance(channels, str) else list(channels)
        table[kind] = tuple(name.strip() for name in names if name and name.strip())
    return table


def channels_for(recipient_kind: str, configured: Mapping[str, Iterable[str] | str] | None = None) -> tuple[str, ...]:
    return channels_by_recipient(configured)[recipient_kind]
