"""Turning an account or an API token into a Principal: roles and scope as the roster says today."""
from __future__ import annotations

from services.gateway.domain.principal import COLLEGE_ROLES, Principal, Scope, scope_for
from services.gateway.errors import ApiError


class NotInRoster(ApiError):
    status = 403


def for_user(user: dict, roster_member: dict | None) -> Principal:
    """``roster_member`` is roster.staff_member(user's staff id) (None: unknown there, or an admin account)."""
    roles, scope = frozenset(), Scope()
    name = user["display_name"]
    if user.get("staff_id"):
        if roster_member is None and not user.get("is_admin"):
            raise NotInRoster(f"staff id {user['staff_id']} is not in the roster: no roles to sign in with")
        if roster_member:
            roles, scope = scope_for(roster_member["roles"], roster_member.get("classes_led", ()))
            name = roster_member.get("name") or name
    if user.get("is_admin"):
        roles = roles | {"admin"}
    if not roles:
        raise NotInRoster(f"the roster gives {user['username']} no role")
    return Principal(f"user:{user['username']}", user.get("staff_id"), name, roles, scope)


def for_token(token: dict, roster_member: dict | None) -> Principal:
    """A token acts in one role; a scoped role (head teacher, counselor, department head) covers what that role
    covers for the token's staff member in the roster today, nothing more."""
    role = token["role"]
    if role in COLLEGE_ROLES:
        scope = Scope(college=True)
    else:
        mine = [r for r in (roster_member or {}).get("roles", ()) if r["role"] == role]
        led = (roster_member or {}).get("classes_led", ()) if role == "head_teacher" else ()
        _, scope = scope_for(mine, led)
    return Principal(f"token:{token['token_id']}", token.get("staff_id"), f"{token['name']} (API token)",
                     frozenset({role}), scope, via_token=True)


def from_dict(data: dict) -> Principal:
    """A principal as stored in its session (Principal.as_dict)."""
    return Principal(data["user_id"], data.get("staff_id"), data["display_name"], frozenset(data["roles"]),
                     Scope.from_dict(data["scope"]), bool(data.get("via_token")))
