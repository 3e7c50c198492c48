"""What every request shares: the gateway's database, its settings and its clock."""
from __future__ import annotations

import time
from datetime import datetime, timezone

from sqlalchemy.engine import Engine

from services.gateway.settings import Settings
from shared import config


class Gateway:
    def __init__(self, engine: Engine, settings: Settings | None = None, clock=None, amqp_uri: str | None = None):
        self.engine = engine
        self.amqp_uri = amqp_uri or config.amqp_uri()     # for the parking queue (aq dlq)
        self.settings = settings or Settings.from_env()
        self._clock = clock
        self._token_cache: dict[str, tuple[float, object]] = {}

    def now(self) -> datetime:
        return self._clock() if self._clock else datetime.now(timezone.utc)

    # Token principals are rebuilt from the roster at most once a minute (a token may be used many times a second).
    def cached(self, key: str, build, ttl: float = 60.0):
        hit = self._token_cache.get(key)
        if hit and hit[0] > time.monotonic():
            return hit[1]
        value = build()
        self._token_cache[key] = (time.monotonic() + ttl, value)
        return value
