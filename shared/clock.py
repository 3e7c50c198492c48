"""The college's clock: due dates count the college's days, not UTC's."""
from __future__ import annotations

import os
from datetime import datetime
from zoneinfo import ZoneInfo


def college_timezone() -> ZoneInfo:
    return ZoneInfo(os.environ.get("AQ_TIMEZONE", "Asia/Shanghai"))


def event_time(envelope: dict) -> datetime:
    """When the event happened, in the college's time zone."""
    return datetime.fromisoformat(envelope["time"]).astimezone(college_timezone())
