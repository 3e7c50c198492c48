"""Staff passwords: argon2id hashes (argon2-cffi), never the password itself."""
from __future__ import annotations

import os
import sys

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

MIN_LENGTH = 10


def hasher_from_env() -> PasswordHasher:
    """argon2-cffi's defaults (RFC 9106 "low memory" profile: 64 MiB, 3 passes) unless the operator tunes them
    (AQ_GATEWAY_ARGON2_MEMORY_KIB, AQ_GATEWAY_ARGON2_TIME_COST). Hashes made with other parameters still verify,
    and are redone with today's at the next sign-in."""
    memory = int(os.environ.get("AQ_GATEWAY_ARGON2_MEMORY_KIB") or 65536)
    time_cost = int(os.environ.get("AQ_GATEWAY_ARGON2_TIME_COST") or 3)
    return PasswordHasher(time_cost=time_cost, memory_cost=memory)


_hasher = hasher_from_env()


def _off_the_hub(function, *args):
    """Under eventlet (the gateway), a hash takes tens of milliseconds of CPU in C: run it in a real thread so the
    other requests go on meanwhile (argon2 releases the GIL). Elsewhere (the CLI, tests) call it directly."""
    if "eventlet" in sys.modules:
        import eventlet.patcher
        if eventlet.patcher.is_monkey_patched("thread"):
            from eventlet import tpool
            return tpool.execute(function, *args)
    return function(*args)


def hash_password(password: str) -> str:
    return _off_the_hub(_hasher.hash, password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _off_the_hub(_hasher.verify, password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    """True when the hash was made with weaker parameters than today's (it is redone at the next sign-in)."""
    return _hasher.check_needs_rehash(password_hash)


def password_problem(password: str, username: str = "") -> str | None:
    """Why a new password is refused, or None."""
    if len(password) < MIN_LENGTH:
        return f"the password must have at least {MIN_LENGTH} characters"
    if username and username.casefold() in password.casefold():
        return "the password must not contain the user name"
    if len(set(password)) < 4:
        return "the password needs more different characters"
    return None
