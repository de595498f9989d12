"""What the OpenAPI document says about authentication is what the auth middleware enforces.

Every documented route is served by a stub handler behind ``auth_middleware(route_access=route_access(doc))``
on a real server; each is called without a token, with a token of every kind, and with private reads.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

from aiohttp import web

from ledgr.api.auth import auth_middleware
from ledgr.api.openapi import build_document, route_access
from ledgr.api.problem import problem_middleware
from ledgr.api.tokens import TokenStore
from tests.unit.api.conftest import serve

T0 = datetime(2026, 11, 25, 8, 0, tzinfo=UTC)
ISSUER = "did:ledgr:4Hq3uKxeLmF1cUZzvVwJ7a"
ACCESS = route_access(build_document())
# which token kinds get past the middleware at each level (handlers then check the exact DID)
ALLOWED = {
    "public": {None, "read", "issue", "status", "admin"},
    "read": {None, "read", "issue", "status", "admin"},
    "issue": {"issue"},
    "status": {"status"},
    "admin": {"admin"},
}
PRIVATE_READS = {**ALLOWED, "read": {"read", "issue", "status", "admin"}}


def _app(store: TokenStore, private_reads: bool) -> web.Application:
    async def stub(request: web.Request) -> web.Response:
        return web.json_response({"ok": True})

    app = web.Application(middlewares=[
        problem_middleware,
        auth_middleware(store, now=lambda: T0, private_reads=private_reads, default_access="admin",
                        route_access=ACCESS),
    ])
    for method, path in ACCESS:
        app.router.add_route(method, path, stub)
    return app


def _concrete(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "x1", path)


async def _check(tmp_path: Path, private_reads: bool, expected: dict[str, set[str | None]]) -> None:
    store = TokenStore(tmp_path)
    tokens: dict[str | None, str | None] = {None: None}
    for kind, scope in (("read", "read"), ("issue", f"issue:{ISSUER}"), ("status", "status"),
                        ("admin", "admin")):
        tokens[kind], _ = store.create([scope], label=kind, now=T0)
    async with serve(_app(store, private_reads)) as client:
        for (method, path), access in sorted(ACCESS.items()):
            for kind, token in tokens.items():
                headers = {"Authorization": f"Bearer {token}"} if token else {}
                resp = await client.request(method, _concrete(path), headers=headers)
                if kind in expected[access]:
                    assert resp.status == 200, (method, path, kind)
                else:
                    assert resp.status == (401 if token is None else 403), (method, path, kind, resp.status)


async def test_documented_access_is_enforced(tmp_path: Path) -> None:
    await _check(tmp_path, False, ALLOWED)


async def test_documented_access_is_enforced_with_private_reads(tmp_path: Path) -> None:
    await _check(tmp_path, True, PRIVATE_READS)


def test_every_level_is_used() -> None:
    assert set(ACCESS.values()) == set(ALLOWED)
    assert ACCESS[("POST", "/v1/credentials/issue")] == "issue"
    assert ACCESS[("GET", "/v1/identifiers/{did}")] == "read"
    assert ACCESS[("POST", "/v1/tokens")] == "admin"
    assert ACCESS[("GET", "/v1/health")] == "public"
