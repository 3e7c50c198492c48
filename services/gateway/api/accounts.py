"""Staff accounts and API tokens, for the gateway's admin (the same as `aq users …`)."""
from __future__ import annotations

from marshmallow import fields, validate

from services.gateway import accounts
from services.gateway.api.common import ID, Body, Out, id_field
from services.gateway.errors import NotFound, Unprocessable
from services.gateway.routes import endpoint


class UserRow(Out):
    username = fields.String()
    staff_id = fields.String(allow_none=True)
    display_name = fields.String()
    is_admin = fields.Boolean()
    disabled = fields.Boolean()
    locked_until = fields.String(allow_none=True)


class UsersOut(Out):
    users = fields.List(fields.Nested(UserRow))


class UserPath(Body):
    username = fields.String(required=True, validate=validate.Length(min=1, max=64))


class DoneOut(Out):
    status = fields.String()


class TokenRow(Out):
    token_id = fields.String()
    name = fields.String()
    role = fields.String()
    staff_id = fields.String(allow_none=True)
    created_by = fields.String()
    created_at = fields.String()
    last_used_at = fields.String(allow_none=True)
    revoked = fields.Boolean()


class TokensOut(Out):
    tokens = fields.List(fields.Nested(TokenRow))


class TokenBody(Body):
    name = fields.String(required=True, validate=validate.Length(min=1, max=64),
                         metadata={"description": "the system that will use it"})
    role = fields.String(required=True, validate=validate.OneOf(accounts.TOKEN_ROLES))
    staff_id = id_field(metadata={"description": "for a head_teacher, counselor or department_head token"})


class NewTokenOut(Out):
    token_id = fields.String()
    token = fields.String(metadata={"description": "shown this once; only its digest is kept"})
    name = fields.String()
    role = fields.String()
    staff_id = fields.String(allow_none=True)


class TokenPath(Body):
    token_id = fields.String(required=True, validate=ID)


def _refused(error: accounts.AccountError, field: str):
    if str(error).startswith("no "):
        raise NotFound(str(error), field=field)
    raise Unprocessable(str(error), field=field)


@endpoint("GET", "/api/accounts/users", name="accounts.users", permission="accounts.manage", response=UsersOut(),
          summary="Staff accounts, with any lock-out in force.")
def users(ctx, body):
    with ctx.gateway.engine.connect() as conn:
        return {"users": accounts.list_users(conn, ctx.gateway.now(), ctx.gateway.settings)}


@endpoint("POST", "/api/accounts/unlock", name="accounts.unlock", permission="accounts.manage",
          request=UserPath(), response=DoneOut(), audit="change", summary="Lift a lock-out (recorded).")
def unlock(ctx, body):
    try:
        with ctx.gateway.engine.begin() as conn:
            accounts.unlock(conn, body["username"], ctx.gateway.now(), by=ctx.principal.user_id)
    except accounts.AccountError as error:
        _refused(error, "username")
    return {"status": "unlocked"}


@endpoint("GET", "/api/accounts/tokens", name="accounts.tokens", permission="accounts.manage",
          response=TokensOut(), summary="API tokens (never the tokens themselves).")
def tokens(ctx, body):
    with ctx.gateway.engine.connect() as conn:
        return {"tokens": accounts.list_tokens(conn)}


@endpoint("POST", "/api/accounts/tokens", name="accounts.token_create", permission="accounts.manage",
          request=TokenBody(), response=NewTokenOut(), audit="change", status=201,
          summary="A token for another system, acting in one role; the answer is the only time it is shown.")
def create_token(ctx, body):
    try:
        with ctx.gateway.engine.begin() as conn:
            created = accounts.create_token(conn, body["name"], body["role"], ctx.gateway.now(),
                                            created_by=ctx.principal.user_id, staff_id=body.get("staff_id"))
    except accounts.AccountError as error:
        _refused(error, "role")
    ctx.audit_subject = {"token_id": created["token_id"], "role": created["role"], "name": created["name"]}
    return created


@endpoint("DELETE", "/api/accounts/tokens/<token_id>", name="accounts.token_revoke", permission="accounts.manage",
          request=TokenPath(), response=DoneOut(), audit="change", summary="Revoke a token at once.")
def revoke_token(ctx, body):
    try:
        with ctx.gateway.engine.begin() as conn:
            accounts.revoke_token(conn, body["token_id"], ctx.gateway.now())
    except accounts.AccountError as error:
        _refused(error, "token_id")
    return {"status": "revoked"}
