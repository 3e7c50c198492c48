"""One HTTP POST for the webhook-style channels (SMS gateway, chat robots), with failures classified.

* No answer (refused, reset, timeout) and HTTP 5xx, 408 and 429: ``failed_temporary``.
* Any other HTTP 4xx: ``failed_permanent`` (the provider says this request is wrong).
* A 2xx answer is the provider's; the channel reads its body (``errcode`` and the like).

The channel's checkpoint is passed right before the request leaves: from then on the provider may have the message.
"""
from __future__ import annotations

import http.client
import json
import socket
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any, Mapping
from urllib.parse import urlencode, urlsplit

from services.notification.channels.base import (
    ABANDONED, FAILED_PERMANENT, FAILED_TEMPORARY, Channel, Checkpoint, DeliveryResult,
)
from services.notification.domain.redact import redact

TEMPORARY_HTTP = frozenset({408, 425, 429})


@dataclass(frozen=True)
class HttpAnswer:
    status: int
    body: bytes

    def json(self) -> Any:
        try:
            return json.loads(self.body.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            return None

    def text(self, limit: int = 300) -> str:
        return redact(self.body.decode("utf-8", "replace")[:limit])


def post(url: str, payload: Mapping[str, Any], *, form: bool = False, headers: Mapping[str, str] | None = None,
         timeout: float = 10.0, checkpoint: Checkpoint | None = None) -> HttpAnswer | DeliveryResult:
    """POST ``payload`` as JSON (or a form); the answer, or the failed DeliveryResult when there was none to read."""
    if form:
        body = urlencode({k: v if isinstance(v, str) else json.dumps(v, ensure_ascii=False)
                          for k, v in payload.items()}).encode("utf-8")
        content_type = "application/x-www-form-urlencoded; charset=utf-8"
    else:
        body = json.dumps(payload, ensure_ascii=False).encode("utf-8")
        content_type = "application/json; charset=utf-8"
    request = urllib.request.Request(url, data=body, method="POST",
                                     headers={"Content-Type": content_type, "User-Agent": "academic-quality",
                                              **(headers or {})})
    if not Channel.pass_point_of_no_return(checkpoint):
        return DeliveryResult(ABANDONED, "the delivery was taken over before it was sent")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return HttpAnswer(response.status, response.read())
    except urllib.error.HTTPError as error:
        text = redact(error.read().decode("utf-8", "replace")[:300])
        status = FAILED_TEMPORARY if error.code >= 500 or error.code in TEMPORARY_HTTP else FAILED_PERMANENT
        return DeliveryResult(status, f"HTTP {error.code} from {_where(url)}: {text}")
    except urllib.error.URLError as error:
        # urllib wraps what fails while CONNECTING or SENDING: the provider has no complete request.
        reason = error.reason
        return DeliveryResult(FAILED_TEMPORARY, f"could not reach {_where(url)}: {type(reason).__name__}: {reason}")
    except (OSError, http.client.HTTPException) as error:
        # The request went out; the answer did not come (timeout, connection reset): the provider may have it.
        return DeliveryResult(FAILED_TEMPORARY, f"no answer from {_where(url)}: {type(error).__name__}: {error}",
                              in_doubt=True)


def reachable(url: str, timeout: float = 5.0) -> bool:
    """Whether something accepts TCP connections where ``url`` points (the robots' health check)."""
    parts = urlsplit(url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        with socket.create_connection((parts.hostname, port), timeout=timeout):
            return True
    except OSError:
        return False


def get_ok(url: str, timeout: float = 5.0) -> bool:
    try:
        with urllib.request.urlopen(urllib.request.Request(url, method="GET"), timeout=timeout) as response:
            return 200 <= response.status < 300
    except Exception:      # any failure is the finding
        return False


def _where(url: str) -> str:
    # Never the query string: robots carry their keys and signatures there.
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}{parts.path}"
