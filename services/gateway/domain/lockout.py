"""Lock-out after repeated failed sign-ins: MAX_FAILURES within WINDOW lock the account until the oldest of those
failures leaves the window. Attempts made while locked are recorded as "locked", not as failures, so hammering a
locked account does not keep it locked for ever; a successful sign-in or an operator's unlock starts afresh."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

MAX_FAILURES = 5
WINDOW = timedelta(minutes=15)


@dataclass(frozen=True)
class Attempt:
    at: datetime
    outcome: str     # success | failure | locked | unlocked


def locked_until(attempts: list[Attempt], now: datetime, max_failures: int = MAX_FAILURES,
                 window: timedelta = WINDOW) -> datetime | None:
    """When the account unlocks, or None if it is not locked now."""
    failures: list[datetime] = []
    for attempt in sorted(attempts, key=lambda a: a.at):
        if attempt.outcome in ("success", "unlocked"):
            failures.clear()
        elif attempt.outcome == "failure":
            failures.append(attempt.at)
    recent = [at for at in failures if at > now - window]
    if len(recent) < max_failures:
        return None
    return recent[-max_failures] + window
