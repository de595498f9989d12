"""The API's own description: ``/v1/openapi.json`` and the rendered reference page ``/v1/docs``
(NL API Design Rules /core/publish-openapi). The document's server URL is this node's public base."""

from __future__ import annotations

import json

from aiohttp import web

from ledgr.api.openapi.render import REFERENCE_HTML
from ledgr.api.services import SERVICES


async def openapi_json(request: web.Request) -> web.Response:
    return web.Response(text=request.app[_CACHE], content_type="application/json")


async def reference_page(request: web.Request) -> web.Response:
    return web.Response(text=REFERENCE_HTML.read_text(encoding="utf-8"), content_type="text/html")


_CACHE = web.AppKey("ledgr.openapi_text", str)


def register(app: web.Application) -> None:
    app[_CACHE] = json.dumps(app[SERVICES].document, ensure_ascii=False)
    app.router.add_get("/v1/openapi.json", openapi_json)
    app.router.add_get("/v1/docs", reference_page)
