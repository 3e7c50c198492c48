"""The one envelope every event travels in, and how to make and check one."""
from __future__ import annotations

import uuid
from datetime import datetime, timezone

from marshmallow import Schema, fields, validate


class EnvelopeSchema(Schema):
    id = fields.String(required=True, metadata={"description": "Unique event id (UUID)."})
    type = fields.String(required=True, metadata={"description": "Event type, e.g. grades.records_stored."})
    version = fields.Integer(required=True, validate=validate.Range(min=1),
                             metadata={"description": "Version of the type's data schema."})
    source = fields.String(required=True, metadata={"description": "Service that announced the event."})
    time = fields.String(required=True, metadata={"description": "When it happened, UTC ISO-8601."})
    correlation_id = fields.String(required=True,
                                   metadata={"description": "The upload (or import) that started the cascade."})
    causation_id = fields.String(required=True, allow_none=True,
                                 metadata={"description": "The event or command that caused this one."})
    data = fields.Dict(required=True, metadata={"description": "The event's data, per its type's schema."})


def now_iso() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds")


def make_envelope(event_type: str, version: int, source: str, data: dict, *,
                  correlation_id: str, causation_id: str | None, event_id: str | None = None,
                  time: str | None = None) -> dict:
    return {
        "id": event_id or str(uuid.uuid4()),
        "type": event_type,
        "version": version,
        "source": source,
        "time": time or now_iso(),
        "correlation_id": correlation_id,
        "causation_id": causation_id,
        "data": data,
    }


def routing_key(event_type: str, version: int) -> str:
    return f"{event_type}.v{version}"
