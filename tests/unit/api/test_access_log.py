"""The structured access log: one JSON line per request with the answered status, never secrets."""

from __future__ import annotations

import io
import json

from aiohttp import web

from ledgr.api.access_log import AccessLog
from ledgr.api.problem import problem_middleware
from ledgr.errors import NotFound
from tests.unit.api.conftest import serve

TOKEN_LIKE = "ledgr_0123456789abcdef_" + "S" * 43


async def test_lines_carry_status_and_no_secrets() -> None:
    async def missing(request: web.Request) -> web.Response:
        raise NotFound("no such thing")

    stream = io.StringIO()
    log = AccessLog(stream, "node0")
    app = web.Application(middlewares=[problem_middleware, log.middleware()])
    app.router.add_get("/v1/things/{id}", missing)
    async with serve(app) as client:
        log.start()
        response = await client.get(f"/v1/things/{TOKEN_LIKE}?secret=hunter2",
                                    headers={"Authorization": f"Bearer {TOKEN_LIKE}"})
        await response.read()
        await log.stop()
    assert response.status == 404
    (line,) = stream.getvalue().splitlines()
    event = json.loads(line)
    assert event["event"] == "http_request" and event["status"] == 404 and event["method"] == "GET"
    assert event["node"] == "node0" and event["ms"] >= 0 and event["actor"] == "anonymous"
    assert TOKEN_LIKE not in line and "hunter2" not in line and event["path"].startswith("/v1/things/")


def test_buffer_is_bounded_and_drops_are_reported() -> None:
    stream = io.StringIO()
    log = AccessLog(stream, max_pending=3)
    for i in range(5):
        log.record(status=200, path=f"/{i}")
    log.flush()
    log.record(status=200, path="/after")
    log.flush()
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert [line["path"] for line in lines] == ["/0", "/1", "/2", "/after"]
    assert lines[-1]["dropped_before"] == 2
