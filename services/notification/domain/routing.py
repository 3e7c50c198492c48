"""On which channels each recipient is told: ROUTES, each a fallback chain.

A recipient's routes are written ``in_app,sms>email``:

* ``,`` separates independent routes: each one delivers (the student gets the in-app notice AND the e-mail);
* ``>`` makes a fallback chain: the first channel is tried; only if it fails PERMANENTLY (or runs out of retries)
  is the next one used (a guardian gets an SMS; an e-mail only if the SMS cannot be delivered).

Defaults per recipient kind are below; the configuration (``AQ_NOTICE_ROUTES``) replaces the routes of a kind, and a
recipient's own preference (``aq notices prefer``) replaces those of their kind. A channel that is installed but not
enabled is skipped inside its chain, so the guardian's default ``sms>email`` means e-mail until an SMS gateway is
configured. A channel name that no plugin provides is an error: a typo must not silently drop notices.
"""
from __future__ import annotations

from typing import Iterable, Mapping

from services.notification.domain.recipients import (
    COUNSELOR, DEPARTMENT_HEAD, GUARDIAN, HEAD_TEACHER, RECIPIENT_KINDS, STAFF, STUDENT, VICE_DEAN,
)

Chain = tuple[str, ...]
Routes = tuple[Chain, ...]

DEFAULT_ROUTES: dict[str, str] = {
    STUDENT: "in_app,email",
    GUARDIAN: "sms>email",       # a parent has no account: SMS first, e-mail if the SMS cannot be delivered
    HEAD_TEACHER: "in_app,email",
    COUNSELOR: "in_app,email",
    DEPARTMENT_HEAD: "in_app,email",
    VICE_DEAN: "in_app,email",
    STAFF: "in_app,email",       # task assignments and digests (the assignee's role is not in the task)
}


def parse_routes(text: str | Iterable[str]) -> Routes:
    """``"in_app, sms>email"`` -> ``(("in_app",), ("sms", "email"))``; a list of route strings is accepted too."""
    parts = text.split(",") if isinstance(text, str) else list(text)
    routes = []
    for part in parts:
        chain = tuple(name.strip() for name in str(part).split(">") if name.strip())
        if chain:
            routes.append(chain)
    if not routes:
        raise ValueError(f"no channel in routes {text!r}")
    return tuple(routes)


def format_routes(routes: Routes) -> str:
    return ",".join(">".join(chain) for chain in routes)


def parse_route_table(text: str) -> dict[str, str]:
    """``"guardian=sms>email; head_teacher=in_app,wecom>email"`` -> {kind: routes text} (the env form)."""
    table = {}
    for item in filter(None, (part.strip() for part in text.split(";"))):
        kind, sep, routes = item.partition("=")
        if not sep:
            raise ValueError(f"bad route setting {item!r}: want KIND=ROUTES, e.g. guardian=sms>email")
        table[kind.strip()] = routes.strip()
    return table


def routes_by_kind(configured: Mapping[str, str | Iterable[str]] | None = None,
                   known_channels: Iterable[str] | None = None) -> dict[str, Routes]:
    """Recipient kind -> routes: the defaults, with the kinds ``configured`` names replaced (and checked)."""
    table = {kind: parse_routes(text) for kind, text in DEFAULT_ROUTES.items()}
    for kind, text in (configured or {}).items():
        if kind not in table:
            raise ValueError(f"unknown recipient kind {kind!r} in the routes "
                             f"(known: {', '.join(RECIPIENT_KINDS + (STAFF,))})")
        table[kind] = parse_routes(text)
    if known_channels is not None:
        for routes in table.values():
            check_channels(routes, known_channels)
    return table


def check_channels(routes: Routes, known_channels: Iterable[str]) -> None:
    known = set(known_channels)
    for chain in routes:
        for name in chain:
            if name not in known:
                raise ValueError(f"unknown channel {name!r} in routes {format_routes(routes)!r} "
                                 f"(installed: {', '.join(sorted(known))})")


def usable(routes: Routes, enabled: Iterable[str]) -> Routes:
    """The routes with the channels that are not enabled left out (an empty chain disappears)."""
    on = set(enabled)
    kept = []
    for chain in routes:
        left = tuple(name for name in chain if name in on)
        if left:
            kept.append(left)
    return tuple(kept)
