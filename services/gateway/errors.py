"""What an API function raises to answer with an HTTP error; the body always names the field and the reason."""
from __future__ import annotations


class ApiError(Exception):
    status = 400

    def __init__(self, reason: str, field: str | None = None, errors: list[dict] | None = None, **extra):
        super().__init__(reason)
        self.reason = reason
        self.errors = errors if errors is not None else [{"field": field, "reason": reason}]
        self.extra = extra

    def body(self) -> dict:
        return {"status": "error", "message": self.reason, "errors": self.errors, **self.extra}


class Unauthenticated(ApiError):
    status = 401


class Forbidden(ApiError):
    status = 403


class NotFound(ApiError):
    status = 404


class Unprocessable(ApiError):
    """Bad input: HTTP 422 with every problem as {field, reason} (and, for files, file and row)."""
    status = 422


class ServiceUnavailable(ApiError):
    """A service the gateway needs did not answer (not running, or too slow)."""
    status = 503

    def __init__(self, service: str, reason: str):
        super().__init__(reason, field=None)
        self.service = service


class UpstreamFailed(ApiError):
    """A service answered with an error of its own (a bug there, logged there)."""
    status = 502
