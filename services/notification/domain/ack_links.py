"""Signed acknowledgement links (回执链接): a family acknowledges a notice without an account, by a link only they got.

A link is ``<AQ_PUBLIC_URL>/ack/<token>``; the token is ``<notice id>.<role>.<expiry>.<signature>``:

* notice id  the delivery that carried the link (``N-…``): it says which channel the link went out through, and
             through it which acknowledgement (warning change and recipient) is meant;
* role       ``s`` (the student) or ``g`` (the guardian): a link is checked against the notice it names;
* expiry     seconds since the epoch, base 36;
* signature  HMAC-SHA256 (key ``AQ_LINK_SECRET``) over the rest, cut to 128 bits, base64url without padding.

No name, student id or contact is in the link: a forwarded or logged link tells nothing about the student, and it
cannot be made up or altered without the key (checked with ``hmac.compare_digest``). The link is short enough for
an SMS (about 75 characters with a short public address).
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import re
from dataclasses import dataclass
from datetime import datetime, timezone

ROLE_CODES = {"student": "s", "guardian": "g"}
ROLES_BY_CODE = {code: role for role, code in ROLE_CODES.items()}
PATH = "/ack/"
_CONTEXT = b"aq-ack-1|"          # a signature for this purpose only, should the key ever sign anything else
_SIGNATURE_BYTES = 16
_TOKEN = r"(N-[0-9a-f]{8,32})\.([sg])\.([0-9a-z]{1,10})\.([A-Za-z0-9_-]{22})"
_WHOLE = re.compile(rf"^{_TOKEN}$")
_INSIDE = re.compile(rf"(?<![A-Za-z0-9_.-]){_TOKEN}(?![A-Za-z0-9_-])")


class LinkError(ValueError):
    """A token that cannot be used; ``code`` is what the gateway shows (invalid, expired)."""
    code = "invalid"


class LinkInvalid(LinkError):
    code = "invalid"


class LinkExpired(LinkError):
    code = "expired"

    def __init__(self, claim: "LinkClaim"):
        super().__init__(f"the link expired on {claim.expires_at:%Y-%m-%d %H:%M} UTC")
        self.claim = claim


@dataclass(frozen=True)
class LinkClaim:
    """What a genuine token says."""
    notice_id: str
    role: str                 # student | guardian
    expires_at: datetime      # aware, UTC


def _b36(number: int) -> str:
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    out = ""
    while True:
        number, rest = divmod(number, 36)
        out = digits[rest] + out
        if not number:
            return out


class LinkSigner:
    def __init__(self, secret: str, base_url: str):
        if not secret:
            raise ValueError("AQ_LINK_SECRET is empty: acknowledgement links cannot be signed")
        self._key = secret.encode("utf-8")
        self.base_url = base_url.rstrip("/")

    def _sign(self, payload: str) -> str:
        digest = hmac.new(self._key, _CONTEXT + payload.encode("ascii"), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest[:_SIGNATURE_BYTES]).rstrip(b"=").decode("ascii")

    def token(self, notice_id: str, role: str, expires_at: datetime) -> str:
        if role not in ROLE_CODES:
            raise ValueError(f"acknowledgement links are for {', '.join(ROLE_CODES)}, not {role!r}")
        payload = f"{notice_id}.{ROLE_CODES[role]}.{_b36(int(expires_at.timestamp()))}"
        if not _WHOLE.match(f"{payload}.{'A' * 22}"):
            raise ValueError(f"not a notice id for a link: {notice_id!r}")
        return f"{payload}.{self._sign(payload)}"

    def url(self, notice_id: str, role: str, expires_at: datetime) -> str:
        return f"{self.base_url}{PATH}{self.token(notice_id, role, expires_at)}"

    def read(self, token: str) -> LinkClaim:
        """The claim of a genuine token, expired or not; LinkInvalid for anything else."""
        match = _WHOLE.match(token.strip()) if isinstance(token, str) else None
        if not match:
            raise LinkInvalid("not an acknowledgement link")
        notice_id, code, expiry, signature = match.groups()
        if not hmac.compare_digest(self._sign(f"{notice_id}.{code}.{expiry}"), signature):
            raise LinkInvalid("the link's signature does not match (altered, or signed with another key)")
        return LinkClaim(notice_id, ROLES_BY_CODE[code], datetime.fromtimestamp(int(expiry, 36), timezone.utc))

    def verify(self, token: str, now: datetime) -> LinkClaim:
        """The claim of a genuine token that has not expired at ``now``; LinkInvalid or LinkExpired otherwise."""
        claim = self.read(token)
        if now >= claim.expires_at:
            raise LinkExpired(claim)
        return claim

    def relink(self, text: str | None, old_notice_id: str, new_notice_id: str) -> str | None:
        """``text`` with every genuine link of ``old_notice_id`` re-signed for ``new_notice_id`` (same role and
        expiry): a fallback delivery carries its own link, so a use says which channel it came through."""
        if not text:
            return text

        def swap(match: re.Match) -> str:
            notice_id, code, expiry, _ = match.groups()
            if notice_id != old_notice_id:
                return match.group(0)
            try:
                claim = self.read(match.group(0))
            except LinkInvalid:
                return match.group(0)
            return self.token(new_notice_id, claim.role, claim.expires_at)

        return _INSIDE.sub(swap, text)


def hide_tokens(text: str | None) -> str | None:
    """``text`` with the signature of every link left out: staff views show that a link was sent, not the link
    itself (a whole link would let whoever reads it acknowledge for the family)."""
    if not text:
        return text
    return _INSIDE.sub(lambda m: f"{m.group(1)}.{m.group(2)}.{m.group(3)}.…", text)


def tokens_in(text: str | None) -> list[str]:
    """Every token in ``text`` (for tests and the preview)."""
    return [m.group(0) for m in _INSIDE.finditer(text or "")]
