"""RFC 9457 problem details for every 4xx/5xx response (NL API Design Rules /core/error-handling).

Every error a client can cause is a :class:`ledgr.errors.LedgrError`; it is rendered here, once, as
``application/problem+json`` with the RFC 9457 §3.1 members ``type``, ``title``, ``status``, ``detail``,
``instance``, plus ledgr's stable ``code`` and the error's structured extension members (§3.2).
aiohttp's own HTTP errors (unknown route 404, wrong method 405, body over ``client_max_size`` 413) get the
same shape. Anything else is a bug: the client sees a generic 500 problem without internals (the
traceback goes to the server log only).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from aiohttp import web

from ledgr.api.openapi import API_VERSION
from ledgr.errors import LedgrError

__all__ = ["PROBLEM_JSON", "problem_body", "problem_middleware", "problem_response"]

PROBLEM_JSON = "application/problem+json"
PROBLEM_BASE = "https://ledgr.dev/problems/"
# Extension member names that RFC 9457 §3.1 reserves: an error's extras never override them.
_RESERVED = {"type", "title", "status", "detail", "instance", "code"}

_log = logging.getLogger("ledgr.api")

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def problem_body(error: LedgrError, instance: str) -> dict[str, Any]:
    body: dict[str, Any] = {
        "type": PROBLEM_BASE + error.code,
        "title": error.title,
        "status": error.http_status,
        "detail": error.detail,
        "instance": instance,
        "code": error.code,
    }
    for key, value in error.extra.items():
        if key not in _RESERVED:
            body[key] = _jsonable(value)
    return body


def problem_response(error: LedgrError, instance: str, *,
                     headers: Mapping[str, str] | None = None) -> web.Response:
    """An ``application/problem+json`` response for ``error`` (``instance``: the request path)."""
    all_headers = {"API-Version": API_VERSION, **(headers or {})}
    return web.Response(status=error.http_status, content_type=PROBLEM_JSON, charset="utf-8",
                        text=json.dumps(problem_body(error, instance), ensure_ascii=False),
                        headers=all_headers)


def http_problem_response(status: int, title: str, detail: str, instance: str, *,
                          headers: Mapping[str, str] | None = None) -> web.Response:
    """A problem response for an HTTP-level error that is not a :class:`LedgrError`."""
    code = title.lower().replace(" ", "-")
    body = {"type": PROBLEM_BASE + code, "title": title, "status": status, "detail": detail,
            "instance": instance, "code": code}
    return web.Response(status=status, content_type=PROBLEM_JSON, charset="utf-8", text=json.dumps(body),
                        headers={"API-Version": API_VERSION, **(headers or {})})


@web.middleware
async def problem_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Render :class:`LedgrError` and aiohttp HTTP errors as problem+json; hide unexpected failures."""
    try:
        return await handler(request)
    except LedgrError as error:
        return problem_response(error, request.path)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        headers = {k: v for k, v in exc.headers.items() if k.lower() in {"allow", "retry-after"}}
        return http_problem_response(exc.status, exc.reason, _http_detail(exc), request.path,
                                     headers=headers)
    except Exception:
        _log.exception("unhandled error on %s %s", request.method, request.path)
        return http_problem_response(500, "Internal Server Error",
                                     "the server failed to handle this request; it has been logged",
                                     request.path)


def _http_detail(exc: web.HTTPException) -> str:
    if exc.status == 404:
        return "no resource at this path"
    if exc.status == 405:
        return f"method not allowed here; allowed: {exc.headers.get('Allow', '')}"
    if exc.status == 413:
        return "the request body is larger than this endpoint accepts"
    return exc.text or exc.reason


def _jsonable(value: Any) -> Any:
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    return str(value)
