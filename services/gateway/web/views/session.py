"""Signing in and out, the landing page of each role, and the choice of language."""
from __future__ import annotations

from werkzeug.utils import redirect

from services.gateway.web.views import see_other

# Where each role starts (the first role a person holds, in Principal.role's order).
LANDING = {"academic_affairs": "/ui/upload", "vice_dean": "/ui/dashboard", "deputy_secretary": "/ui/tasks",
           "department_head": "/ui/courses", "counselor": "/ui/cohort", "head_teacher": "/ui/tasks",
           }


def safe_next(target: str | None) -> str | None:
    """Only a path of this site (never another host: //evil, /\\evil, https://…)."""
    if not target or not target.startswith("/") or target.startswith(("//", "/\\")):
        return None
    return target


def home(ctx, request):
    if ctx.principal is None:
        return redirect("/login", code=303)
    landing = LANDING.get(ctx.principal.role)
    if landing is None:         # the gateway's admin: accounts and operations are `aq` and the API, not pages
        return "home.html", {}
    return redirect(landing, code=303)


def login_form(ctx, request):
    if ctx.principal is not None:
        return redirect(safe_next(request.args.get("next")) or "/", code=303)
    notice = {"required": "login.required", "bye": "login.signed_out"}.get(request.args.get("why", ""))
    return "login.html", {"next": safe_next(request.args.get("next")), "notice": notice}


def login(ctx, request):
    username = (request.form.get("username") or "").strip()
    password = request.form.get("password") or ""
    target = safe_next(request.form.get("next"))
    # ctx.client: the socket's peer, or behind AQ_GATEWAY_TRUSTED_PROXIES the address the first proxy saw.
    outcome = ctx.sign_in(username, password, ctx.client)
    if isinstance(outcome, str) or not outcome:
        # One message for a wrong name or a wrong password (no hint which); a lock-out says so.
        message = "login.locked" if "lock" in str(outcome).lower() else "login.failed"
        return "login.html", {"next": target, "error": message, "username": username}, 401
    return see_other(target or "/")


def logout_form(ctx, request):
    if ctx.principal is None:
        return redirect("/login", code=303)
    return "logout.html", {}


def logout(ctx, request):
    ctx.sign_out()
    return see_other("/login", why="bye")
