"""Every role against every endpoint of the route table: allowed or denied, as the college's rules say.

EXPECTED is written here by hand, independently of domain/principal.py's permissions. The test iterates the
route table, so an endpoint added without a line here fails (and so does a line for an endpoint that is gone).
"Allowed" means the role gets past authorization (any answer but 401/403, with an empty or nonsense body the
answer may well be 422); "denied" means 403 (401 for anonymous).
"""
from __future__ import annotations

import pytest

from services.gateway.routes import PUBLIC, all_routes
from tests.unit.gateway.harness import ROLE_USERS, GatewayApp

STAFF = {"academic_affairs", "vice_dean", "deputy_secretary", "department_head", "counselor", "head_teacher"}
COLLEGE = {"academic_affairs", "vice_dean", "deputy_secretary"}
EVERYONE = STAFF | {"admin"}
ANYONE = "anyone, signed in or not"

EXPECTED: dict[str, set[str] | str] = {
    "health": ANYONE,
    "me": EVERYONE,
    "session.sign_in": ANYONE,
    "session.sign_out": EVERYONE,
    "acknowledgement.open": ANYONE,
    "acknowledgement.sign": ANYONE,
    "acknowledgement.list": STAFF,
    # feeding the system: academic affairs (教务员) only
    "roster.import": {"academic_affairs"},
    "grades.upload": {"academic_affairs"},
    "outcomes.import": {"academic_affairs"},
    "uploads.status": {"academic_affairs", "vice_dean"},
    # reading students' results: every staff role, within its scope
    "grades.history": STAFF,
    "warnings.list": STAFF,
    "notices.list": STAFF,
    "notices.show": STAFF,
    "notices.inbox": STAFF,
    "notices.digests": STAFF,
    "notices.preview": STAFF,
    "notices.resend": {"academic_affairs"},
    "notices.prefer": {"academic_affairs"},
    "notices.channels": {"academic_affairs", "admin"},
    # policies and review before release: academic affairs decide, the vice dean looks on
    "policy.check": {"academic_affairs", "vice_dean"},
    "policy.what_if": {"academic_affairs", "vice_dean"},
    "policy.list": {"academic_affairs", "vice_dean"},
    "policy.install": {"academic_affairs"},
    "warnings.pending": {"academic_affairs", "vice_dean"},
    "warnings.confirm": {"academic_affairs"},
    "warnings.exclude": {"academic_affairs"},
    "warnings.history": STAFF,
    # counselor lists: everyone reads their part; the counselor confirms (the vice dean when the post is vacant)
    "lists.list": STAFF,
    "lists.show": STAFF,
    "lists.confirm": {"counselor", "vice_dean"},
    # duties
    "tasks.list": STAFF,
    "tasks.show": STAFF,
    "records.list": STAFF,
    "handbook.export": STAFF,
    "tasks.semesters": STAFF,
    "tasks.close": STAFF - {"academic_affairs"},
    "tasks.submit": STAFF - {"academic_affairs"},
    "tasks.review": {"department_head"},
    "tasks.open_semester": {"academic_affairs"},
    "tasks.remind": {"academic_affairs", "admin"},
    "tasks.clock": {"admin"},
    "tasks.clock_set": {"admin"},
    "symposium.list": STAFF,
    "symposium.raise": {"academic_affairs", "vice_dean"},
    "symposium.route": {"academic_affairs", "vice_dean"},
    "symposium.answer": {"department_head", "counselor", "head_teacher"},
    "symposium.close": {"vice_dean"},
    # indicators
    "flags.list": STAFF,
    "scorecards.head_teacher": STAFF,
    "scorecards.department": STAFF,
    "outcomes.summary": {"academic_affairs", "vice_dean"},
    "report.semester": {"academic_affairs", "vice_dean"},
    "report.semester_document": {"academic_affairs", "vice_dean"},
    # operating the system: the gateway's admin, who reads no student data
    "operations.parked": {"admin"},
    "operations.replay": {"admin"},
    "operations.health": {"admin"},
    "accounts.users": {"admin"},
    "accounts.unlock": {"admin"},
    "accounts.tokens": {"admin"},
    "accounts.token_create": {"admin"},
    "accounts.token_revoke": {"admin"},
}

ROUTES = all_routes()
ROLES = sorted(ROLE_USERS)


def test_every_route_has_a_rule_and_every_rule_a_route():
    names = {r.name for r in ROUTES}
    assert sorted(names - set(EXPECTED)) == [], "endpoints without an expected rule in this test"
    assert sorted(set(EXPECTED) - names) == [], "rules for endpoints that no longer exist"


@pytest.fixture(scope="module")
def signed_in(tmp_path_factory):
    """One app, one signed-in client per role (with its CSRF token), and an anonymous client."""
    app = GatewayApp(tmp_path_factory.mktemp("matrix"))
    app.add_role_users()
    clients = {}
    for role, (username, _) in ROLE_USERS.items():
        client = app.client()
        clients[role] = (client, app.sign_in(client, username))
    return app, clients


def _request(client, route, csrf):
    path = route.path
    for name in route.path_params:
        path = path.replace(f"<{name}>", "K1" if name == "task_id" else "x1234567")
    if route.method == "GET":
        return client.get(path)
    return client.open(path, method=route.method, json={}, headers={"X-CSRF-Token": csrf})


@pytest.mark.parametrize("role", ROLES)
def test_role_against_every_endpoint(signed_in, role):
    app, clients = signed_in
    client, csrf = clients[role]
    wrong = []
    for route in ROUTES:
        if route.name == "session.sign_out":
            continue        # would end this client's session; checked below
        allowed_roles = EXPECTED[route.name]
        allowed = allowed_roles == ANYONE or role in allowed_roles
        status = _request(client, route, csrf).status_code
        if allowed and status in (401, 403):
            wrong.append(f"{route.name}: {role} should be allowed, got {status}")
        if not allowed and status != 403:
            wrong.append(f"{route.name}: {role} should be denied (403), got {status}")
    assert wrong == []


def test_anonymous_gets_401_except_public_routes(signed_in):
    app, _ = signed_in
    client = app.client()
    for route in ROUTES:
        status = _request(client, route, csrf="").status_code
        if route.permission == PUBLIC:
            assert status not in (401, 403), route.name
        else:
            assert status == 401, route.name


@pytest.mark.parametrize("role", ROLES)
def test_every_role_can_sign_out(signed_in, role):
    app, _ = signed_in
    client = app.client()
    csrf = app.sign_in(client, ROLE_USERS[role][0])
    assert client.delete("/api/session", headers={"X-CSRF-Token": csrf}).status_code == 200
    assert client.get("/api/me").status_code == 401
