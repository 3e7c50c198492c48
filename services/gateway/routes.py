"""The route table: every API endpoint as method + path -> (function, request schema, response schema, permission).

The nameko HTTP entrypoints (service.py), the OpenAPI document (openapi.py) and the authorization matrix test are
all derived from this one table, so an endpoint cannot exist without a permission, a schema and a place in the
document. API functions are plain: ``function(ctx, body) -> dict`` where ``body`` is the validated request
(path values, query or JSON body merged) and ``ctx`` gives the principal, RPC and the audit log.
"""
from __future__ import annotations

import importlib
import re
from dataclasses import dataclass
from typing import Callable

from marshmallow import Schema

PUBLIC = "public"                 # anyone, signed in or not (health probe, acknowledgement links)
AUTHENTICATED = "authenticated"   # any signed-in principal
API_MODULES = ("session", "uploads", "results", "notices", "advising", "assessment", "operations", "accounts",
               "acknowledgements", "review", "history", "lists")


@dataclass(frozen=True)
class Route:
    name: str                  # "warnings.list": what ctx.api() and the audit log call it
    method: str                # GET, POST or DELETE
    path: str                  # werkzeug rule, e.g. /api/tasks/<task_id>
    function: Callable
    request: Schema | None     # None: no input
    response: Schema | None    # None: the function returns a werkzeug Response itself
    permission: str            # PUBLIC, AUTHENTICATED or a permission of domain/principal.py
    summary: str
    audit: str | None = None   # "read", "export" or "change": personal data; every call is written to the audit log
    status: int = 200
    tag: str = ""

    @property
    def path_params(self) -> list[str]:
        return re.findall(r"<(?:[a-z]+:)?([a-z_]+)>", self.path)

    @property
    def openapi_path(self) -> str:
        return re.sub(r"<(?:[a-z]+:)?([a-z_]+)>", r"{\1}", self.path)

    @property
    def unsafe(self) -> bool:
        return self.method not in ("GET", "HEAD", "OPTIONS")


_ROUTES: list[Route] = []


def endpoint(method: str, path: str, *, name: str, permission: str, summary: str, request: Schema | None = None,
             response: Schema | None = None, audit: str | None = None, status: int = 200):
    """Register an API function in the route table."""
    def register(function):
        tag = function.__module__.rsplit(".", 1)[-1]
        _ROUTES.append(Route(name, method, path, function, request, response, permission, summary, audit, status,
                             tag))
        return function
    return register


def all_routes() -> list[Route]:
    for module in API_MODULES:
        importlib.import_module(f"services.gateway.api.{module}")
    names = [r.name for r in _ROUTES]
    duplicates = {n for n in names if names.count(n) > 1}
    if duplicates:
        raise RuntimeError(f"route names used twice: {sorted(duplicates)}")
    return list(_ROUTES)


def by_name(name: str) -> Route:
    for route in all_routes():
        if route.name == name:
            return route
    raise KeyError(f"no API operation {name!r}")
