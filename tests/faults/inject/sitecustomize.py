"""Test-only fault injection into ONE node process: a slow disk (issue 7 "slow disk mode").

``tc``/cgroup I/O throttling, FUSE and dm-delay are not available on these machines, and LMDB calls
fsync from C, so the delay is injected one level up, where the node performs every durable write:
:meth:`ledgr.node.writer.DurableWriter.run` (consensus-state persists and block commits, always
awaited before the node sends the messages that depend on them). Each such write first sleeps
``LEDGR_FAULT_DISK_DELAY_MS`` in the writer thread — exactly what a slow fsync does to the node —
and appends one byte to ``LEDGR_FAULT_DISK_LOG`` so a test can see the fault was active.

Python imports ``sitecustomize`` at start-up from ``sys.path``; the fault cluster puts this directory
on ``PYTHONPATH`` only for the node it slows down. Nothing in ``ledgr/`` knows about it. (A knob in
the node itself is requested: requests-from-faults.md item 3.)
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable
from typing import Any


def _install(delay_s: float, log_path: str | None) -> None:
    from ledgr.node import writer

    original = writer.DurableWriter.run

    async def run(self: Any, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        def slow(*a: Any, **k: Any) -> Any:
            time.sleep(delay_s)
            if log_path:
                with open(log_path, "ab") as handle:
                    handle.write(b".")
            return fn(*a, **k)

        return await original(self, slow, *args, **kwargs)

    writer.DurableWriter.run = run  # type: ignore[method-assign]
    print(f"fault injection: every durable write waits {delay_s * 1000:.0f} ms (slow disk)",
          file=sys.stderr, flush=True)


_DELAY_MS = os.environ.get("LEDGR_FAULT_DISK_DELAY_MS", "")
if _DELAY_MS.isdigit() and int(_DELAY_MS) > 0:
    _install(int(_DELAY_MS) / 1000, os.environ.get("LEDGR_FAULT_DISK_LOG"))
