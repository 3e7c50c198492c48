"""The web interface's one entry: ``handle(request, ctx) -> Response`` (the gateway routes ``/``, ``/login``,
``/logout`` and ``/ui/...`` here).

Every page: find the view; send a visitor who is not signed in to /login; refuse a role the page is not for (403);
refuse a POST without a valid CSRF token; run the view; render its template with the frame (navigation by role,
the language, the CSRF token); set no-store and a strict Content-Security-Policy (personal data must not be cached,
and the pages run no inline script).
"""
from __future__ import annotations

import mimetypes
from dataclasses import dataclass
from datetime import datetime, timezone
from urllib.parse import urlencode
from pathlib import Path
from typing import Callable

from jinja2 import Environment, FileSystemLoader, select_autoescape
from werkzeug.exceptions import HTTPException, MethodNotAllowed, NotFound as RouteNotFound, RequestEntityTooLarge
from werkzeug.routing import Map, RequestRedirect, Rule
from werkzeug.wrappers import Response
from werkzeug.utils import redirect

from services.gateway.errors import ApiError
from services.gateway.web import i18n
from services.gateway.web.views import acknowledgements, dashboard, history, people, review, session, tasks, uploads
from shared.clock import college_timezone

HERE = Path(__file__).parent
STATIC = HERE / "static"
CSP = ("default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; font-src 'self'; "
       "form-action 'self'; frame-ancestors 'none'; base-uri 'none'")


@dataclass(frozen=True)
class Page:
    get: Callable | None
    post: Callable | None = None
    permission: str | None = None        # None: any signed-in person; "public": anyone
    roles: frozenset[str] = frozenset()  # if set, only these roles (besides the permission)


PUBLIC = "public"
ACK = "ack"          # a signed link's token is the credential: anyone holding it, no session, no CSRF token
PAGES: dict[str, Page] = {
    "home": Page(session.home, permission=PUBLIC),
    "login": Page(session.login_form, session.login, permission=PUBLIC),
    "logout": Page(session.logout_form, session.logout),
    "static": Page(None, permission=PUBLIC),
    "ack": Page(acknowledgements.ack_page, acknowledgements.ack_sign, permission=ACK),
    "upload": Page(uploads.upload_form, uploads.upload, permission="grades.upload"),
    "trace": Page(uploads.trace_lookup, uploads.trace_lookup, permission="uploads.trace"),
    "upload_status": Page(uploads.upload_status, permission="uploads.trace"),
    "tasks": Page(tasks.task_list, permission="tasks.read"),
    "task": Page(tasks.task_page, tasks.task_post, permission="tasks.read"),
    "cohort": Page(people.cohort, people.confirm_list, permission="warnings.read", roles=frozenset({"counselor"})),
    "courses": Page(people.courses, permission="flags.read", roles=frozenset({"department_head", "vice_dean"})),
    "dashboard": Page(dashboard.dashboard, permission="report.read"),
    "report": Page(dashboard.report, permission="report.read"),
    "report_pdf": Page(dashboard.report_pdf, permission="report.read"),
    "pending": Page(review.pending, permission="warnings.pending"),
    "pending_decide": Page(None, review.decide, permission="warnings.release"),
    "whatif": Page(review.whatif_form, review.whatif, permission="policy.try"),
    "history": Page(history.search, history.show, permission="warnings.read"),
}

URLS = Map([
    Rule("/", endpoint="home"),
    Rule("/ui", endpoint="home"),
    Rule("/login", endpoint="login", methods=["GET", "POST"]),
    Rule("/logout", endpoint="logout", methods=["GET", "POST"]),
    Rule("/ui/static/<path:name>", endpoint="static"),
    Rule("/ui/upload", endpoint="upload", methods=["GET", "POST"]),
    Rule("/ui/trace", endpoint="trace", methods=["GET", "POST"]),
    Rule("/ui/uploads/<upload_id>", endpoint="upload_status"),
    Rule("/ack/<token>", endpoint="ack", methods=["GET", "POST"]),
    Rule("/ui/tasks", endpoint="tasks"),
    Rule("/ui/tasks/<task_id>", endpoint="task", methods=["GET", "POST"]),
    Rule("/ui/cohort", endpoint="cohort", methods=["GET", "POST"]),
    Rule("/ui/courses", endpoint="courses"),
    Rule("/ui/dashboard", endpoint="dashboard"),
    Rule("/ui/report/<semester>", endpoint="report"),
    Rule("/ui/report/<semester>/pdf", endpoint="report_pdf"),
    Rule("/ui/pending", endpoint="pending"),
    Rule("/ui/pending/decide", endpoint="pending_decide", methods=["POST"]),
    Rule("/ui/whatif", endpoint="whatif", methods=["GET", "POST"]),
    Rule("/ui/history", endpoint="history", methods=["GET", "POST"]),
], strict_slashes=False)

# Navigation: (page, message key, permission, roles that see it — empty: every role with the permission).
NAV = (
    ("upload", "nav.upload", "grades.upload", ()),
    ("trace", "nav.trace", "uploads.trace", ()),
    ("pending", "nav.pending", "warnings.pending", ()),
    ("whatif", "nav.whatif", "policy.try", ()),
    ("tasks", "nav.tasks", "tasks.work", ()),
    ("cohort", "nav.cohort", "warnings.read", ("counselor",)),
    ("courses", "nav.courses", "flags.read", ("department_head", "vice_dean")),
    ("dashboard", "nav.dashboard", "report.read", ()),
    ("history", "nav.history", "warnings.read", ()),
)
NAV_PATHS = {"upload": "/ui/upload", "trace": "/ui/trace", "tasks": "/ui/tasks",
             "cohort": "/ui/cohort", "courses": "/ui/courses", "dashboard": "/ui/dashboard",
             "pending": "/ui/pending", "whatif": "/ui/whatif", "history": "/ui/history"}


def _may(principal, page: Page) -> bool:
    if page.permission in (PUBLIC, ACK):
        return True
    if principal is None:
        return False
    if page.roles and not (principal.roles & page.roles) and not principal.college_wide:
        return False
    return page.permission is None or principal.can(page.permission)


def navigation(principal, current: str) -> list[dict]:
    if principal is None:
        return []
    items = []
    for name, label, permission, roles in NAV:
        if not principal.can(permission):
            continue
        if roles and not (principal.roles & set(roles)):
            continue
        items.append({"name": name, "href": NAV_PATHS[name], "label": label, "current": name == current})
    return items


def _environment() -> Environment:
    env = Environment(loader=FileSystemLoader(str(HERE / "templates")), autoescape=select_autoescape(["html"]),
                      trim_blocks=True, lstrip_blocks=True)
    env.filters.update(pct=_pct, when=_when, num=_num, cmp=_cmp)
    return env


def _pct(value, digits: int = 1) -> str:
    if isinstance(value, dict):
        value = value.get("rate")
    return "—" if value is None else f"{value * 100:.{digits}f}%"


def _when(value: str | None) -> str:
    """An ISO time (services keep UTC) as the college reads it: 2024-09-02 09:00 in the college's time zone."""
    if not value:
        return ""
    try:
        moment = datetime.fromisoformat(str(value))
    except ValueError:
        return str(value)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(college_timezone()).strftime("%Y-%m-%d %H:%M")


def _num(value) -> str:
    """A measure or threshold without a needless fraction: 11.0 -> 11, 1.85 -> 1.85."""
    if value is None:
        return ""
    if isinstance(value, (int, float)):
        return f"{value:.2f}".rstrip("0").rstrip(".")
    return str(value)


def _cmp(value: str | None) -> str:
    return {">=": "≥", "<=": "≤"}.get(value or "", value or "")


ENV = _environment()


def render(template: str, context: dict, ctx, request, endpoint: str, status: int = 200) -> Response:
    principal = ctx.principal
    t = i18n.Translator(ctx.lang)
    page = {"t": t, "lang": t.lang, "other_lang": "en" if t.lang == "zh" else "zh",
            "language_link": language_link(request, "en" if t.lang == "zh" else "zh"), "principal": principal,
            "nav": navigation(principal, endpoint), "csrf_token": ctx.csrf_token, "path": request.path,
            "refresh": None}
    html = ENV.get_template(template).render(**{**page, **context})
    return Response(html, status=status, content_type="text/html; charset=utf-8")


def error_page(ctx, request, status: int, message: str, **values) -> Response:
    return render("error.html", {"message": message, "values": values}, ctx, request, "error", status)


def _static(name: str) -> Response:
    if name == "cjk-font":
        # Browsers without a Chinese font (a bare server, the test's headless Chromium) get the one the semester
        # report already ships (mplfonts); a browser with its own never asks for it (see style.css).
        from services.assessment.report.fonts import cjk_font_path
        path = cjk_font_path()
    else:
        path = (STATIC / name).resolve()
        if STATIC.resolve() not in path.parents:
            path = None
    if path is None or not path.is_file():
        return Response("not found", status=404, content_type="text/plain")
    content_type = mimetypes.guess_type(str(path))[0] or "font/otf"
    response = Response(path.read_bytes(), content_type=content_type)
    response.headers["Cache-Control"] = "public, max-age=86400"
    return response


def language_link(request, lang: str) -> str:
    """This page in the other language: the gateway reads ?lang= and remembers it in a cookie (context.py)."""
    query = [(k, v) for k, v in request.args.items(multi=True) if k != "lang"] + [("lang", lang)]
    return request.path + "?" + urlencode(query)


def _dispatch(request, ctx) -> Response:
    adapter = URLS.bind_to_environ(request.environ)
    try:
        endpoint, args = adapter.match()
    except RequestRedirect as exc:
        return redirect(exc.new_url, code=308)
    except MethodNotAllowed:
        return error_page(ctx, request, 405, "error.bad_request", reason=request.method)
    except RouteNotFound:
        return error_page(ctx, request, 404, "error.not_found")
    page = PAGES[endpoint]
    if endpoint == "static":
        return _static(args["name"])
    if page.permission not in (PUBLIC, ACK) and ctx.principal is None:
        back = {"next": request.full_path.rstrip("?")} if request.method == "GET" else {}
        return redirect("/login?" + urlencode({"why": "required", **back}), code=303)
    if not _may(ctx.principal, page):
        return error_page(ctx, request, 403, "error.forbidden")
    if request.method == "POST" and page.permission != ACK and not ctx.check_csrf(request):
        return error_page(ctx, request, 400, "error.csrf")
    view = page.post if request.method == "POST" else page.get
    try:
        result = view(ctx, request, **args)
    except ApiError as exc:
        return _api_error(ctx, request, exc)
    if isinstance(result, Response):
        return result
    template, context, *status = result
    return render(template, context, ctx, request, endpoint, status[0] if status else 200)


def _api_error(ctx, request, exc: ApiError) -> Response:
    if exc.status == 401:
        return redirect("/login?why=required", code=303)
    if exc.status == 403:
        return error_page(ctx, request, 403, "error.forbidden")
    if exc.status == 404:
        return error_page(ctx, request, 404, "error.not_found")
    if exc.status in (502, 503):           # a service is down, too slow, or failed: try again later
        return error_page(ctx, request, exc.status, "error.unavailable", service=getattr(exc, "service", exc.reason))
    return error_page(ctx, request, exc.status, "error.bad_request", reason=exc.reason)


def handle(request, ctx) -> Response:
    try:
        response = _dispatch(request, ctx)
    except RequestEntityTooLarge:             # the gateway's upload limit (request.max_content_length)
        limit = (request.max_content_length or 0) / 1024 / 1024
        response = error_page(ctx, request, 413, "error.too_large", mb=f"{limit:g}")
    except HTTPException as exc:              # werkzeug's own refusals (a broken form…)
        response = exc.get_response()
    if not response.headers.get("Cache-Control"):
        response.headers["Cache-Control"] = "no-store"
    response.headers.setdefault("Content-Security-Policy", CSP)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    return response          # the gateway applies ctx's cookies (session, CSRF, language) to it
