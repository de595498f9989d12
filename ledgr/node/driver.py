"""The consensus driver: feeds the sans-IO core and performs its effects, in order (consensus.md §1.3).

One asyncio task owns the core. Every input (peer message, timer, built block, validation verdict,
synced commit, start of a height) goes through :attr:`ConsensusDriver.inbox` and is stepped one at a
time; the effects of a step are performed in list order:

- ``Persist``: written durably on the writer thread and awaited, so nothing signed later in the same
  step leaves before the state that forbids contradicting it is on disk (the raft Ready contract);
- ``Broadcast`` / ``SendTo``: handed to the peer transport (bounded queues, never blocking);
- ``ScheduleTimeout``: a loop timer that puts ``TimeoutElapsed`` back into the inbox;
- ``RequestValue`` / ``ValidateBlock``: block building and re-execution run off the loop (worker
  thread) and come back as ``ValueReady`` / ``BlockValidated``;
- ``Decide``: the block is committed through the store (one durable transaction) before the next
  input is stepped; then the next height starts when there is work (or a heartbeat is due).

Heights start lazily (CometBFT's ``create_empty_blocks = false``): after a commit the driver waits
until the mempool holds an operation, a peer sends a message for the new height, or the heartbeat
interval since the last block has passed, so an idle network sends nothing but a heartbeat block.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from collections.abc import Callable
from typing import Any

from ledgr.consensus.codec import encode_message
from ledgr.consensus.events import (
    BlockValidated,
    Broadcast,
    Decide,
    Effect,
    Input,
    Persist,
    ReportEvidence,
    RequestValue,
    ScheduleTimeout,
    SendTo,
    Start,
    SyncedCommit,
    TimeoutElapsed,
    TimeoutKind,
    ValidateBlock,
    ValueReady,
)
from ledgr.consensus.messages import Commit
from ledgr.crypto import PublicKey
from ledgr.errors import LedgrError, StorageError
from ledgr.node.chain import Chain
from ledgr.node.clock import Clock
from ledgr.node.config import NodeConfig
from ledgr.node.evidence_log import EvidenceLog
from ledgr.node.logs import get_logger
from ledgr.node.mempool import Mempool
from ledgr.node.metrics import NodeMetrics
from ledgr.node.peers import KIND_CONSENSUS, PeerNetwork
from ledgr.node.relay import RelayFilter
from ledgr.node.writer import DurableWriter

MAX_INBOX = 20000
# effects that must wait until the step's Persist is durable (messages leave; decisions are stored)
_AFTER_PERSIST = (Broadcast, SendTo, Decide, ReportEvidence)

log = get_logger("ledgr.driver")


class ConsensusDriver:
    def __init__(self, core: Any, chain: Chain, peers: PeerNetwork, writer: DurableWriter,
                 mempool: Mempool, config: NodeConfig, metrics: NodeMetrics, clock: Clock) -> None:
        self.core = core
        self.chain = chain
        self.peers = peers
        self.writer = writer
        self.mempool = mempool
        self.config = config
        self.metrics = metrics
        self.clock = clock
        self.inbox: asyncio.Queue[Input] = asyncio.Queue()
        self._urgent: deque[Input] = deque(maxlen=4)
        self.started_height = 0
        self.round = 0
        self.paused = False
        self._held: list[Input] = []
        self._timers: set[asyncio.TimerHandle] = set()
        self._tasks: set[asyncio.Task[None]] = set()
        self._wake = asyncio.Event()
        self._idle = asyncio.Event()
        self._idle.set()
        self._last_commit_s = clock.monotonic_s()
        self.peer_activity_height = 0
        self.last_synced: Commit | None = None
        self.on_commit: list[Callable[[int, list[bytes]], None]] = []
        self.on_reject: list[Callable[[bytes], None]] = []
        self.evidence: EvidenceLog | None = None
        self.on_evidence: Callable[[], None] | None = None
        self.relay_filter: RelayFilter | None = None
        self.proposer_silent: Callable[[int, int], bool] | None = None

    # ---- inputs ------------------------------------------------------------------------------

    def offer(self, item: Input, from_peer: bool = True) -> None:
        """Queue an input; peer inputs are dropped (and counted) when the inbox is full."""
        if from_peer and self.inbox.qsize() >= MAX_INBOX:
            self.metrics.peer_dropped.labels("inbox_full").inc()
            return
        self.inbox.put_nowait(item)

    def wake(self) -> None:
        """Something may justify starting the next height (an operation or a peer message arrived)."""
        self._wake.set()

    async def run(self) -> None:
        self._spawn(self._height_starter())
        while True:
            item = self._urgent.popleft() if self._urgent else await self.inbox.get()
            if self.paused and not isinstance(item, Start | SyncedCommit):
                if len(self._held) < MAX_INBOX:
                    self._held.append(item)
                continue
            self._idle.clear()
            try:
                await self._step(item)
            except StorageError:
                raise  # the store cannot take the decided block: stop the node (a restart recovers)
            except LedgrError as exc:
                log.warning("consensus_input_rejected", error=exc.detail, input=type(item).__name__)
            finally:
                self._idle.set()

    async def close(self) -> None:
        for timer in self._timers:
            timer.cancel()
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task

    # ---- stepping ----------------------------------------------------------------------------

    async def _step(self, item: Input) -> None:
        """Perform one step's effects in order. A ``Persist`` is started on the writer thread and
        awaited before the first message of the step is sent (and before the step ends), so the
        rule "durable before sent" holds, while block building and validation — which send nothing
        themselves — already run during the fsync."""
        effects: list[Effect] = self.core.step(item, self.clock.now_ms())
        persisting: asyncio.Future[None] | None = None
        try:
            for effect in effects:
                if isinstance(effect, Persist):
                    if persisting is not None:
                        await persisting
                    persisting = asyncio.ensure_future(self._persist(effect.state))
                    continue
                if persisting is not None and isinstance(effect, _AFTER_PERSIST):
                    await persisting
                    persisting = None
                await self._perform(effect)
        finally:
            if persisting is not None:
                await persisting

    async def _persist(self, state: bytes) -> None:
        started = self.clock.monotonic_s()
        await self.writer.run(self.chain.store.put_consensus_state, state)
        self.metrics.persist_seconds.observe(self.clock.monotonic_s() - started)

    async def _perform(self, effect: Effect) -> None:
        if isinstance(effect, Broadcast):
            frame = encode_message(effect.message)
            if self.relay_filter is not None:  # our own message relayed back is a duplicate
                self.relay_filter.first_sighting(frame, self.clock.monotonic_s())
            self.peers.broadcast(KIND_CONSENSUS, frame)
        elif isinstance(effect, SendTo):
            self.peers.send(PublicKey(effect.peer).multikey, KIND_CONSENSUS, encode_message(effect.message))
        elif isinstance(effect, ScheduleTimeout):
            self._schedule(effect)
        elif isinstance(effect, RequestValue):
            self.round = effect.round
            self.metrics.round.set(effect.round)
            self._spawn(self._build(effect))
        elif isinstance(effect, ValidateBlock):
            self._spawn(self._validate(effect))
        elif isinstance(effect, Decide):
            await self._commit(effect)
        elif isinstance(effect, ReportEvidence):
            if self.evidence is not None:
                if await self.evidence.report(effect.evidence, self.writer) and self.on_evidence:
                    self.on_evidence()
            else:
                await self.writer.run(self.chain.record_evidence, effect.evidence)

    def _schedule(self, effect: ScheduleTimeout) -> None:
        loop = asyncio.get_running_loop()
        timeout = TimeoutElapsed(effect.kind, effect.height, effect.round)
        duration_ms = effect.duration_ms
        if (effect.kind is TimeoutKind.PROPOSE and self.proposer_silent is not None
                and self.proposer_silent(effect.height, effect.round)):
            # the proposer is down or cut off: waiting the whole propose timeout for its proposal
            # only adds latency; prevoting nil earlier is always safe (it only ends the round sooner)
            duration_ms = min(duration_ms, self.config.consensus.timeout_silent_proposer_ms)
            self.metrics.silent_proposer_rounds.inc()
        handle: asyncio.TimerHandle | None = None

        def fire() -> None:
            if handle is not None:
                self._timers.discard(handle)
            self.offer(timeout, from_peer=False)

        handle = loop.call_later(duration_ms / 1000, fire)
        self._timers.add(handle)
        if effect.round > self.round and effect.height == self.started_height:
            self.round = effect.round
            self.metrics.round.set(effect.round)
            self.metrics.round_changes.inc()
            log.info("round_started", height=effect.height, round=effect.round)

    def _spawn(self, coro: Any) -> None:
        task: asyncio.Task[None] = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _build(self, request: RequestValue) -> None:
        wait_s = self.config.mempool.batch_wait_ms / 1000
        if wait_s and len(self.mempool) < self.config.mempool.block_max_ops:
            await asyncio.sleep(wait_s)
        started = self.clock.monotonic_s()
        try:
            built = await self.chain.build(request.height, request.time_ms, self.mempool)
        except Exception as exc:  # no proposal this round; the others time out and move on
            log.error("block_build_failed", height=request.height, round=request.round,
                      error=getattr(exc, "detail", None) or repr(exc))
            return
        self.metrics.build_seconds.observe(self.clock.monotonic_s() - started)
        for op_hash, reason in built.rejected:
            self.mempool.reject(op_hash, reason)
            for callback in self.on_reject:
                callback(op_hash)
        self.offer(ValueReady(request.height, request.round, built.block_hash, built.block_bytes),
                   from_peer=False)

    async def _validate(self, request: ValidateBlock) -> None:
        started = self.clock.monotonic_s()
        try:
            ok = await self.chain.validate(request.height, request.value_id, request.block, request.time_ms)
        except Exception as exc:  # cannot vouch for the block: vote nil (always safe)
            log.error("block_validation_failed", height=request.height,
                      error=getattr(exc, "detail", None) or repr(exc))
            ok = False
        self.metrics.validate_seconds.observe(self.clock.monotonic_s() - started)
        self.offer(BlockValidated(request.height, request.value_id, ok), from_peer=False)

    async def _commit(self, decide: Decide) -> None:
        started = self.clock.monotonic_s()
        committed = await self.chain.commit_decided(decide, self.writer)
        self.metrics.store_seconds.observe(self.clock.monotonic_s() - started)
        self.after_commit(committed.height, committed.op_hashes, started)
        self.started_height = 0
        if self._work_waiting():
            self.start_next_height(urgent=True)
        self._wake.set()

    def after_commit(self, height: int, op_hashes: list[bytes], started_s: float) -> None:
        """Bookkeeping shared by consensus decisions and synced blocks."""
        now = self.clock.monotonic_s()
        for op in self.mempool.remove(op_hashes):
            self.metrics.commit_latency.observe(max(0.0, now - op.arrived_s))
        self.metrics.ops_committed.inc(len(op_hashes))
        self.metrics.block_ops.observe(len(op_hashes))
        self.metrics.block_interval.observe(now - self._last_commit_s)
        self._last_commit_s = now
        self.metrics.height.set(height)
        self.metrics.mempool_size.set(len(self.mempool))
        self.metrics.mempool_bytes.set(self.mempool.size_bytes)
        for callback in self.on_commit:
            callback(height, op_hashes)
        log.debug("committed", height=height, ops=len(op_hashes), ms=round((now - started_s) * 1000, 2))

    async def pause(self) -> None:
        """Hold consensus inputs while block sync runs (timers and results are kept, not lost).

        Returns once the step in progress (e.g. storing a decided block) has finished, so block sync
        never races consensus for the same height."""
        self.paused = True
        await self._idle.wait()

    def resume_after_sync(self) -> None:
        """After block sync: if blocks were applied, tell the core which height was settled and start
        the next one (held inputs belong to settled heights); otherwise replay the held inputs, so the
        height in progress continues exactly where it was."""
        held, self._held = self._held, []
        self.paused = False
        if self.last_synced is not None:
            self.offer(SyncedCommit(self.last_synced), from_peer=False)
            self.last_synced = None
            self.started_height = 0
            self._wake.set()
            return
        for item in held:
            self.offer(item, from_peer=False)

    # ---- starting heights ---------------------------------------------------------------------

    def start_next_height(self, urgent: bool = False) -> None:
        """Start consensus on the height after the chain tip (no-op if it already runs).

        ``urgent`` (right after a commit, with work waiting): the start is stepped before the inputs
        already queued. Those were queued while the decided block was being stored and may include
        the next height's proposal and votes from faster peers; stepped before the start, a message
        two heights ahead of the core would be dropped (the core buffers one height ahead only), and a
        dropped proposal costs a whole propose timeout."""
        height = self.chain.height + 1
        if self.started_height == height or self.paused:
            return
        self.started_height = height
        self.round = 0
        self.metrics.round.set(0)
        start = Start(height, self.chain.core_validators(height), self.chain.tip_time_ms,
                      self.chain.core_validators(height + 1))
        if urgent:
            self._urgent.append(start)
        else:
            self.offer(start, from_peer=False)

    async def _height_starter(self) -> None:
        """Start the next height when there is work, a peer moved on, or the heartbeat is due."""
        heartbeat_s = self.config.consensus.heartbeat_ms / 1000
        while True:
            if self.started_height == 0 and not self.paused:
                since_block_s = max(0.0, (self.clock.now_ms() - self.chain.tip_time_ms) / 1000)
                first_block = self.chain.height == 0
                if first_block or since_block_s >= heartbeat_s or self._work_waiting():
                    self.start_next_height()
                    continue
                self._wake.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), timeout=heartbeat_s - since_block_s)
                continue
            self._wake.clear()
            await self._wake.wait()

    def _work_waiting(self) -> bool:
        """An operation waits in the mempool, or a peer already works on the next height."""
        return len(self.mempool) > 0 or self._peer_ahead()

    def _peer_ahead(self) -> bool:
        """A peer sent a consensus message for exactly the next height (only that height counts, so a
        message with a far-future height cannot keep an idle network making empty blocks)."""
        return self.peer_activity_height == self.chain.height + 1
