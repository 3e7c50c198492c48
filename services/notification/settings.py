"""The notification service's settings, from the environment (every variable is listed in docs/notifications.md).

Channels
  AQ_NOTICE_CHANNELS            the channels that are ON, e.g. "in_app,email,sms,wecom" (default "in_app,email").
                                Each must be an installed plugin (entry point group aq.notification_channels).
  AQ_CHANNEL_<NAME>_<SETTING>   a setting of channel <NAME>, e.g. AQ_CHANNEL_SMS_URL, AQ_CHANNEL_DINGTALK_SECRET
                                (the settings of each channel are in its module's docstring). The e-mail channel also
                                takes AQ_SMTP_URL and AQ_MAIL_FROM as defaults for its smtp_url and from.
Routing
  AQ_NOTICE_ROUTES              routes per recipient kind, "guardian=sms>email; head_teacher=in_app,wecom>email"
                                (domain/routing.py; defaults there). A recipient's own preference wins.
  AQ_NOTICE_LOCALE              zh (default) or en: the language of notices for recipients without a preference.
When
  AQ_NOTICE_QUIET_HOURS         "guardian:sms=22:00-07:00" (default); "KIND:CHANNEL=HH:MM-HH:MM,..."; "off" for none.
  AQ_NOTICE_DIGEST_TIMES        "08:00" (default): when each staff member's digest of tasks goes out (several:
                                "08:00,14:00"); "off": every task is told at once.
  AQ_NOTICE_TASKS               on (default) / off: whether staff are told of their tasks at all.
  AQ_TIMEZONE                   the college's time zone for quiet hours and digests (default Asia/Shanghai).
Retries and delivery
  AQ_NOTICE_RETRY_BASE_SECONDS  first retry after about this long (default 5); doubles each attempt, with jitter
  AQ_NOTICE_RETRY_MAX_SECONDS   ... up to this (default 1800)
  AQ_NOTICE_MAX_ATTEMPTS        attempts before a temporarily failing delivery fails and falls back (default 6)
  AQ_DELIVERY_LEASE_SECONDS     how long a sender owns a claimed delivery (default 60; must exceed a channel's
                                slowest answer — SMTP's timeout is per reply)
  AQ_DELIVERY_POLL_SECONDS      how often the timer looks for due deliveries and digests (default 2)
  AQ_DELIVERY_CONCURRENCY       deliveries handed over at the same time by one worker (default 8)
  AQ_DELIVERY_BATCH             deliveries claimed at a time (default 200; all are handed over within one lease)
  AQ_DELIVERY_HANDOVER_BATCH    at most this many deliveries of one channel handed over together: one session, one
                                checkpoint statement and one statement for their outcomes (default 20). A sender
                                killed mid-batch leaves up to this many in doubt (unconfirmed, for staff, on channels
                                that cannot recognise a repeat); 1: one at a time, the narrowest window
Acknowledgements (回执)
  AQ_ACK_LEVELS, AQ_LINK_SECRET, AQ_PUBLIC_URL, AQ_ACK_EXPIRY_DAYS, AQ_ACK_REMIND_DAYS, AQ_ACK_OVERDUE_DAYS,
  AQ_ACK_SAME_CLIENT_MINUTES    see domain/ack_policy.py
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import time
from typing import Any, Mapping
from zoneinfo import ZoneInfo

from services.notification.channels import available_channels
from services.notification.domain import ack_policy
from services.notification.domain.ack_policy import AckSettings
from services.notification.domain.rendering import check_locale
from services.notification.domain.routing import Routes, parse_route_table, routes_by_kind
from services.notification.domain.schedule import (
    DEFAULT_DIGEST_TIMES, DEFAULT_QUIET_HOURS, QuietWindow, RetryPolicy, parse_digest_times, parse_quiet_hours,
)
from shared.config import DEFAULT_SMTP_URL

DEFAULT_CHANNELS = "in_app,email"
DEFAULT_FROM = "academic-quality@college.example.edu.cn"


@dataclass(frozen=True)
class NotificationSettings:
    channels: dict[str, dict[str, Any]]          # enabled channel -> its settings
    routes: dict[str, Routes]
    locale: str = "zh"
    quiet_hours: tuple[QuietWindow, ...] = ()
    digest_times: tuple[time, ...] = ()
    tell_tasks: bool = True
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    lease_seconds: float = 60.0
    poll_seconds: float = 2.0
    concurrency: int = 8
    batch_size: int = 200
    handover_batch: int = 20
    zone: ZoneInfo = field(default_factory=lambda: ZoneInfo("Asia/Shanghai"))
    acknowledgement: AckSettings = field(default_factory=AckSettings)


def _number(env: Mapping[str, str], name: str, default: float) -> float:
    value = env.get(name, "")
    return float(value) if str(value).strip() else default


def _switch(env: Mapping[str, str], name: str, default: bool) -> bool:
    value = str(env.get(name, "")).strip().lower()
    if not value:
        return default
    if value in ("on", "1", "true", "yes"):
        return True
    if value in ("off", "0", "false", "no"):
        return False
    raise ValueError(f"{name} must be on or off, not {value!r}")


def channel_settings(names: list[str], env: Mapping[str, str]) -> dict[str, dict[str, Any]]:
    """name -> settings from AQ_CHANNEL_<NAME>_<SETTING> (lower-cased setting names)."""
    result: dict[str, dict[str, Any]] = {}
    for name in names:
        prefix = f"AQ_CHANNEL_{name.upper()}_"
        section = {key[len(prefix):].lower(): value for key, value in env.items() if key.startswith(prefix)}
        if name == "email":
            section.setdefault("smtp_url", env.get("AQ_SMTP_URL") or DEFAULT_SMTP_URL)
            section.setdefault("from", env.get("AQ_MAIL_FROM") or DEFAULT_FROM)
        result[name] = section
    return result


def load(env: Mapping[str, str] | None = None, channels: Mapping[str, Mapping[str, Any]] | None = None
         ) -> NotificationSettings:
    """The settings from ``env`` (default: the process environment); ``channels`` replaces the channel sections."""
    env = dict(os.environ if env is None else env)
    names = [n.strip() for n in (env.get("AQ_NOTICE_CHANNELS") or DEFAULT_CHANNELS).split(",") if n.strip()]
    sections = {k: dict(v or {}) for k, v in channels.items()} if channels is not None else channel_settings(names, env)
    installed = available_channels()
    routes = routes_by_kind(parse_route_table(env.get("AQ_NOTICE_ROUTES", "")), known_channels=installed)
    return NotificationSettings(
        channels=sections,
        routes=routes,
        locale=check_locale(env.get("AQ_NOTICE_LOCALE") or "zh"),
        quiet_hours=parse_quiet_hours(env.get("AQ_NOTICE_QUIET_HOURS", DEFAULT_QUIET_HOURS)),
        digest_times=parse_digest_times(env.get("AQ_NOTICE_DIGEST_TIMES", DEFAULT_DIGEST_TIMES)),
        tell_tasks=_switch(env, "AQ_NOTICE_TASKS", True),
        retry=RetryPolicy(base=_number(env, "AQ_NOTICE_RETRY_BASE_SECONDS", 5.0),
                          max_delay=_number(env, "AQ_NOTICE_RETRY_MAX_SECONDS", 1800.0),
                          max_attempts=int(_number(env, "AQ_NOTICE_MAX_ATTEMPTS", 6))),
        lease_seconds=_number(env, "AQ_DELIVERY_LEASE_SECONDS", 60.0),
        poll_seconds=_number(env, "AQ_DELIVERY_POLL_SECONDS", 2.0),
        concurrency=max(1, int(_number(env, "AQ_DELIVERY_CONCURRENCY", 8))),
        batch_size=max(1, int(_number(env, "AQ_DELIVERY_BATCH", 200))),
        handover_batch=max(1, int(_number(env, "AQ_DELIVERY_HANDOVER_BATCH", 20))),
        zone=ZoneInfo(env.get("AQ_TIMEZONE") or "Asia/Shanghai"),
        acknowledgement=ack_policy.load(env),
    )


def rate_limits(channels: Mapping[str, Any]) -> dict[str, float]:
    """channel -> messages per minute, from each channel's ``rate_per_minute`` setting."""
    limits = {}
    for name, channel in channels.items():
        value = channel.settings.get("rate_per_minute") if hasattr(channel, "settings") else None
        if value not in (None, ""):
            limits[name] = float(value)
    return limits
