"""The checked-in OpenAPI document is what the route table generates, and it describes every route."""
from __future__ import annotations

import yaml

from services.gateway import openapi
from services.gateway.routes import PUBLIC, all_routes


def test_the_checked_in_document_matches_the_routes():
    assert openapi.DOCUMENT.read_text(encoding="utf-8") == openapi.render(), \
        "services/gateway/openapi.yaml is stale: run .venv/bin/python -m services.gateway.openapi"


def test_every_route_is_documented_with_its_permission_schemas_and_errors():
    document = yaml.safe_load(openapi.DOCUMENT.read_text(encoding="utf-8"))
    operations = {op["operationId"]: (path, method, op) for path, ops in document["paths"].items()
                  for method, op in ops.items()}
    for route in all_routes():
        path, method, op = operations.pop(route.name)
        assert (path, method) == (route.openapi_path, route.method.lower())
        assert op["x-permission"] == route.permission
        assert "422" in op["responses"] and str(route.status) in op["responses"]
        assert (op["security"] == []) is (route.permission == PUBLIC)
        documented = {p["name"] for p in op.get("parameters", ())}
        body = op.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema", {})
        if body:
            name = body["$ref"].rsplit("/", 1)[-1]
            documented |= set(document["components"]["schemas"][name]["properties"])
        declared = set(route.request.fields) if route.request is not None else set()
        assert documented == declared, route.name
    assert operations == {}


def test_the_document_is_valid_openapi():
    import schemathesis
    schema = schemathesis.openapi.from_path(str(openapi.DOCUMENT))
    operations = [result.ok() for result in schema.get_all_operations()]   # .ok() raises on a broken operation
    assert len(operations) == len(all_routes())


def test_docs_gateway_md_lists_every_route_for_the_web_interface():
    from pathlib import Path
    text = (Path(__file__).resolve().parents[3] / "docs" / "gateway.md").read_text(encoding="utf-8")
    missing = [r.name for r in all_routes() if f"| `{r.name}` | `{r.method} {r.path}` |" not in text]
    assert missing == [], "add these routes to the table of docs/gateway.md"
