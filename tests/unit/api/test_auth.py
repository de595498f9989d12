"""Auth middleware over a real aiohttp server: 401/403/429 problem+json, scopes, issuer isolation."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from ledgr.api.audit import AuditLog
from ledgr.api.auth import auth_middleware, require_issuer_scope, require_status_scope, requires
from ledgr.api.problem import problem_middleware
from ledgr.api.ratelimit import TokenBucketLimiter
from ledgr.api.tokens import TokenStore
from tests.unit.api.conftest import FakeClock, serve

T0 = datetime(2026, 11, 25, 8, 0, tzinfo=UTC)
ISSUER_A = "did:ledgr:4Hq3uKxeLmF1cUZzvVwJ7a"
ISSUER_B = "did:ledgr:9pZcLq2W8n3XyTf6VmKd1e"


def build_app(store: TokenStore, signed: list[str], *, private_reads: bool = False,
              failure_limiter: TokenBucketLimiter | None = None,
              audit: AuditLog | None = None) -> web.Application:
    @requires("public")
    async def health(request: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    @requires("read")
    async def verify(request: web.Request) -> web.Response:
        return web.json_response({"verified": True})

    @requires("issue")
    async def issue(request: web.Request) -> web.Response:
        body = await request.json()
        principal = require_issuer_scope(request, body["issuer"])
        signed.append(body["issuer"])
        return web.json_response({"issuer": body["issuer"], "by": principal.token_id}, status=201)

    @requires("status")
    async def status(request: web.Request) -> web.Response:
        body = await request.json()
        require_status_scope(request, body["issuer"])
        return web.json_response({"ok": True})

    @requires("admin")
    async def tokens(request: web.Request) -> web.Response:
        return web.json_response([])

    async def latest_block(request: web.Request) -> web.Response:
        return web.json_response({"height": 1})

    app = web.Application(middlewares=[
        problem_middleware,
        auth_middleware(store, now=lambda: T0, private_reads=private_reads,
                        route_access={("GET", "/v1/admin-only"): "admin"},
                        failure_limiter=failure_limiter, audit=audit),
    ])
    app.router.add_get("/v1/health", health)
    app.router.add_post("/v1/credentials/verify", verify)
    app.router.add_post("/v1/credentials/issue", issue)
    app.router.add_post("/v1/credentials/status", status)
    app.router.add_get("/v1/tokens", tokens)
    app.router.add_get("/v1/blocks/latest", latest_block)
    app.router.add_get("/v1/admin-only", latest_block)
    return app


@pytest.fixture
def store(tmp_path: Path) -> TokenStore:
    return TokenStore(tmp_path)


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def _problem(resp: Any, status: int) -> dict[str, Any]:
    assert resp.status == status
    assert resp.headers["Content-Type"].startswith("application/problem+json")
    assert resp.headers["API-Version"] == "1.0.0"
    body: dict[str, Any] = await resp.json(content_type=None)
    assert body["status"] == status and body["title"] and body["detail"]
    return body


async def test_public_and_read_routes_need_no_token(store: TokenStore) -> None:
    async with serve(build_app(store, [])) as client:
        assert (await client.get("/v1/health")).status == 200
        assert (await client.post("/v1/credentials/verify", json={})).status == 200
        assert (await client.get("/v1/blocks/latest")).status == 200


async def test_private_reads_require_any_valid_token(store: TokenStore) -> None:
    token, _ = store.create(["read"], label="verifier", now=T0)
    async with serve(build_app(store, [], private_reads=True)) as client:
        resp = await client.post("/v1/credentials/verify", json={})
        await _problem(resp, 401)
        assert resp.headers["WWW-Authenticate"] == 'Bearer realm="ledgr"'
        assert (await client.post("/v1/credentials/verify", json={}, headers=_bearer(token))).status == 200
        assert (await client.get("/v1/health")).status == 200


async def test_missing_malformed_and_invalid_tokens_get_401(store: TokenStore) -> None:
    signed: list[str] = []
    async with serve(build_app(store, signed)) as client:
        resp = await client.post("/v1/credentials/issue", json={"issuer": ISSUER_A})
        body = await _problem(resp, 401)
        assert body["type"] == "https://ledgr.dev/problems/unauthorized"
        assert resp.headers["WWW-Authenticate"].startswith("Bearer")
        resp = await client.post("/v1/credentials/issue", json={"issuer": ISSUER_A},
                                 headers={"Authorization": "Basic dXNlcjpwYXNz"})
        await _problem(resp, 401)
        assert 'error="invalid_request"' in resp.headers["WWW-Authenticate"]
        resp = await client.post("/v1/credentials/issue", json={"issuer": ISSUER_A},
                                 headers=_bearer("ledgr_0123456789abcdef_" + "x" * 43))
        await _problem(resp, 401)
        assert 'error="invalid_token"' in resp.headers["WWW-Authenticate"]
        # an invalid token is refused even on a public route
        await _problem(await client.get("/v1/health", headers=_bearer("nonsense")), 401)
    assert signed == []


async def test_wrong_scope_gets_403_and_nothing_is_signed(store: TokenStore, tmp_path: Path) -> None:
    signed: list[str] = []
    status_token, record = store.create(["status"], label="desk", now=T0)
    audit = AuditLog(tmp_path / "audit.log", now=lambda: T0)
    async with serve(build_app(store, signed, audit=audit)) as client:
        resp = await client.post("/v1/credentials/issue", json={"issuer": ISSUER_A},
                                 headers=_bearer(status_token))
        body = await _problem(resp, 403)
        assert body["requiredScope"] == "issue"
        assert 'error="insufficient_scope"' in resp.headers["WWW-Authenticate"]
        await _problem(await client.get("/v1/tokens", headers=_bearer(status_token)), 403)
        await _problem(await client.get("/v1/admin-only", headers=_bearer(status_token)), 403)
    assert signed == []
    audit.close()
    denials = [json.loads(line) for line in (tmp_path / "audit.log").read_text().splitlines()]
    assert [(d["event"], d["actor"], d["path"]) for d in denials] == [
        ("auth.denied", f"token:{record.id}", "/v1/credentials/issue"),
        ("auth.denied", f"token:{record.id}", "/v1/tokens"),
        ("auth.denied", f"token:{record.id}", "/v1/admin-only")]
    assert status_token not in (tmp_path / "audit.log").read_text()


async def test_denied_secret_looking_paths_are_logged_redacted(store: TokenStore, tmp_path: Path) -> None:
    status_token, _ = store.create(["status"], label="desk", now=T0)
    audit = AuditLog(tmp_path / "audit.log", now=lambda: T0)
    app = build_app(store, [], audit=audit)

    @requires("admin")
    async def keys(request: web.Request) -> web.Response:
        return web.json_response({})

    app.router.add_get("/v1/keys/{name}", keys)
    secret = "z3u2" + "A" * 44
    async with serve(app) as client:
        await _problem(await client.get(f"/v1/keys/{secret}", headers=_bearer(status_token)), 403)
        await _problem(await client.get(f"/v1/nowhere/{secret}", headers=_bearer(status_token)), 404)
    audit.close()
    logged = [json.loads(line) for line in (tmp_path / "audit.log").read_text().splitlines()]
    assert [entry["path"] for entry in logged] == ["/v1/keys/[redacted]"]


async def test_issuer_token_can_never_sign_as_another_issuer(store: TokenStore) -> None:
    signed: list[str] = []
    token_a, record_a = store.create([f"issue:{ISSUER_A}"], label="issuer A", now=T0)
    async with serve(build_app(store, signed)) as client:
        resp = await client.post("/v1/credentials/issue", json={"issuer": ISSUER_A}, headers=_bearer(token_a))
        assert resp.status == 201
        assert (await resp.json())["by"] == record_a.id
        resp = await client.post("/v1/credentials/issue", json={"issuer": ISSUER_B}, headers=_bearer(token_a))
        body = await _problem(resp, 403)
        assert body["requiredScope"] == f"issue:{ISSUER_B}"
    assert signed == [ISSUER_A]


async def test_status_scope_per_issuer(store: TokenStore) -> None:
    token_a, _ = store.create([f"status:{ISSUER_A}"], label="A desk", now=T0)
    token_all, _ = store.create(["status"], label="all", now=T0)
    async with serve(build_app(store, [])) as client:
        ok = await client.post("/v1/credentials/status", json={"issuer": ISSUER_A}, headers=_bearer(token_a))
        assert ok.status == 200
        await _problem(await client.post("/v1/credentials/status", json={"issuer": ISSUER_B},
                                         headers=_bearer(token_a)), 403)
        ok = await client.post("/v1/credentials/status", json={"issuer": ISSUER_B},
                               headers=_bearer(token_all))
        assert ok.status == 200


async def test_admin_token_works_and_revocation_takes_effect_immediately(store: TokenStore) -> None:
    token, record = store.create(["admin"], label="ops", now=T0)
    async with serve(build_app(store, [])) as client:
        assert (await client.get("/v1/tokens", headers=_bearer(token))).status == 200
        TokenStore(store.directory).revoke(record.id, now=T0)
        body = await _problem(await client.get("/v1/tokens", headers=_bearer(token)), 401)
        assert "revoked" in body["detail"]


async def test_repeated_failures_from_one_ip_turn_into_429(store: TokenStore) -> None:
    clock = FakeClock()
    limiter = TokenBucketLimiter(rate_per_s=0.1, burst=3, clock=clock)
    async with serve(build_app(store, [], failure_limiter=limiter)) as client:
        for _ in range(3):
            await _problem(await client.get("/v1/tokens", headers=_bearer("bad")), 401)
        resp = await client.get("/v1/tokens", headers=_bearer("bad"))
        await _problem(resp, 429)
        assert int(resp.headers["Retry-After"]) == 10
        clock.advance(10)
        await _problem(await client.get("/v1/tokens", headers=_bearer("bad")), 401)


async def test_unknown_route_and_unexpected_errors_are_problems(store: TokenStore) -> None:
    app = build_app(store, [])

    async def boom(request: web.Request) -> web.Response:
        raise RuntimeError("secret internal detail")

    app.router.add_get("/v1/boom", boom)
    async with serve(app) as client:
        await _problem(await client.get("/v1/nowhere"), 404)
        resp = await client.get("/v1/boom")
        body = await _problem(resp, 500)
        assert "secret internal detail" not in await resp.text()
        assert body["instance"] == "/v1/boom"
        await _problem(await client.delete("/v1/health"), 405)


def test_requires_rejects_unknown_levels() -> None:
    with pytest.raises(ValueError):
        requires("root")  # type: ignore[arg-type]
