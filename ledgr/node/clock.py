"""The node's clock: the one place that reads wall-clock and monotonic time.

Cores take time as an input; the runtime reads it here. ``LEDGR_CLOCK_OFFSET_MS`` shifts the wall
clock of one process, so clock-skew behaviour (block times, the consensus skew bound) can be tested
with real processes on one machine.
"""

from __future__ import annotations

import os
import time


class Clock:
    def __init__(self, offset_ms: int | None = None) -> None:
        if offset_ms is None:
            raw = os.environ.get("LEDGR_CLOCK_OFFSET_MS", "0")
            offset_ms = int(raw) if raw.lstrip("-").isdigit() else 0
        self.offset_ms = offset_ms

    def now_ms(self) -> int:
        """Wall-clock milliseconds since the Unix epoch (plus the configured offset)."""
        return time.time_ns() // 1_000_000 + self.offset_ms

    @staticmethod
    def monotonic_s() -> float:
        return time.monotonic()
