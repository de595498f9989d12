"""The driver's step ordering around a commit, and the paced garbage collector (ledgr.node.gcpolicy).

The driver test uses a recording stand-in for the sans-IO core (the contract under test is the
driver's: which input it steps first) and a stand-in chain whose commit can be held open, so an input
can arrive exactly while the decided block is being stored — the race that, before the fix, cost a
whole propose timeout (docs/benchmarks.md, "GC pauses and a dropped proposal").
"""

from __future__ import annotations

import asyncio
import gc
import weakref
from typing import Any

from ledgr.consensus.events import Decide, Start, TimeoutElapsed, TimeoutKind
from ledgr.node.chain import Committed
from ledgr.node.clock import Clock
from ledgr.node.config import NodeConfig
from ledgr.node.driver import ConsensusDriver
from ledgr.node.gcpolicy import GcPacer
from ledgr.node.mempool import Mempool, PendingOp
from ledgr.node.metrics import NodeMetrics


class RecordingCore:
    def __init__(self, decide: Decide) -> None:
        self.seen: list[Any] = []
        self.decide = decide

    def step(self, item: Any, now_ms: int) -> list[Any]:
        self.seen.append(item)
        return [self.decide] if item == "decide-now" else []


class HeldChain:
    """Commits height 5 when released; the tip then moves from 4 to 5."""

    def __init__(self) -> None:
        self.height = 4
        self.tip_time_ms = 1_000
        self.release = asyncio.Event()
        self.storing = asyncio.Event()

    def core_validators(self, height: int) -> str:
        return f"set-{height}"

    async def commit_decided(self, decide: Decide, writer: Any) -> Committed:
        self.storing.set()
        await self.release.wait()
        self.height = 5
        return Committed(5, [], 2_000, decide.qc)


async def test_the_next_height_starts_before_inputs_queued_while_the_block_was_stored() -> None:
    decide = Decide(5, 0, b"v" * 32, b"block", 2_000, None)  # type: ignore[arg-type]
    core, chain = RecordingCore(decide), HeldChain()
    mempool = Mempool(10, 1 << 20)
    mempool.add(PendingOp(b"h" * 32, b"op", None, 0.0))  # work is waiting: start at once
    driver = ConsensusDriver(core, chain, None, None, mempool, NodeConfig(), NodeMetrics(),  # type: ignore[arg-type]
                             Clock(0))
    driver.started_height = 5
    runner = asyncio.create_task(driver.run())
    try:
        driver.offer("decide-now", from_peer=False)  # type: ignore[arg-type]
        await asyncio.wait_for(chain.storing.wait(), 2)
        early = TimeoutElapsed(TimeoutKind.PROPOSE, 6, 0)  # stands for a peer's height-6 proposal
        driver.offer(early)
        chain.release.set()
        for _ in range(100):
            if early in core.seen:
                break
            await asyncio.sleep(0.01)
        order = [type(item).__name__ if not isinstance(item, str) else item for item in core.seen]
        assert order[:3] == ["decide-now", "Start", "TimeoutElapsed"], order
        start = core.seen[1]
        assert isinstance(start, Start) and start.height == 6 and start.validators == "set-6"
    finally:
        runner.cancel()
        await driver.close()


async def test_pause_waits_for_the_step_in_progress() -> None:
    decide = Decide(5, 0, b"v" * 32, b"block", 2_000, None)  # type: ignore[arg-type]
    core, chain = RecordingCore(decide), HeldChain()
    driver = ConsensusDriver(core, chain, None, None, Mempool(10, 1 << 20), NodeConfig(),  # type: ignore[arg-type]
                             NodeMetrics(), Clock(0))
    runner = asyncio.create_task(driver.run())
    try:
        driver.offer("decide-now", from_peer=False)  # type: ignore[arg-type]
        await asyncio.wait_for(chain.storing.wait(), 2)
        pausing = asyncio.create_task(driver.pause())
        await asyncio.sleep(0.05)
        assert not pausing.done()  # block sync must not run while the decided block is being stored
        chain.release.set()
        await asyncio.wait_for(pausing, 2)
        assert chain.height == 5 and driver.paused
    finally:
        runner.cancel()
        await driver.close()


class Cycle:
    def __init__(self) -> None:
        self.me = self


def test_pacer_schedule() -> None:
    pacer = GcPacer(100.0, freeze_interval_s=1.0, full_interval_s=10.0)
    assert pacer.due(100.5) is None
    assert pacer.due(101.0) == "young"
    assert pacer.due(110.0) == "full"


def test_young_collection_freezes_survivors_and_full_collection_finds_frozen_cycles() -> None:
    gc.unfreeze()
    try:
        pacer = GcPacer(0.0, freeze_interval_s=1.0, full_interval_s=10.0)
        survivor = Cycle()
        watch = weakref.ref(survivor)
        done = pacer.tick(1.0)
        assert done is not None and done.kind == "young" and gc.get_freeze_count() > 0
        del survivor  # a cycle alive at the freeze, garbage now: invisible to ordinary collections
        gc.collect()
        assert watch() is not None
        assert pacer.tick(1.5) is None
        full = pacer.tick(10.0)
        assert full is not None and full.kind == "full" and full.collected >= 1
        assert full.frozen == gc.get_freeze_count() > 0
        assert watch() is None  # found once the full collection unfroze everything
    finally:
        gc.unfreeze()


def test_freeze_only_pacer_moves_survivors_without_collecting() -> None:
    gc.unfreeze()
    try:
        pacer = GcPacer(0.0, freeze_interval_s=1.0, full_interval_s=10.0, collect_young=False)
        assert pacer.due(1.0) == "freeze"
        garbage = Cycle()
        watch = weakref.ref(garbage)
        del garbage  # cyclic garbage not yet collected: a freeze-only tick keeps it (frozen)
        done = pacer.tick(1.0)
        assert done is not None and done.kind == "freeze" and done.collected == 0
        assert gc.get_freeze_count() > 0
        gc.collect()
        assert watch() is not None
        full = pacer.tick(10.0)
        assert full is not None and full.kind == "full" and full.collected >= 1
        assert watch() is None
    finally:
        gc.unfreeze()
