"""RFC 9457 problem+json: the one place where errors become HTTP responses.

Every :class:`~ledgr.errors.LedgrError` raised by a handler (or below it) is rendered once here with
its ``http_status`` and ``to_problem()`` members plus ``instance``. aiohttp's own HTTP errors (unknown
route, wrong method, body too large) get the same shape. Anything else is a bug: logged with its
trace, answered with a bare 500 problem that leaks nothing.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

import structlog
from aiohttp import web

from ledgr.errors import LedgrError

PROBLEM_TYPE = "application/problem+json"
API_VERSION = "1.0.0"

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

log = structlog.get_logger("ledgr.api")

_HTTP_CODES = {
    400: ("bad-request", "Bad request"),
    404: ("not-found", "Not found"),
    405: ("method-not-allowed", "Method not allowed"),
    406: ("not-acceptable", "Not acceptable"),
    413: ("too-large", "Input too large"),
    415: ("unsupported-media-type", "Unsupported media type"),
}


def problem_response(problem: dict[str, Any], status: int) -> web.Response:
    return web.Response(status=status, text=json.dumps(problem, ensure_ascii=False),
                        content_type=PROBLEM_TYPE)


def _from_http_exception(exc: web.HTTPException, instance: str) -> web.Response:
    code, title = _HTTP_CODES.get(exc.status, ("http-error", exc.reason))
    detail = exc.reason
    if exc.status == 413:
        detail = "request body exceeds the size limit"
    problem = {"type": f"https://ledgr.dev/problems/{code}", "title": title, "status": exc.status,
               "detail": detail, "code": code, "instance": instance}
    response = problem_response(problem, exc.status)
    if exc.status == 405 and "Allow" in exc.headers:
        response.headers["Allow"] = exc.headers["Allow"]
    return response


@web.middleware
async def problem_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except LedgrError as exc:
        problem = exc.to_problem()
        problem["instance"] = request.path
        return problem_response(problem, exc.http_status)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        return _from_http_exception(exc, request.path)
    except Exception:
        log.exception("unhandled_error", path=request.path, method=request.method)
        return problem_response({"type": "about:blank", "title": "Internal Server Error", "status": 500,
                                 "instance": request.path}, 500)


async def add_api_version(request: web.Request, response: web.StreamResponse) -> None:
    """Dutch API Design Rules (API-57): every response names the API version."""
    response.headers["API-Version"] = API_VERSION
