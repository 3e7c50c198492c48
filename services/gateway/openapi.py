"""The gateway's OpenAPI document, generated from the route table and its marshmallow schemas (apispec).

    .venv/bin/python -m services.gateway.openapi          # rewrite services/gateway/openapi.yaml
    .venv/bin/python -m services.gateway.openapi --check  # exit 1 if the checked-in document is stale

tests/unit/gateway/test_openapi.py fails when the checked-in document and the routes drift apart.
"""
from __future__ import annotations

import sys
from pathlib import Path

import yaml
from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from marshmallow import Schema, fields

from services.gateway.routes import AUTHENTICATED, PUBLIC, Route, all_routes

DOCUMENT = Path(__file__).with_name("openapi.yaml")
VERSION = "1.0.0"

ERRORS = {401: "Not signed in (no session, or an unknown or revoked token)",
          403: "Your role or scope does not allow it (or a missing CSRF token)",
          404: "No such thing", 422: "Bad input: every problem with its field and reason",
          502: "A service failed", 503: "A service did not answer"}


class ProblemOut(Schema):
    field = fields.String(allow_none=True, metadata={"description": "the field concerned (null: the whole body)"})
    reason = fields.String()
    file = fields.String(metadata={"description": "file problems: the file"})
    row = fields.Integer(allow_none=True, metadata={"description": "file problems: the row as the user sees it"})
    header = fields.String(allow_none=True)
    value = fields.String(allow_none=True)
    reason_zh = fields.String()
    reason_en = fields.String()


class ErrorOut(Schema):
    status = fields.String()
    message = fields.String()
    errors = fields.List(fields.Nested(ProblemOut))
    report = fields.String(metadata={"description": "rejected files: the whole report as text"})


def _name(schema) -> str:
    cls = schema if isinstance(schema, type) else schema.__class__
    name = cls.__name__
    if not isinstance(schema, type) and (schema.exclude or schema.only):
        name += "Json"
    return name


def build() -> dict:
    plugin = MarshmallowPlugin(schema_name_resolver=_name)
    spec = APISpec(
        title="academic-quality gateway", version=VERSION, openapi_version="3.0.3", plugins=[plugin],
        info={"description": "Everything the aq command does, over HTTP: sign in (session cookie + X-CSRF-Token) "
                             "or send an API token (Authorization: Bearer). See docs/gateway.md."},
    )
    spec.components.security_scheme("session", {"type": "apiKey", "in": "cookie", "name": "aq_session"})
    spec.components.security_scheme("token", {"type": "http", "scheme": "bearer"})
    spec.components.schema("ErrorOut", schema=ErrorOut)
    paths: dict[str, dict] = {}
    for route in sorted(all_routes(), key=lambda r: (r.openapi_path, r.method)):
        paths.setdefault(route.openapi_path, {})[route.method.lower()] = _operation(route, plugin)
    for path, operations in paths.items():
        spec.path(path=path, operations=operations)
    return spec.to_dict()


def _operation(route: Route, plugin: MarshmallowPlugin) -> dict:
    converter = plugin.converter
    operation = {"operationId": route.name, "summary": route.summary, "tags": [route.tag],
                 "x-permission": route.permission, "responses": {}}
    if route.audit:
        operation["x-audit"] = route.audit
    if route.permission == PUBLIC:
        operation["security"] = []
    else:
        operation["security"] = [{"session": []}, {"token": []}]
    parameters = []
    if route.request is not None:
        schema_cls = route.request.__class__
        path_fields = route.path_params
        if path_fields:
            parameters += converter.schema2parameters(schema_cls(only=path_fields), location="path")
        rest = [name for name in route.request.fields if name not in path_fields]
        if not route.unsafe:
            if rest:
                parameters += converter.schema2parameters(schema_cls(only=rest), location="query")
        elif rest:
            body_schema = schema_cls(exclude=path_fields) if path_fields else schema_cls
            operation["requestBody"] = {"required": True,
                                        "content": {"application/json": {"schema": body_schema}}}
    if parameters:
        operation["parameters"] = parameters
    if route.response is not None:
        content = {"application/json": {"schema": route.response.__class__}}
    else:
        content = {"text/html": {"schema": {"type": "string"}},
                   "application/pdf": {"schema": {"type": "string", "format": "binary"}}}
    operation["responses"][str(route.status)] = {"description": "OK", "content": content}
    errors = [422, 503] if route.permission == PUBLIC else [401, 403, 422, 502, 503]
    if route.path_params or route.name.endswith(("show", "history")):
        errors.append(404)
    for status in sorted(set(errors)):
        operation["responses"][str(status)] = {
            "description": ERRORS[status], "content": {"application/json": {"schema": "ErrorOut"}}}
    if route.name.startswith("acknowledgement."):
        for status, why in ((404, "The link is not valid"), (409, "Already acknowledged"),
                            (410, "The link expired, or the notice was withdrawn")):
            operation["responses"][str(status)] = {
                "description": why, "content": {"application/json": {"schema": "ErrorOut"}}}
    if route.permission == AUTHENTICATED:
        operation["responses"].pop("403", None)
    return operation


def render() -> str:
    return yaml.safe_dump(build(), allow_unicode=True, sort_keys=False, width=120)


def main(argv: list[str]) -> int:
    text = render()
    if "--check" in argv:
        current = DOCUMENT.read_text(encoding="utf-8") if DOCUMENT.exists() else ""
        if current != text:
            print(f"{DOCUMENT} is stale: run python -m services.gateway.openapi", file=sys.stderr)
            return 1
        return 0
    DOCUMENT.write_text(text, encoding="utf-8")
    print(DOCUMENT)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
