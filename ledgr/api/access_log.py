"""Structured access log: one ``http_request`` JSON line per request (method, path, status, ms, who).

Never secrets or contents: the path is redacted like audit values (bearer-token and secret-key shapes
replaced), query strings and bodies are not logged, and the caller is named by its token id
(``token:<id>``) or ``anonymous``.

Lines are buffered and written together every ``FLUSH_INTERVAL_S`` (and on shutdown): one write per
batch instead of one per request keeps the log's cost at a few microseconds per request, so a node
answering thousands of resolutions per second is not slowed down by its own access log. The buffer is
bounded; beyond ``MAX_PENDING`` lines, lines are dropped and the next line written says how many.
A crash loses at most the last interval's lines. Off with ``api.access_log = false``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any, TextIO

from aiohttp import web

from ledgr.api.audit import actor_of, redact
from ledgr.api.tokens import PRINCIPAL_KEY
from ledgr.errors import LedgrError

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
FLUSH_INTERVAL_S = 0.2
MAX_PENDING = 20_000


class AccessLog:
    def __init__(self, stream: TextIO, node: str | None = None, *, max_pending: int = MAX_PENDING) -> None:
        self.stream = stream
        self.node = node
        self.max_pending = max_pending
        self.dropped = 0
        self._lines: list[str] = []
        self._task: asyncio.Task[None] | None = None

    def record(self, **fields: Any) -> None:
        if len(self._lines) >= self.max_pending:
            self.dropped += 1
            return
        entry: dict[str, Any] = {"event": "http_request", "level": "info", "logger": "ledgr.access",
                                 "timestamp": datetime.now(UTC).isoformat()}
        if self.node is not None:
            entry["node"] = self.node
        if self.dropped:
            entry["dropped_before"] = self.dropped
            self.dropped = 0
        entry.update(fields)
        self._lines.append(json.dumps(entry, ensure_ascii=False))

    def flush(self) -> None:
        if not self._lines:
            return
        lines, self._lines = self._lines, []
        with contextlib.suppress(OSError, ValueError):
            self.stream.write("\n".join(lines) + "\n")
            self.stream.flush()

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(FLUSH_INTERVAL_S)
            self.flush()

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.ensure_future(self._run())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        self.flush()

    def middleware(self) -> Callable[[web.Request, Handler], Awaitable[web.StreamResponse]]:
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
                self.record(method=request.method, path=redact(request.path), status=status,
                            ms=round((time.perf_counter() - started) * 1000, 2),
                            actor=actor_of(request.get(PRINCIPAL_KEY)), remote=request.remote or "unknown")

        return access_log_middleware
