"""Random session ids, CSRF tokens and API tokens, and the digests that are stored instead of them."""
from __future__ import annotations

import hashlib
import hmac
import secrets

TOKEN_PREFIX = "aqt_"


def new_secret(nbytes: int = 32) -> str:
    return secrets.token_urlsafe(nbytes)


def new_api_token() -> tuple[str, str]:
    """(token id shown in listings, the token shown once). The id is part of the token, so a leaked token can be
    traced to its row without storing the token."""
    token_id = secrets.token_hex(6)
    return token_id, f"{TOKEN_PREFIX}{token_id}_{secrets.token_urlsafe(32)}"


def digest(value: str) -> str:
    return hashlib.sha256(value.encode("utf-8")).hexdigest()


def same(a: str | None, b: str | None) -> bool:
    """Constant-time comparison (CSRF tokens)."""
    return bool(a) and bool(b) and hmac.compare_digest(a.encode("utf-8"), b.encode("utf-8"))
