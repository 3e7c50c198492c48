"""A stand-in for the gateway's request context (services/gateway/context.py) with canned API answers, so the
views and templates are tested without the gateway, the services or a broker."""
from __future__ import annotations

from werkzeug.test import Client
from werkzeug.wrappers import Request

from services.gateway.domain.principal import Principal, Scope
from services.gateway.web.app import handle

CSRF = "csrf-token-of-this-session"


def principal(role: str, staff_id: str = "S1", name: str = "测试", *, classes=(), cohorts=(), majors=()) -> Principal:
    college = role in ("academic_affairs", "vice_dean", "deputy_secretary")
    return Principal(f"user:{staff_id.lower()}", staff_id, name, frozenset({role}),
                     Scope(college, frozenset(classes), frozenset(cohorts), frozenset(majors)))


class _Everything(Principal):
    def can(self, permission: str) -> bool:
        return True


def everyone() -> Principal:
    """A principal holding every role and permission: to reach every page (e.g. to check each form's CSRF)."""
    from services.gateway.domain.principal import ROLES
    return _Everything("user:all", "X0001", "全能", frozenset(ROLES), Scope(True))


class FakeCtx:
    def __init__(self, who: Principal | None = None, lang: str = "zh", answers: dict | None = None,
                 users: dict | None = None):
        self.principal = who
        self.lang = lang
        self.client = "192.0.2.10"      # the address the gateway worked out (context.client_address)
        self.answers = dict(answers or {})
        self.users = users or {}
        self.calls: list[tuple[str, dict]] = []
        self.signed_out = False

    def api(self, name: str, **params):
        self.calls.append((name, params))
        answer = self.answers[name]
        if isinstance(answer, Exception):
            raise answer
        return answer(**params) if callable(answer) else answer

    def called(self, name: str) -> list[dict]:
        return [params for called, params in self.calls if called == name]

    def csrf_token(self) -> str:
        return CSRF

    def check_csrf(self, request) -> bool:
        return request.form.get("csrf_token") == CSRF

    def sign_in(self, username, password, client=None):
        self.signed_in_from = client
        user = self.users.get(username)
        if user is None or user[0] != password:
            return "wrong user name or password"
        self.principal = user[1]
        return user[1]

    def sign_out(self):
        self.principal = None
        self.signed_out = True

    def set_cookies(self, response):
        pass


def client(ctx: FakeCtx) -> Client:
    @Request.application
    def app(request):
        return handle(request, ctx)
    return Client(app)


def post(ctx: FakeCtx, path: str, data: dict | None = None, *, csrf: bool = True, **kw):
    data = dict(data or {})
    if csrf:
        data["csrf_token"] = CSRF
    return client(ctx).post(path, data=data, **kw)


def get(ctx: FakeCtx, path: str, **kw):
    return client(ctx).get(path, **kw)
