"""One API request through the rules: who (401), CSRF for cookie sessions, permission (403), input (422), the
route's function, the audit log, and the response schema (which also keeps undeclared fields out)."""
from __future__ import annotations

import base64
import json
import logging

from marshmallow import ValidationError, fields
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response

from services.gateway.errors import ApiError, Forbidden, Unauthenticated, Unprocessable
from services.gateway.routes import AUTHENTICATED, PUBLIC, Route

log = logging.getLogger(__name__)

# Never copied into the audit log's subject: contents, free text and secrets.
_NOT_AUDITED = {"content_b64", "record", "password", "comment", "answer", "topic", "signer_name", "token"}


def call_api(ctx, route: Route, params: dict):
    """The route's answer for this principal and these parameters, or an ApiError."""
    principal = ctx.principal
    if route.permission != PUBLIC:
        if principal is None:
            raise Unauthenticated("sign in first (or send an API token: Authorization: Bearer …)")
        if route.permission != AUTHENTICATED and not principal.can(route.permission):
            if route.audit:
                ctx.audit(f"{route.audit}:{route.name}", _subject(params), outcome="denied")
            raise Forbidden(f"your role ({principal.role}) may not use {route.name}")
    body = load(route, params)
    ctx.audit_subject = None
    try:
        result = route.function(ctx, body)
    except Forbidden:
        if route.audit:
            ctx.audit(f"{route.audit}:{route.name}", _subject(body), outcome="denied")
        raise
    if route.audit:
        ctx.audit(f"{route.audit}:{route.name}", ctx.audit_subject or _subject(body))
    if route.response is None:
        return result
    return route.response.dump(result)


def load(route: Route, params: dict) -> dict:
    if route.request is None:
        if params:
            raise Unprocessable("this operation takes no parameters",
                                errors=[{"field": k, "reason": "unknown field"} for k in sorted(params)])
        return {}
    try:
        body = route.request.load(params)
    except ValidationError as error:
        problems = flatten(error.messages)
        raise Unprocessable("; ".join(f"{p['field']}: {p['reason']}" for p in problems), errors=problems)
    # No text a person types holds U+0000, and PostgreSQL refuses to store it: say so here rather than let a
    # service fail on it (schemathesis found this).
    problems = [{"field": field, "reason": "contains a NUL character (U+0000)"} for field in _nul_fields(body)]
    if problems:
        raise Unprocessable("; ".join(f"{p['field']}: {p['reason']}" for p in problems), errors=problems)
    return body


def _nul_fields(value, prefix: str = "") -> list[str]:
    if isinstance(value, str):
        return [prefix or "body"] if "\x00" in value else []
    if isinstance(value, dict):
        return [f for key, item in value.items() for f in _nul_fields(item, f"{prefix}.{key}" if prefix else str(key))]
    if isinstance(value, (list, tuple)):
        return [f for i, item in enumerate(value) for f in _nul_fields(item, f"{prefix}.{i}")]
    return []


def flatten(messages, prefix: str = "") -> list[dict]:
    """marshmallow's nested {field: [messages]} as a flat list of {field, reason} (nested fields as a.b, list
    items as a.0; a problem of the whole body has field None)."""
    if isinstance(messages, dict):
        problems = []
        for key, value in messages.items():
            name = prefix if key == "_schema" else (f"{prefix}.{key}" if prefix else str(key))
            problems += flatten(value, name)
        return problems
    if isinstance(messages, (list, tuple)):
        problems = []
        for item in messages:
            if isinstance(item, (dict, list, tuple)):
                problems += flatten(item, prefix)
            else:
                problems.append({"field": prefix or None, "reason": str(item)})
        return problems
    return [{"field": prefix or None, "reason": str(messages)}]


def _subject(body: dict) -> dict:
    return {k: v for k, v in body.items() if k not in _NOT_AUDITED and v not in (None, "", [], {})}


# --- HTTP ------------------------------------------------------------------------------------------------------

def handle_http(ctx, route: Route, request, path_values: dict) -> Response:
    try:
        if needs_csrf(ctx, route, request) and not ctx.check_csrf(request):
            raise Forbidden("missing or wrong CSRF token (send the X-CSRF-Token header or a csrf_token field)",
                            field="csrf_token")
        result = call_api(ctx, route, {**read_params(route, request), **path_values})
        response = result if isinstance(result, Response) else json_response(result, route.status)
    except ApiError as error:
        response = json_response(error.body(), error.status)
    except HTTPException as error:     # werkzeug's own: a body too large (413), a broken form…
        response = json_response({"status": "error", "message": error.description,
                                  "errors": [{"field": None, "reason": error.description}]}, error.code)
    except Exception:
        log.exception("%s failed", route.name)     # the route's name, never its parameters: no personal data
        response = json_response({"status": "error", "message": "internal error (logged)",
                                  "errors": [{"field": None, "reason": "internal error"}]}, 500)
    ctx.set_cookies(response)
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


FORMS = ("multipart/form-data", "application/x-www-form-urlencoded")


def needs_csrf(ctx, route: Route, request) -> bool:
    """Unsafe requests a browser could be tricked into sending: any made with the session cookie, and forms
    (another site can post a form, even before sign-in). API-token requests carry no ambient credential."""
    if not route.unsafe or ctx.authenticated_by == "token":
        return False
    return ctx.authenticated_by == "session" or (request.mimetype or "") in FORMS


def json_response(body, status: int = 200) -> Response:
    return Response(json.dumps(body, ensure_ascii=False, default=str), status=status,
                    content_type="application/json; charset=utf-8")


def read_params(route: Route, request) -> dict:
    """Query parameters for GET; a JSON object, or a form (files as {filename, content_b64}), otherwise."""
    if not route.unsafe:
        return _from_multidict(route, request.args)
    mimetype = request.mimetype or ""
    if mimetype in FORMS:
        params = _from_multidict(route, request.form)
        params.pop("csrf_token", None)
        declared = route.request.fields if route.request is not None else {}
        for name, upload in request.files.items():
            sent = {"filename": upload.filename or name,
                    "content_b64": base64.b64encode(upload.read()).decode("ascii")}
            if "content_b64" in declared and name not in declared:   # one file: the body is that file
                params = {**sent, **params}
            else:
                params[name] = sent
        return params
    raw = request.get_data(cache=True)
    if not raw.strip():
        return {}
    if mimetype != "application/json" and not mimetype.endswith("+json"):
        # A cross-site page can send text/plain without asking; JSON it cannot (no CORS is offered).
        raise Unprocessable(f"send the body as application/json (not {mimetype or 'without a type'})",
                            field=None)
    try:
        body = json.loads(raw)
    except ValueError as error:
        raise Unprocessable(f"the body is not JSON: {error}", field=None)
    if not isinstance(body, dict):
        raise Unprocessable("the body must be a JSON object", field=None)
    return body


def _from_multidict(route: Route, values) -> dict:
    declared = route.request.fields if route.request is not None else {}
    params = {}
    for key in values.keys():
        if key == "lang" and key not in declared:     # the interface language (ctx.lang), not a parameter
            continue
        field = declared.get(key)
        params[key] = values.getlist(key) if isinstance(field, fields.List) else values.get(key)
    return params
