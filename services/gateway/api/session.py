"""Signing in and out over the API, who am I, and a health probe."""
from __future__ import annotations

from marshmallow import fields, validate

from services.gateway.api.common import Body, Out
from services.gateway.errors import Unauthenticated
from services.gateway.routes import AUTHENTICATED, PUBLIC, endpoint


class ScopeOut(Out):
    college = fields.Boolean()
    classes = fields.List(fields.String())
    cohorts = fields.List(fields.String())
    majors = fields.List(fields.String())


class PrincipalOut(Out):
    user_id = fields.String()
    staff_id = fields.String(allow_none=True)
    display_name = fields.String()
    role = fields.String()
    roles = fields.List(fields.String())
    scope = fields.Nested(ScopeOut)
    via_token = fields.Boolean()
    csrf_token = fields.String(allow_none=True, metadata={
        "description": "send it as X-CSRF-Token with every POST/DELETE made with the session cookie"})


class SignInBody(Body):
    username = fields.String(required=True, validate=validate.Length(min=1, max=64))
    password = fields.String(required=True, validate=validate.Length(min=1, max=1024), load_only=True)


class HealthOut(Out):
    status = fields.String()


class SignedOutOut(Out):
    status = fields.String()


def _me(ctx) -> dict:
    answer = ctx.principal.as_dict()
    answer["csrf_token"] = ctx.csrf_token() if ctx.authenticated_by == "session" else None
    return answer


@endpoint("GET", "/api/health", name="health", permission=PUBLIC, response=HealthOut(),
          summary="The gateway answers (for load balancers; `aq health` checks the services).")
def health(ctx, body):
    return {"status": "ok"}


@endpoint("GET", "/api/me", name="me", permission=AUTHENTICATED, response=PrincipalOut(),
          summary="Who is signed in (or whose token this is): role, scope, and the session's CSRF token.")
def me(ctx, body):
    return _me(ctx)


@endpoint("POST", "/api/session", name="session.sign_in", permission=PUBLIC, request=SignInBody(),
          response=PrincipalOut(), summary="Sign in: sets the HttpOnly session cookie. 5 failures in 15 minutes "
                                           "lock the account for the rest of those 15 minutes.")
def sign_in(ctx, body):
    outcome = ctx.sign_in(body["username"], body["password"], ctx.client)
    if isinstance(outcome, str):
        raise Unauthenticated(outcome, field="password")
    return _me(ctx)


@endpoint("DELETE", "/api/session", name="session.sign_out", permission=AUTHENTICATED, response=SignedOutOut(),
          summary="Sign out: ends the session and clears its cookie.")
def sign_out(ctx, body):
    ctx.sign_out()
    return {"status": "signed out"}
