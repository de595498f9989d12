"""The structured access log: one event per request with the answered status, never secrets."""

from __future__ import annotations

from aiohttp import web
from structlog.testing import capture_logs

from ledgr.api.access_log import access_log_middleware
from ledgr.api.problem import problem_middleware
from ledgr.errors import NotFound
from tests.unit.api.conftest import serve

TOKEN_LIKE = "ledgr_0123456789abcdef_" + "S" * 43


async def test_events_carry_status_and_no_secrets() -> None:
    async def missing(request: web.Request) -> web.Response:
        raise NotFound("no such thing")

    app = web.Application(middlewares=[problem_middleware, access_log_middleware])
    app.router.add_get("/v1/things/{id}", missing)
    async with serve(app) as client:
        with capture_logs() as events:
            response = await client.get(f"/v1/things/{TOKEN_LIKE}?secret=hunter2",
                                        headers={"Authorization": f"Bearer {TOKEN_LIKE}"})
            await response.read()
    assert response.status == 404
    (event,) = [e for e in events if e["event"] == "http_request"]
    assert event["status"] == 404 and event["method"] == "GET" and event["ms"] >= 0
    assert TOKEN_LIKE not in str(event) and "hunter2" not in str(event)
    assert event["path"].startswith("/v1/things/") and event["actor"] == "anonymous"
