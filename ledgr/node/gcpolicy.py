"""Short garbage-collector pauses for long-running node processes.

Why this exists: a node keeps large, long-lived caches of acyclic objects — parsed SMT pages
(``ledgr.ledger.smt_pages``), the per-operation memos (``ledgr.ledger.memo``), receipts. CPython's
full (generation 2) collection walks every tracked object, so once those caches hold a few hundred
thousand objects every full collection stops the process for 0.1–0.5 s. In ``bench/cluster.py`` at
70 % of saturation these stops, mostly in the ledger worker that builds and re-executes blocks, were
the whole p99: 0.5–1.8 s with the collector's defaults, ~0.1 s without them (docs/benchmarks.md,
"Third pass"). The cached objects are freed by reference counting when evicted; the cyclic
collector never frees any of them, it only re-walks them.

So every ``freeze_interval_s`` the young generations are collected (cheap: only recent objects) and
whatever survived is moved to the permanent generation with :func:`gc.freeze` (Python >= 3.7), which
later collections skip. Automatic collections then only walk objects created since the last freeze.
The interval is 0.25 s: with 1 s the ledger worker's young generations grew until one collection
took 25–42 ms; at 0.25 s none over 15 ms was seen. The price: a reference cycle that was alive at a
freeze and became garbage later is not found until the next full collection, which runs every
``full_interval_s`` after :func:`gc.unfreeze` — the one remaining long pause, bounded in frequency.

The ledger worker freezes without collecting (``collect_young=False``, kind ``"freeze"``): under
load its paced young collections found nothing (0 objects in every 5 s window, a ``gc.callbacks``
probe at 800 ops/s) yet cost ~9 % of its CPU, walking the memos and pages built since the last tick.
Its jobs are pure ledger functions that build no reference cycles; its own automatic collections
(threshold 100,000) and the full collection still find any that do appear. The node process keeps
the young collections: aiohttp and asyncio do leave cycles behind (requests, failed connections).
:meth:`GcPacer.tick` reports each collection so the node can log it and expose it as a metric.
"""

from __future__ import annotations

import gc
import time
from dataclasses import dataclass

FREEZE_INTERVAL_S = 0.25
FULL_INTERVAL_S = 600.0


@dataclass(frozen=True)
class Collection:
    # "young" (collect generations 0–1, then freeze), "freeze" (freeze only) or "full" (unfreeze,
    # collect all, freeze)
    kind: str
    seconds: float
    collected: int
    frozen: int  # objects in the permanent generation after a full collection; -1 after a young one


class GcPacer:
    """Decides, on each :meth:`tick`, whether a young-and-freeze or a full collection is due."""

    def __init__(self, now_s: float, freeze_interval_s: float = FREEZE_INTERVAL_S,
                 full_interval_s: float = FULL_INTERVAL_S, collect_young: bool = True) -> None:
        if freeze_interval_s <= 0 or full_interval_s < freeze_interval_s:
            raise ValueError("need 0 < freeze_interval_s <= full_interval_s")
        self.freeze_interval_s = freeze_interval_s
        self.full_interval_s = full_interval_s
        self.collect_young = collect_young
        self._last_freeze_s = now_s
        self._last_full_s = now_s

    def due(self, now_s: float) -> str | None:
        if now_s - self._last_full_s >= self.full_interval_s:
            return "full"
        if now_s - self._last_freeze_s >= self.freeze_interval_s:
            return "young" if self.collect_young else "freeze"
        return None

    def tick(self, now_s: float) -> Collection | None:
        kind = self.due(now_s)
        if kind is None:
            return None
        started = time.perf_counter()
        if kind == "full":
            gc.unfreeze()
            collected = gc.collect()
            self._last_full_s = now_s
        elif kind == "young":
            collected = gc.collect(1)
        else:
            collected = 0
        gc.freeze()
        self._last_freeze_s = now_s
        seconds = time.perf_counter() - started
        # counting the permanent generation walks it (O(objects), ~0.1 s at a million): full only
        return Collection(kind, seconds, collected, gc.get_freeze_count() if kind == "full" else -1)


_process_pacer: GcPacer | None = None


def start_process(collect_young: bool = True) -> None:
    """Set this worker process's policy (``collect_young``, see the module docstring) at start-up."""
    global _process_pacer
    _process_pacer = GcPacer(time.monotonic(), collect_young=collect_young)


def tick_process(now_s: float | None = None) -> Collection | None:
    """For worker processes without an event loop: call after each job (a no-op until one is due);
    a process that did not call :func:`start_process` gets the default policy on its first tick."""
    global _process_pacer
    now = time.monotonic() if now_s is None else now_s
    if _process_pacer is None:
        _process_pacer = GcPacer(now)
        return None
    return _process_pacer.tick(now)
