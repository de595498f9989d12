"""The durable writer: one thread that performs every store write of the node, in order.

LMDB allows one write transaction at a time and a durable commit costs ~0.4–1 ms of fsync; doing it
on the event loop would stall timers and peers. The consensus driver awaits :meth:`DurableWriter.run`
for each ``Persist`` (and for block commits) before performing the next effect, so "persist before
send" holds while the loop keeps serving other tasks. One thread keeps writes ordered.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import ParamSpec, TypeVar

P = ParamSpec("P")
T = TypeVar("T")


class DurableWriter:
    def __init__(self) -> None:
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="ledgr-writer")

    async def run(self, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, lambda: fn(*args, **kwargs))

    def close(self) -> None:
        self._executor.shutdown(wait=True)
