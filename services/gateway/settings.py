"""The gateway's settings, from the environment (docs/gateway.md "Configuration")."""
from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import timedelta

from shared import config


def _flag(name: str, default: bool) -> bool:
    value = os.environ.get(name, "").strip().lower()
    return default if not value else value in ("1", "true", "yes", "on")


@dataclass(frozen=True)
class Settings:
    secure_cookies: bool = False                  # AQ_GATEWAY_SECURE_COOKIES=1 behind https
    session_idle: timedelta = timedelta(minutes=30)
    session_max: timedelta = timedelta(hours=12)
    max_failures: int = 5
    lockout_window: timedelta = timedelta(minutes=15)
    rpc_timeout: float = 30.0                     # seconds a service may take to answer
    max_upload_bytes: int = 20 * 1024 * 1024
    trusted_proxies: int = 0                      # reverse proxies in front that append to X-Forwarded-For

    @classmethod
    def from_env(cls) -> "Settings":
        return cls(
            secure_cookies=_flag("AQ_GATEWAY_SECURE_COOKIES", False),
            session_idle=timedelta(minutes=config.env_int("AQ_GATEWAY_SESSION_IDLE_MINUTES", 30)),
            session_max=timedelta(hours=config.env_int("AQ_GATEWAY_SESSION_MAX_HOURS", 12)),
            max_failures=config.env_int("AQ_GATEWAY_MAX_FAILURES", 5),
            lockout_window=timedelta(minutes=config.env_int("AQ_GATEWAY_LOCKOUT_MINUTES", 15)),
            rpc_timeout=float(os.environ.get("AQ_GATEWAY_RPC_TIMEOUT", "") or 30.0),
            max_upload_bytes=config.env_int("AQ_GATEWAY_MAX_UPLOAD_BYTES", 20 * 1024 * 1024),
            trusted_proxies=config.env_int("AQ_GATEWAY_TRUSTED_PROXIES", 0),
        )


def port() -> int:
    return config.env_int("AQ_GATEWAY_PORT", 8000)
