"""Structure of the OpenAPI document beyond the linter: refs resolve, every operation follows the house
conventions, examples validate against their schemas, and the served routes can be compared with it."""

from __future__ import annotations

import json
from typing import Any

import jsonschema
import pytest

from ledgr.api.openapi import API_VERSION, build_document, documented_routes

DOC = build_document()
METHODS = ("get", "put", "post", "delete", "patch")


def _operations() -> list[tuple[str, str, dict[str, Any]]]:
    return [(path, method, op) for path, item in DOC["paths"].items() for method, op in item.items()
            if method in METHODS]


def _resolve(node: Any) -> Any:
    if isinstance(node, dict) and "$ref" in node:
        target: Any = DOC
        for part in node["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        return _resolve(target)
    return node


def _refs(node: Any) -> list[str]:
    if isinstance(node, dict):
        found = [node["$ref"]] if "$ref" in node else []
        return found + [r for value in node.values() for r in _refs(value)]
    if isinstance(node, list):
        return [r for value in node for r in _refs(value)]
    return []


def _to_json_schema(schema: Any) -> Any:
    """OpenAPI 3.0 schema -> JSON Schema: refs point into ``$defs``, ``nullable`` becomes a null type."""
    if isinstance(schema, list):
        return [_to_json_schema(s) for s in schema]
    if not isinstance(schema, dict):
        return schema
    if "$ref" in schema:
        return {"$ref": "#/$defs/" + schema["$ref"].rsplit("/", 1)[1]}
    out = {k: _to_json_schema(v) for k, v in schema.items() if k not in {"nullable", "example"}}
    if schema.get("nullable"):
        out = {"anyOf": [out, {"type": "null"}]}
    return out


DEFS = {name: _to_json_schema(s) for name, s in DOC["components"]["schemas"].items()}


def test_every_ref_resolves() -> None:
    refs = set(_refs(DOC))
    assert len(refs) > 50
    for ref in refs:
        assert _resolve({"$ref": ref}) is not None


def test_the_whole_v1_api_is_described() -> None:
    routes = documented_routes(DOC)
    for route in [("POST", "/v1/credentials/issue"), ("POST", "/v1/credentials/verify"),
                  ("POST", "/v1/presentations/verify"), ("POST", "/v1/credentials/status"),
                  ("GET", "/v1/status-lists/{id}"), ("GET", "/v1/identifiers/{did}"),
                  ("POST", "/v1/identifiers"), ("PUT", "/v1/identifiers/{did}"),
                  ("DELETE", "/v1/identifiers/{did}"), ("GET", "/v1/discovery"), ("GET", "/v1/issuers"),
                  ("POST", "/v1/operations"), ("GET", "/v1/operations/{hash}"),
                  ("GET", "/v1/blocks/{height}"),
                  ("GET", "/v1/blocks/latest"), ("GET", "/v1/status"), ("GET", "/v1/state/{kind}/{id}"),
                  ("GET", "/v1/health"), ("GET", "/v1/health/ready"), ("POST", "/v1/tokens"),
                  ("GET", "/v1/openapi.json")]:
        assert route in routes
    assert DOC["servers"][0]["url"].endswith("/v1")
    assert not any(path.startswith("/v1") or path.startswith("/1.0") for path in DOC["paths"])


@pytest.mark.parametrize(("path", "method", "op"), _operations(),
                         ids=[f"{m} {p}" for p, m, _ in _operations()])
def test_operation_conventions(path: str, method: str, op: dict[str, Any]) -> None:
    responses = op["responses"]
    assert "400" in responses
    for status, response in responses.items():
        response = _resolve(response)
        assert "API-Version" in response["headers"], (status, "API-Version")
        if int(status) >= 400:
            assert "application/problem+json" in response["content"], status
    assert "401" in responses  # any route refuses an invalid token
    access = op["x-ledgr-access"]
    assert access in {"public", "read", "issue", "status", "admin"}
    if access in {"issue", "status", "admin"}:
        assert "403" in responses and op["security"] == [{"bearerAuth": []}]
        assert "Requires a bearer token" in op["description"]
    if "requestBody" in op:
        assert "413" in responses


def test_operation_ids_are_unique() -> None:
    ids = [op["operationId"] for _, _, op in _operations()]
    assert len(ids) == len(set(ids))


def _examples() -> list[tuple[str, Any, Any]]:
    """Each distinct (schema, example) pair once (shared error responses repeat on every operation)."""
    out = []
    seen: set[str] = set()
    for path, method, op in _operations():
        bodies = [("request", op.get("requestBody", {}))]
        bodies += [(status, _resolve(resp)) for status, resp in op["responses"].items()]
        for where, item in bodies:
            for media, content in item.get("content", {}).items():
                key = json.dumps([content.get("schema"), content.get("example")], sort_keys=True)
                if "example" in content and key not in seen:
                    seen.add(key)
                    out.append((f"{method} {path} {where} {media}", content["schema"], content["example"]))
    return out


@pytest.mark.parametrize(("where", "schema", "example"), _examples(), ids=[e[0] for e in _examples()])
def test_examples_match_their_schemas(where: str, schema: Any, example: Any) -> None:
    jsonschema.validate(example, {**_to_json_schema(schema), "$defs": DEFS})


def test_examples_hold_no_real_looking_secret_key() -> None:
    text = json.dumps(DOC)
    assert '"secretKeyMultibase": "z3u2' not in text
    assert DOC["info"]["version"] == API_VERSION


def test_served_routes_compares_an_app_with_the_document() -> None:
    from aiohttp import web

    from ledgr.api.openapi import served_routes

    async def handler(request: web.Request) -> web.Response:
        return web.json_response({})

    app = web.Application()
    app.router.add_get("/v1/state/{kind}/{id:.+}", handler)
    app.router.add_post("/v1/operations", handler)
    app.router.add_get("/metrics", handler)
    app.router.add_get("/1.0/identifiers/{did}", handler)
    served = served_routes(app)
    assert served == {("GET", "/v1/state/{kind}/{id}"), ("POST", "/v1/operations")}
    assert served <= documented_routes(DOC)
    app.router.add_get("/v1/undocumented", handler)
    assert not served_routes(app) <= documented_routes(DOC)
