"""``ctx``: one request's view of the gateway, handed to the API functions and to the web interface.

    ctx.principal                  None or a Principal (domain/principal.py): role, scope, can(permission)
    ctx.rpc(service, method, **kw) call a service (raises errors.ServiceUnavailable when it does not answer)
    ctx.api(name, **params)        an API operation by its route name, authorized and audited like the JSON API
    ctx.audit(action, subject)     write to the audit log (who: the principal; when: now)
    ctx.csrf_token()               the token a form must carry (session's, or an anonymous cookie's before sign-in)
    ctx.check_csrf(request)        True when the request carries that token (form field csrf_token or X-CSRF-Token)
    ctx.sign_in(username, password, client) -> Principal | str (why not: wrong password, locked out until T)
    ctx.sign_out()
    ctx.set_cookies(response)      apply the cookies this request decided on (session, CSRF, language)
    ctx.lang                       'zh' (default) or 'en', from ?lang= (remembered in a cookie) or the cookie
"""
from __future__ import annotations

import json
import logging

from services.gateway import accounts, principals
from services.gateway.domain.principal import Principal
from services.gateway.domain.secrets import new_secret, same
from services.gateway.errors import ApiError, ServiceUnavailable
from services.gateway.tables import audit_log

log = logging.getLogger(__name__)

SESSION_COOKIE = "aq_session"
CSRF_COOKIE = "aq_csrf"
LANG_COOKIE = "aq_lang"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
LANGS = ("zh", "en")


class Context:
    def __init__(self, gateway, rpc, request=None):
        """``gateway``: runtime.Gateway; ``rpc``: callable(service, method, kwargs) -> result."""
        self.gateway = gateway
        self.request = request
        self._rpc = rpc
        self.principal: Principal | None = None
        self.audit_subject = None      # an API function may say precisely what it read (else: its parameters)
        self.authenticated_by: str | None = None     # "session" | "token" | None
        self.client = client_address(request, gateway.settings.trusted_proxies)
        self._session: dict | None = None
        self._session_id: str | None = None
        self._cookies: list[tuple[str, str | None, dict]] = []
        self._anonymous_csrf: str | None = None
        self.lang = self._language()

    # --- who is asking ---------------------------------------------------------------------------------------

    @classmethod
    def for_request(cls, gateway, rpc, request) -> "Context":
        ctx = cls(gateway, rpc, request)
        ctx._authenticate()
        return ctx

    def _authenticate(self) -> None:
        header = self.request.headers.get("Authorization", "")
        if header[:7].lower() == "bearer ":
            self._authenticate_token(header[7:].strip())
            return
        session_id = self.request.cookies.get(SESSION_COOKIE)
        if session_id:
            with self.gateway.engine.begin() as conn:
                session = accounts.load_session(conn, session_id, self.gateway.now(), self.gateway.settings)
            if session is None:
                self._cookies.append((SESSION_COOKIE, None, {}))    # stale cookie: forget it
                return
            self._session, self._session_id = session, session_id
            self.principal = principals.from_dict(session["principal"])
            self.authenticated_by = "session"

    def _authenticate_token(self, token: str) -> None:
        with self.gateway.engine.begin() as conn:
            row = accounts.load_token(conn, token, self.gateway.now())
        if row is None:
            return       # an unknown or revoked token is no principal: protected routes answer 401
        member = None
        if row["staff_id"]:
            member = self.gateway.cached(f"staff:{row['staff_id']}",
                                         lambda: self.rpc("roster", "staff_member", staff_id=row["staff_id"]))
        self.principal = principals.for_token(row, member)
        self.authenticated_by = "token"

    # --- services ----------------------------------------------------------------------------------------------

    def rpc(self, service: str, method: str, **kwargs):
        return self._rpc(service, method, kwargs)

    def api(self, name: str, **params):
        """Run the API operation ``name`` (see routes / docs/gateway.md) for this principal; returns the response
        body as a dict, or raises errors.ApiError (Unauthenticated, Forbidden, NotFound, Unprocessable,
        ServiceUnavailable) exactly as the JSON API would answer."""
        from services.gateway.dispatch import call_api
        from services.gateway.routes import by_name
        return call_api(self, by_name(name), params)

    def audit(self, action: str, subject, outcome: str = "allowed") -> None:
        principal = self.principal
        if not isinstance(subject, str):
            subject = json.dumps(subject, ensure_ascii=False, sort_keys=True, default=str)
        with self.gateway.engine.begin() as conn:
            conn.execute(audit_log.insert().values(
                at=self.gateway.now(), actor=principal.user_id if principal else "anonymous",
                role=principal.role if principal else "-", action=action[:64], subject=subject,
                outcome=outcome, client=self.client[:64]))

    # --- CSRF --------------------------------------------------------------------------------------------------

    def csrf_token(self) -> str:
        if self._session is not None:
            return self._session["csrf_token"]
        if self._anonymous_csrf is None:
            existing = self.request.cookies.get(CSRF_COOKIE) if self.request is not None else None
            self._anonymous_csrf = existing or new_secret()
            if not existing:
                self._cookies.append((CSRF_COOKIE, self._anonymous_csrf, {}))
        return self._anonymous_csrf

    def check_csrf(self, request=None) -> bool:
        request = request or self.request
        sent = request.headers.get(CSRF_HEADER) or request.form.get(CSRF_FIELD)
        if self._session is not None:
            return same(sent, self._session["csrf_token"])
        return same(sent, request.cookies.get(CSRF_COOKIE))

    # --- signing in and out ------------------------------------------------------------------------------------

    def sign_in(self, username: str, password: str, client: str | None = None) -> Principal | str:
        """The principal now signed in (the session cookie is set by set_cookies), or why not."""
        now, settings = self.gateway.now(), self.gateway.settings
        with self.gateway.engine.begin() as conn:
            outcome = accounts.check_credentials(conn, username, password, now, client or self.client, settings)
        if outcome.user is None:
            return outcome.error
        user = outcome.user
        try:
            member = self.rpc("roster", "staff_member", staff_id=user["staff_id"]) if user["staff_id"] else None
            principal = principals.for_user(user, member)
        except ApiError as error:
            return error.reason
        with self.gateway.engine.begin() as conn:
            if self._session_id:     # a new session id at every sign-in (no session fixation)
                accounts.end_session(conn, self._session_id)
            session_id, csrf = accounts.create_session(conn, user["username"], principal.as_dict(), now, settings)
        self._session = {"csrf_token": csrf, "username": user["username"]}
        self._session_id = session_id
        self.principal, self.authenticated_by = principal, "session"
        self._cookies.append((SESSION_COOKIE, session_id, {"max_age": int(settings.session_max.total_seconds())}))
        log.info("signed in: %s as %s", principal.user_id, principal.role)
        return principal

    def sign_out(self) -> None:
        if self._session_id:
            with self.gateway.engine.begin() as conn:
                accounts.end_session(conn, self._session_id)
        self._session = self._session_id = None
        self.principal, self.authenticated_by = None, None
        self._cookies.append((SESSION_COOKIE, None, {}))

    # --- cookies and language ----------------------------------------------------------------------------------

    def _language(self) -> str:
        if self.request is None:
            return "zh"
        asked = self.request.args.get("lang")
        if asked in LANGS:
            if asked != self.request.cookies.get(LANG_COOKIE):
                self._cookies.append((LANG_COOKIE, asked, {"max_age": 365 * 24 * 3600, "httponly": False}))
            return asked
        remembered = self.request.cookies.get(LANG_COOKIE)
        return remembered if remembered in LANGS else "zh"

    def set_cookies(self, response) -> None:
        secure = self.gateway.settings.secure_cookies
        for name, value, options in self._cookies:
            if value is None:
                response.delete_cookie(name, path="/", secure=secure, httponly=True, samesite="Lax")
            else:
                response.set_cookie(name, value, path="/", secure=secure, samesite="Lax",
                                    httponly=options.get("httponly", True), max_age=options.get("max_age"))
        self._cookies.clear()


def client_address(request, trusted_proxies: int = 0) -> str:
    """The client's address: the socket's peer, or behind N trusted reverse proxies the address the first of
    them saw (X-Forwarded-For's N-th entry from the right; entries further left are the client's to invent)."""
    if request is None:
        return "-"
    if trusted_proxies > 0:
        forwarded = [a.strip() for a in request.headers.get("X-Forwarded-For", "").split(",") if a.strip()]
        if len(forwarded) >= trusted_proxies:
            return forwarded[-trusted_proxies][:64]
    return request.remote_addr or "-"


def unavailable(service: str, why: str) -> ServiceUnavailable:
    return ServiceUnavailable(service, f"the {service} service {why}; try again in a moment")
