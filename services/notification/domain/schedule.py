"""WHEN a notice may go: quiet hours, retry backoff, digest times and per-channel rate limits.

Pure functions of the time they are given (an aware datetime, or monotonic seconds for rate limits): the service
passes its clock, tests pass theirs. Wall-clock rules (quiet hours, digest times) are read in the college's time
zone (Asia/Shanghai by default), whatever the server's.
"""
from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta, tzinfo
from typing import Callable, Iterable


def _clock_time(text: str) -> time:
    hours, sep, minutes = text.strip().partition(":")
    if not sep or not hours.isdigit() or not minutes.isdigit() or not (0 <= int(hours) < 24 and 0 <= int(minutes) < 60):
        raise ValueError(f"bad time of day {text!r}: want HH:MM")
    return time(int(hours), int(minutes))


# --- quiet hours ------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class QuietWindow:
    """No ``channel`` messages to ``recipient_kind`` ("*" = any) from ``start`` to ``end`` (may cross midnight)."""
    recipient_kind: str
    channel: str
    start: time
    end: time

    def applies(self, recipient_kind: str, channel: str) -> bool:
        return self.recipient_kind in ("*", recipient_kind) and self.channel in ("*", channel)

    def held_until(self, local: datetime) -> datetime | None:
        """The end of the window if ``local`` (an aware local time) is inside it, else None."""
        now = local.time().replace(tzinfo=None)
        if self.start == self.end:
            return None
        if self.start < self.end:
            inside = self.start <= now < self.end
            end_day = local.date()
        else:                                     # 22:00-07:00: inside late at night or early in the morning
            inside = now >= self.start or now < self.end
            end_day = local.date() + timedelta(days=1) if now >= self.start else local.date()
        if not inside:
            return None
        return datetime.combine(end_day, self.end, tzinfo=local.tzinfo)


DEFAULT_QUIET_HOURS = "guardian:sms=22:00-07:00"


def parse_quiet_hours(text: str | None) -> tuple[QuietWindow, ...]:
    """``"guardian:sms=22:00-07:00, *:wecom=23:00-06:30"``; empty or ``off`` means no quiet hours."""
    if text is None or text.strip().lower() in ("", "off", "none"):
        return ()
    windows = []
    for item in filter(None, (part.strip() for part in text.split(","))):
        who, sep, span = item.partition("=")
        kind, colon, channel = who.partition(":")
        start, dash, end = span.partition("-")
        if not (sep and colon and dash and kind.strip() and channel.strip()):
            raise ValueError(f"bad quiet hours {item!r}: want KIND:CHANNEL=HH:MM-HH:MM, e.g. guardian:sms=22:00-07:00")
        windows.append(QuietWindow(kind.strip(), channel.strip(), _clock_time(start), _clock_time(end)))
    return tuple(windows)


def quiet_until(windows: Iterable[QuietWindow], now: datetime, zone: tzinfo,
                recipient_kind: str, channel: str) -> datetime | None:
    """When a message held by quiet hours may go (the latest end among the windows it is in), or None."""
    local = now.astimezone(zone)
    ends = [end for w in windows if w.applies(recipient_kind, channel) for end in [w.held_until(local)] if end]
    return max(ends) if ends else None


# --- retries ----------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff with jitter after a temporary failure: the n-th retry waits
    ``min(max_delay, base * 2**(n-1))`` scaled by a random factor in [0.5, 1) ("equal jitter"), so a crowd of
    notices that failed together does not come back together. After ``max_attempts`` attempts, the delivery fails
    (and falls back to the next channel of its route)."""
    base: float = 5.0
    max_delay: float = 1800.0
    max_attempts: int = 6

    def delay(self, attempts: int, rng: Callable[[], float] = random.random) -> float:
        ceiling = min(self.max_delay, self.base * (2 ** max(attempts - 1, 0)))
        return ceiling * (0.5 + rng() / 2)

    def gives_up(self, attempts: int) -> bool:
        return attempts >= self.max_attempts


# --- digests ----------------------------------------------------------------------------------------------------

DEFAULT_DIGEST_TIMES = "08:00"


def parse_digest_times(text: str | None) -> tuple[time, ...]:
    """``"08:00"`` (one digest a day), ``"08:00,14:00"``; empty or ``off``: no digest, every task told at once."""
    if text is None or text.strip().lower() in ("", "off", "none"):
        return ()
    return tuple(sorted({_clock_time(part) for part in text.split(",") if part.strip()}))


def next_digest_at(times: Iterable[time], now: datetime, zone: tzinfo) -> datetime:
    """The first digest time strictly after ``now`` (in the college's zone); ``now`` itself when there is none."""
    times = sorted(times)
    if not times:
        return now
    local = now.astimezone(zone)
    for days in (0, 1):
        day = local.date() + timedelta(days=days)
        for at in times:
            candidate = datetime.combine(day, at, tzinfo=zone)
            if candidate > local:
                return candidate
    raise AssertionError("unreachable: a time of day always comes again within two days")


# --- rate limits ------------------------------------------------------------------------------------------------

@dataclass
class TokenBucket:
    """At most ``per_minute`` messages a minute, in bursts of at most ``burst`` (default: one minute's worth)."""
    per_minute: float
    burst: float | None = None
    tokens: float = field(default=-1.0)
    updated: float | None = None

    def take(self, now: float) -> float:
        """Take one token at monotonic time ``now``: 0.0 if granted, else how many seconds until one is free."""
        capacity = self.burst or max(self.per_minute, 1.0)
        rate = self.per_minute / 60.0
        if self.updated is None:
            self.tokens, self.updated = capacity, now
        self.tokens = min(capacity, self.tokens + max(0.0, now - self.updated) * rate)   # a clock set back adds none
        self.updated = now
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            return 0.0
        return (1.0 - self.tokens) / rate


class RateLimits:
    """One token bucket per channel that has a limit (per process: with N instances, each gets the limit)."""

    def __init__(self, per_minute: dict[str, float]):
        self.buckets = {name: TokenBucket(rate) for name, rate in per_minute.items() if rate and rate > 0}

    def wait(self, channel: str, now: float) -> float:
        bucket = self.buckets.get(channel)
        return bucket.take(now) if bucket else 0.0
