"""The one problem+json implementation over real HTTP: aiohttp's own errors and unexpected failures
(a 500 whose body reveals nothing of the failure), each with ``API-Version``."""

from __future__ import annotations

from aiohttp import web

from ledgr.api.problems import add_api_version, problem_middleware
from tests.unit.api.conftest import serve


def _app() -> web.Application:
    async def boom(request: web.Request) -> web.Response:
        raise RuntimeError("secret internal state /etc/ledgr/keystore")

    async def ok(request: web.Request) -> web.Response:
        return web.json_response({"size": len(await request.read())})

    app = web.Application(middlewares=[problem_middleware], client_max_size=1024)
    app.on_response_prepare.append(add_api_version)
    app.router.add_get("/boom", boom)
    app.router.add_post("/ok", ok)
    return app


async def test_unexpected_failure_is_a_bare_500_problem() -> None:
    async with serve(_app()) as client:
        response = await client.get("/boom")
        text = await response.text()
        assert response.status == 500 and response.content_type == "application/problem+json"
        assert response.headers["API-Version"] == "1.0.0"
        assert "secret" not in text and "Traceback" not in text and "RuntimeError" not in text
        body = await response.json(content_type=None)
        assert body["status"] == 500 and body["title"] and body["detail"]


async def test_aiohttp_errors_are_problems() -> None:
    async with serve(_app()) as client:
        for method, path, status in (("GET", "/nope", 404), ("GET", "/ok", 405)):
            response = await client.request(method, path)
            body = await response.json(content_type=None)
            assert response.status == status and body["status"] == status and body["detail"]
            assert response.headers["API-Version"] == "1.0.0"
        response = await client.post("/ok", data=b"x" * 4096)
        body = await response.json(content_type=None)
        assert response.status == 413 and body["status"] == 413
        assert response.content_type == "application/problem+json"
