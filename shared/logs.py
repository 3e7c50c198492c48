"""Structured log lines: one JSON object per line with the service, and the event and correlation ids
a handler was working on, so one upload can be followed through every service's log."""
from __future__ import annotations

import json
import logging
from datetime import datetime, timezone


class JsonFormatter(logging.Formatter):
    def __init__(self, service: str = "", **kwargs):
        super().__init__()
        self.service = service

    def format(self, record: logging.LogRecord) -> str:
        line = {"time": datetime.fromtimestamp(record.created, timezone.utc).isoformat(timespec="milliseconds"),
                "service": self.service, "level": record.levelname, "logger": record.name,
                "message": record.getMessage()}
        line.update(getattr(record, "aq", None) or {})
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False, default=str)
