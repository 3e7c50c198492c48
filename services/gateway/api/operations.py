"""Operating the system (aq dlq list/replay, aq health): the gateway's admin role; no student data is shown."""
from __future__ import annotations

from marshmallow import fields, validate

from services.gateway.api.common import ID, Body, Out
from services.gateway.domain.masking import mask_text
from services.gateway.errors import ApiError, Unprocessable
from services.gateway.routes import endpoint
from shared import config


class ParkedRow(Out):
    event_id = fields.String(allow_none=True)
    type = fields.String(allow_none=True)
    correlation_id = fields.String(allow_none=True)
    queue = fields.String(allow_none=True)
    attempts = fields.Integer(allow_none=True)
    error = fields.Function(lambda row: mask_text(row.get("error")))


class ParkedOut(Out):
    parked = fields.List(fields.Nested(ParkedRow))


class ReplayBody(Body):
    event_ids = fields.List(fields.String(validate=ID), load_default=None, allow_none=True,
                            validate=validate.Length(max=1000))
    all = fields.Boolean(load_default=False, metadata={"description": "replay every parked message"})


class ReplayOut(Out):
    replayed = fields.List(fields.Nested(ParkedRow))


class VerdictOut(Out):
    service = fields.String()
    healthy = fields.Boolean()
    problems = fields.List(fields.String())


class ServicesOut(Out):
    healthy = fields.Boolean()
    services = fields.List(fields.Nested(VerdictOut))


@endpoint("GET", "/api/operations/parked", name="operations.parked", permission="operations.read",
          response=ParkedOut(), summary="Messages parked after their last retry (aq dlq list).")
def parked(ctx, body):
    from shared.messaging.parking import list_parked
    return {"parked": list_parked(ctx.gateway.amqp_uri)}


@endpoint("POST", "/api/operations/parked/replay", name="operations.replay", permission="operations.replay",
          request=ReplayBody(), response=ReplayOut(), audit="change",
          summary="Send parked messages back to the queue they failed on (those named, or all).")
def replay(ctx, body):
    from shared.messaging.parking import replay_parked
    if not body.get("event_ids") and not body["all"]:
        raise Unprocessable("name the event ids to replay, or all: true", field="event_ids")
    return {"replayed": replay_parked(ctx.gateway.amqp_uri, set(body["event_ids"]) if body.get("event_ids") else None)}


@endpoint("GET", "/api/operations/health", name="operations.health", permission="operations.read",
          response=ServicesOut(), summary="Each service's health: broker, database, outbox (aq health).")
def services_health(ctx, body):
    verdicts = []
    for service in config.SERVICES:
        try:
            verdict = ctx.rpc(service, "health")
        except ApiError as error:
            verdict = {"healthy": False, "problems": [error.reason]}
        verdicts.append({"service": service, "healthy": verdict["healthy"], "problems": verdict["problems"]})
    return {"healthy": all(v["healthy"] for v in verdicts), "services": verdicts}
