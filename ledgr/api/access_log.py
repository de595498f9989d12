"""Structured access log: one ``http_request`` event per request (method, path, status, duration, who).

Never secrets or contents: the path is redacted like audit values (bearer-token and secret-key shapes
replaced), the query string and bodies are not logged, and the caller is named by its token id
(``token:<id>``) or ``anonymous``. Off with ``api.access_log = false`` (e.g. for benchmarks).
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable

from aiohttp import web

from ledgr.api.audit import actor_of, redact
from ledgr.api.tokens import PRINCIPAL_KEY
from ledgr.errors import LedgrError
from ledgr.node.logs import get_logger

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

_log = get_logger("ledgr.access")


@web.middleware
async def access_log_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    started = time.perf_counter()
    status = 500
    try:
        response = await handler(request)
        status = response.status
        return response
    except web.HTTPException as exc:
        status = exc.status
        raise
    except LedgrError as exc:  # rendered as problem+json by the outer middleware
        status = exc.http_status
        raise
    finally:
        _log.info("http_request", method=request.method, path=redact(request.path), status=status,
                  ms=round((time.perf_counter() - started) * 1000, 2),
                  actor=actor_of(request.get(PRINCIPAL_KEY)), remote=request.remote or "unknown")
