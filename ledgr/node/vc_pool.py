"""The issuer/verifier worker pool: spawn processes, a bounded queue, batches per round trip.

Jobs (:mod:`ledgr.node.vc_worker`) queue here; whenever a worker is free the queued jobs (up to
``BATCH_JOBS``) go to it in one batch, so under load one IPC round trip carries many credentials and
an idle pool answers a single job at once. More than ``max_queue`` queued or running jobs → 429
(``RateLimited``): a burst is refused at the door instead of growing memory, and consensus on the
same node keeps its CPU share because canonicalization runs in other processes.

The processes start with the first job (a validator that serves no issuing or verification runs none;
the first request pays about a second of spawn and imports) and exit with the node, SIGKILL included.
"""

from __future__ import annotations

import asyncio
import contextlib
import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

from ledgr import errors
from ledgr.errors import LedgrError, RateLimited, Unavailable
from ledgr.node import vc_worker

BATCH_JOBS = 64


def rebuild_error(info: tuple[str, str, dict[str, Any]]) -> LedgrError:
    name, detail, extra = info
    cls = getattr(errors, name, None)
    if not (isinstance(cls, type) and issubclass(cls, LedgrError)):
        cls = LedgrError
    return cls(detail, **extra)


class VcPool:
    def __init__(self, data_dir: Path, workers: int, max_queue: int) -> None:
        self.workers = workers
        self.max_queue = max_queue
        self._data_dir = str(data_dir)
        self._executor: ProcessPoolExecutor | None = None
        self._queue: list[tuple[vc_worker.Job, asyncio.Future[Any]]] = []
        self._pending = 0
        self._running = 0
        self._tasks: set[asyncio.Task[None]] = set()

    def _pool(self) -> ProcessPoolExecutor:
        if self._executor is None:
            self._executor = ProcessPoolExecutor(
                max_workers=self.workers, mp_context=multiprocessing.get_context("spawn"),
                initializer=vc_worker.init, initargs=(self._data_dir, os.getpid()))
        return self._executor

    async def warm_up(self) -> None:
        """Start every worker process now (spawn + imports take about a second)."""
        loop = asyncio.get_running_loop()
        await asyncio.gather(*(loop.run_in_executor(self._pool(), vc_worker.ping)
                               for _ in range(self.workers)))

    @property
    def pending(self) -> int:
        return self._pending

    async def run(self, kind: str, args: dict[str, Any]) -> Any:
        """Run one job; raises its :class:`LedgrError`, or 429 when the queue is full."""
        if self._pending >= self.max_queue:
            raise RateLimited("the signing/verification queue is full; retry shortly",
                              retryAfterSeconds=1)
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._queue.append(((kind, args), future))
        self._pending += 1
        try:
            self._dispatch()
            return await future
        finally:
            self._pending -= 1

    def _dispatch(self) -> None:
        while self._queue and self._running < self.workers:
            batch, self._queue = self._queue[:BATCH_JOBS], self._queue[BATCH_JOBS:]
            self._running += 1
            task = asyncio.ensure_future(self._run_batch(batch))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _run_batch(self, batch: list[tuple[vc_worker.Job, asyncio.Future[Any]]]) -> None:
        loop = asyncio.get_running_loop()
        try:
            answers = await loop.run_in_executor(self._pool(), vc_worker.run_batch, [job for job, _ in batch])
        except Exception as exc:  # a dead worker fails its jobs; the next batch gets a fresh pool
            self._reset()
            failure = Unavailable(f"the signing worker failed ({type(exc).__name__}); retry")
            answers = [(False, (type(failure).__name__, failure.detail, {}))] * len(batch)
        finally:
            self._running -= 1
        for (_job, future), (ok, value) in zip(batch, answers, strict=True):
            if future.done():
                continue
            if ok:
                future.set_result(value)
            else:
                future.set_exception(rebuild_error(value))
        self._dispatch()

    def _reset(self) -> None:
        if self._executor is not None:
            with contextlib.suppress(Exception):
                self._executor.shutdown(wait=False, cancel_futures=True)
        self._executor = None

    def close(self) -> None:
        if self._executor is not None:
            self._executor.shutdown(wait=True, cancel_futures=True)
            self._executor = None
