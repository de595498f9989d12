"""The durable writer: one thread that performs every store write of the node, in order.

LMDB allows one write transaction at a time and a durable commit costs ~0.4–1 ms of fsync; doing it
on the event loop would stall timers and peers. The consensus driver awaits :meth:`DurableWriter.run`
for each ``Persist`` (and for block commits) before performing the next effect, so "persist before
send" holds while the loop keeps serving other tasks. One thread keeps writes ordered.

Fault injection (issue 7, "slow disk"): with ``delay_ms`` > 0 (``[store] fault_delay_ms`` or
``LEDGR_FAULT_DISK_DELAY_MS``) the writer thread sleeps that long before each durable write, exactly
like a slow fsync: every persist — and so every message that must wait for it — is delayed. LMDB's
fsync happens in C, and this machine offers no other way to slow a disk (no cgroup io controller,
no FUSE, no dm-delay). Never set it in production; the node warns at start-up and reports it in
``/v1/status``.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import ParamSpec, TypeVar

P = ParamSpec("P")
T = TypeVar("T")


class DurableWriter:
    def __init__(self, delay_ms: int = 0) -> None:
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="ledgr-writer")
        self.delay_ms = max(0, delay_ms)

    async def run(self, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        loop = asyncio.get_running_loop()
        delay_s = self.delay_ms / 1000

        def write() -> T:
            if delay_s:
                time.sleep(delay_s)
            return fn(*args, **kwargs)

        return await loop.run_in_executor(self._executor, write)

    def close(self) -> None:
        self._executor.shutdown(wait=True)
