"""Operations endpoints: liveness, readiness, Prometheus metrics and node status."""

from __future__ import annotations

from aiohttp import web

from ledgr.api.context import node_of
from ledgr.errors import Unavailable
from ledgr.node.metrics import CONTENT_TYPE


async def health(request: web.Request) -> web.Response:
    """Liveness: the process serves HTTP."""
    return web.json_response({"status": "ok"})


async def ready(request: web.Request) -> web.Response:
    """Readiness: caught up and connected to enough peers to form a quorum."""
    node = node_of(request)
    ok, reason = node.readiness()
    if not ok:
        raise Unavailable(f"not ready: {reason}", reason=reason)
    return web.json_response({"status": "ready"})


async def metrics(request: web.Request) -> web.Response:
    body = node_of(request).metrics.render()
    return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE})


async def status(request: web.Request) -> web.Response:
    return web.json_response(node_of(request).status())


def register(app: web.Application) -> None:
    app.router.add_get("/v1/health", health)
    app.router.add_get("/v1/health/ready", ready)
    app.router.add_get("/v1/status", status)
    app.router.add_get("/v1/metrics", metrics)
    app.router.add_get("/metrics", metrics)
