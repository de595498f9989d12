"""The node runtime: one asyncio process that joins the ledger, the consensus core and the peers.

:class:`Node` owns every component of a running validator — the chain (store + ledger execution),
the mempool, the peer network, the consensus driver, block sync and the double-sign guard — and
offers the HTTP layer (``ledgr.api``) a small surface: submit an operation, wait for it, read blocks,
state with proofs, status and readiness.

Start-up order (architecture.md §4, consensus.md §1.5):

1. open the store (genesis on first start), the peer network and the worker pools;
2. collect peer STATUS frames for a moment: the double-sign guard refuses to start when a peer holds
   a vote this key signed that is newer than the local ``last_signed`` record (an old backup or a
   second copy of the key); a node without any record (new or wiped) instead stays out of consensus
   until it has synced past every height at which peers saw it vote;
3. catch up by block sync while peers are ahead, then start consensus at the next height.

Membership follows the chain (consensus.md §3): the consensus core gets each height's set from the
validator record, the peer network adopts the set of the next height after every commit, and a node
whose key is not (yet, or no longer) in the set runs its core as an observer of those heights — so a
validator added by ``validators.update`` starts voting at H+2 without a restart. A node configured
with ``[node] role = "observer"`` never runs consensus at all: it follows by block sync (see
:mod:`ledgr.node.observer`).
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from ledgr import __version__
from ledgr.consensus.codec import decode_message
from ledgr.consensus.events import received
from ledgr.consensus.messages import Commit, Vote
from ledgr.errors import InvalidInput, LedgrError, NotFound, PeerError, StorageError
from ledgr.node import wire
from ledgr.node.backfill import Backfill
from ledgr.node.chain import Chain, Committed
from ledgr.node.clock import Clock
from ledgr.node.config import NodeConfig
from ledgr.node.consensus_setup import make_core
from ledgr.node.driver import ConsensusDriver
from ledgr.node.evidence_desk import EvidenceDesk
from ledgr.node.evidence_log import EvidenceLog
from ledgr.node.gcpolicy import FREEZE_INTERVAL_S, GcPacer
from ledgr.node.guard import DoubleSignGuard, vote_watermark
from ledgr.node.keyfile import read_secret_key
from ledgr.node.logs import get_logger
from ledgr.node.mempool import Mempool
from ledgr.node.metrics import NodeMetrics
from ledgr.node.observer import follow_chain, observer_readiness
from ledgr.node.operations import OperationDesk
from ledgr.node.peers import (
    KIND_CONSENSUS,
    KIND_OPERATION,
    KIND_SNAPSHOT,
    KIND_STATUS,
    KIND_SYNC_REQUEST,
    KIND_SYNC_RESPONSE,
    PeerNetwork,
    raw_key,
)
from ledgr.node.relay import RelayFilter
from ledgr.node.statesync import StateSync
from ledgr.node.sync import CHECK_INTERVAL_S, BlockSync
from ledgr.node.writer import DurableWriter

log = get_logger("ledgr.node")

STATUS_INTERVAL_S = 1.0
SILENT_AFTER_S = 3 * STATUS_INTERVAL_S
PROPOSER_LAG_HEIGHTS = 2  # a proposer this far behind (e.g. syncing after a partition) cannot propose soon
GUARD_WAIT_S = 2.0


class Node:
    def __init__(self, config: NodeConfig) -> None:
        self.config = config
        self.metrics = NodeMetrics()
        self.clock = Clock()
        self.key = read_secret_key(config.validator_key_file)
        self.me = self.key.public_key.multikey
        self.chain = Chain.open(config, self.key.public_key.raw)
        self.writer = DurableWriter(config.store.fault_delay_ms)
        if self.writer.delay_ms:
            log.warning("fault_injection_active", disk_delay_ms=self.writer.delay_ms)
        self.mempool = Mempool(config.mempool.max_ops, config.mempool.max_bytes)
        validators = self.chain.validator_keys(self.chain.height + 1)
        self.observer = config.node.role == "observer"
        if self.me not in validators and not self.observer:
            log.info("not_a_validator_yet", key=self.me[:16],
                     note="following the chain; votes once a validators.update adds this key")
        self.peers = PeerNetwork(self.chain.chain_id, self.key, validators, config.p2p.peers, config.p2p,
                                 self._on_peer_frame, self.metrics)
        self.peers.on_connect = self._send_status
        self.core = make_core(self.chain, self.key, config)
        self.driver = ConsensusDriver(self.core, self.chain, self.peers, self.writer, self.mempool, config,
                                      self.metrics, self.clock)
        self.evidence = EvidenceLog(self.chain.store, self.metrics.evidence)
        self.driver.evidence = self.evidence
        self.driver.on_commit.append(self._after_commit)
        self.driver.on_reject.append(lambda op_hash: self.desk.notify([op_hash]))
        self.sync = BlockSync(self.peers, self.metrics, config.sync.batch_blocks,
                              config.sync.request_timeout_ms, config.sync.join_distance,
                              lambda: self.chain.height)
        self.guard = DoubleSignGuard(self.chain.chain_id, self.key.public_key,
                                     self.chain.store.get_consensus_state())
        self.desk = OperationDesk(self)
        self.evidence_desk = EvidenceDesk(self)
        self.driver.on_evidence = self.evidence_desk.kick
        self.relay_filter = RelayFilter()
        self.driver.relay_filter = self.relay_filter
        self.statesync = StateSync(self)
        self.driver.proposer_silent = self._proposer_silent
        self.backfill = Backfill(self)
        self.latest_votes: dict[str, bytes] = {}
        self._latest_vote_marks: dict[str, tuple[int, int, int]] = {}
        self._tasks: list[asyncio.Task[None]] = []
        self.started = False
        self.fatal: LedgrError | None = None

    # ---- lifecycle ---------------------------------------------------------------------------

    async def start(self) -> None:
        await self.chain.workers.warm_up()
        await self.peers.start()
        self._tasks.append(asyncio.create_task(self._status_loop()))
        self._tasks.append(asyncio.create_task(self._gc_loop()))
        self._tasks.append(asyncio.create_task(self.desk.forward_loop()))
        self._main = asyncio.create_task(self._run())
        self._tasks.append(self._main)

    def main_task(self) -> asyncio.Task[None]:
        """The task that ends only when the node stops for good (a fatal error)."""
        return self._main

    async def _run(self) -> None:
        try:
            await self._collect_statuses()
            await self.statesync.run()
            self._tasks.append(asyncio.create_task(self._backfill()))
            if self.observer:
                await follow_chain(self)
                return
            self.guard.check(self.chain.height)
            while self.chain.height < self.guard.must_sync_past or self.sync.should_sync(self._now()):
                await self.sync.catch_up(self._apply_synced)
                if self.chain.height < self.guard.must_sync_past:
                    await asyncio.sleep(CHECK_INTERVAL_S)
            self.started = True
            self.driver.resume_after_sync()
            driver_task = asyncio.create_task(self.driver.run())
            self._tasks.append(driver_task)
            log.info("consensus_started", height=self.chain.height + 1)
            watcher = asyncio.create_task(self._sync_watch())
            self._tasks.append(watcher)
            done, _pending = await asyncio.wait([driver_task, watcher], return_when=asyncio.FIRST_COMPLETED)
            for task in done:
                error = None if task.cancelled() else task.exception()
                if error is not None:
                    raise error
        except LedgrError as exc:
            log.error("node_stopped", error=exc.detail)
            self.fatal = exc
        except Exception as exc:  # a bug: stop with a non-zero exit instead of running half-dead
            log.exception("node_crashed")
            self.fatal = StorageError(f"the node stopped on an internal error: {exc!r}")

    async def _backfill(self) -> None:
        """History below a state-sync anchor; a storage error stops the back-fill, not the node."""
        try:
            await self.backfill.run()
        except LedgrError as exc:
            self.backfill.state = "failed"
            log.error("backfill_failed", error=exc.detail)

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        await self.driver.close()
        self.sync.close()
        await self.peers.close()
        self.writer.close()
        self.chain.close()

    def _now(self) -> float:
        return asyncio.get_running_loop().time()

    async def _collect_statuses(self) -> None:
        """Wait briefly for every configured peer's STATUS (the double-sign guard needs them)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + GUARD_WAIT_S
        expected = {p.public_key for p in self.config.p2p.peers if p.public_key != self.me}
        while loop.time() < deadline and not expected <= set(self.sync.views):
            await asyncio.sleep(0.05)

    async def _sync_watch(self) -> None:
        """While consensus runs: catch up whenever peers get ahead (e.g. after a partition)."""
        while True:
            await asyncio.sleep(CHECK_INTERVAL_S)
            if self.sync.should_sync(self._now()):
                await self.driver.pause()
                try:
                    await self.sync.catch_up(self._apply_synced)
                finally:
                    self.driver.resume_after_sync()

    def takes_operations(self) -> bool:
        """Whether entry checks can run: consensus is running, or the node holds a chain of its own
        and is not downloading a state-sync snapshot (a wiped or new node at height 0 is not)."""
        return self.started or (self.chain.height > 0 and not self.statesync.active)

    def _proposer_silent(self, height: int, round_: int) -> bool:
        """The proposer of ``(height, round_)`` is a peer we are not connected to, have not heard a
        STATUS frame from for ``SILENT_AFTER_S`` (a stalled link keeps its socket open), or whose
        committed height is so far below ``height − 1`` that it is still catching up."""
        validators = self.chain.core_validators(height)
        key = validators.key(validators.proposer(height, round_)).multikey
        if key == self.me:
            return False
        view = self.sync.views.get(key)
        return (key not in self.peers.connected() or view is None
                or self._now() - view.seen_s > SILENT_AFTER_S
                or view.height < height - 1 - PROPOSER_LAG_HEIGHTS)

    async def _apply_synced(self, blocks: list[wire.SyncedBlock]) -> int:
        started = self.clock.monotonic_s()

        def stored(committed: Committed, block: wire.SyncedBlock) -> None:
            self.driver.after_commit(committed.height, committed.op_hashes, started)
            self.driver.last_synced = Commit(block.block, committed.time_ms, committed.core_qc)

        return await self.chain.apply_synced_run(blocks, self.writer, stored,
                                                 self.metrics.sync_executed_ahead.inc)

    # ---- peers ---------------------------------------------------------------------------------

    def _on_peer_frame(self, peer: str, kind: int, payload: bytes) -> None:
        try:
            if kind == KIND_CONSENSUS:
                self._on_consensus(peer, payload)
            elif kind == KIND_OPERATION:
                self.desk.on_forwarded(payload)
            elif kind == KIND_STATUS:
                status = wire.decode_status(payload)
                if peer in self.peers.validators:  # a sync client's claimed height must not pause us
                    self.sync.on_status(peer, status)
                if status.vote is not None:
                    self.guard.observe(status.vote)
            elif kind == KIND_SYNC_REQUEST:
                self._serve_sync(peer, payload)
            elif kind == KIND_SYNC_RESPONSE:
                self.sync.on_response(peer, payload)
            elif kind == KIND_SNAPSHOT:
                self.statesync.on_frame(peer, payload)
            else:
                self.metrics.peer_dropped.labels("unknown_kind").inc()
        except (InvalidInput, PeerError) as exc:
            self.metrics.peer_dropped.labels("malformed").inc()
            log.debug("peer_frame_dropped", peer=peer[:16], error=exc.detail)

    def _on_consensus(self, peer: str, payload: bytes) -> None:
        if not self.relay_filter.first_sighting(payload, self.clock.monotonic_s()):
            self.metrics.peer_dropped.labels("duplicate").inc()
            return
        message = decode_message(payload, self.config.mempool.block_max_bytes)
        if message.height > self.chain.height:  # relay (ledgr.node.relay); stale heights are not
            for other in self.peers.connected() & self.peers.validators - {peer}:
                self.peers.send(other, KIND_CONSENSUS, payload)
        if isinstance(message, Vote):
            known = self.latest_votes.get(peer)
            if known is None or self._latest_vote_marks.get(peer, (0, 0, 0)) < vote_watermark(message):
                self.latest_votes[peer] = payload
                self._latest_vote_marks[peer] = vote_watermark(message)
        if message.height == self.chain.height + 1:
            self.driver.peer_activity_height = message.height
            self.driver.wake()
        if self.started:
            self.driver.offer(received(message, raw_key(peer)))

    def _serve_sync(self, peer: str, payload: bytes) -> None:
        from_height, count = wire.decode_sync_request(payload)
        blocks = self.chain.blocks_for_sync(from_height, count, self.config.p2p.max_message_bytes // 2)
        self.peers.send(peer, KIND_SYNC_RESPONSE, wire.encode_sync_response(blocks))

    def _send_status(self, peer: str | None = None) -> None:
        targets = [peer] if peer is not None else list(self.peers.connected())
        for target in targets:
            status = wire.Status(self.chain.height, self.latest_votes.get(target))
            self.peers.send(target, KIND_STATUS, wire.encode_status(status))

    async def _status_loop(self) -> None:
        while True:
            self._send_status()
            await asyncio.sleep(STATUS_INTERVAL_S)

    async def _gc_loop(self) -> None:
        """Paced collections instead of the collector's own full passes (see ledgr.node.gcpolicy)."""
        loop = asyncio.get_running_loop()
        pacer = GcPacer(loop.time())
        while True:
            await asyncio.sleep(FREEZE_INTERVAL_S)
            done = pacer.tick(loop.time())
            if done is None:
                continue
            self.metrics.gc_pause_seconds.labels(done.kind).observe(done.seconds)
            if done.kind == "full":
                log.info("gc_full", ms=round(done.seconds * 1000, 1), collected=done.collected,
                         frozen=done.frozen)

    def _after_commit(self, height: int, op_hashes: list[bytes]) -> None:
        self._send_status()
        self.desk.notify(op_hashes)
        self.peers.set_validators(self.chain.validator_keys(height + 1))
        self.evidence_desk.after_commit(height)

    # ---- the API surface -----------------------------------------------------------------------

    def readiness(self) -> tuple[bool, str]:
        if self.fatal is not None:
            return False, self.fatal.detail
        if not self.started or self.sync.catching_up:
            return False, "catching up"
        if self.observer:
            return observer_readiness(self)
        validators = self.chain.validator_keys(self.chain.height + 1)
        quorum = self.chain.quorum(self.chain.height + 1)
        connected = len(self.peers.connected() & validators) + 1
        if connected < quorum:
            return False, f"connected to {connected - 1} validators; a quorum needs {quorum - 1}"
        return True, "ready"

    def status(self) -> dict[str, Any]:
        connected = self.peers.connected()
        validators = []
        for entry in self.chain.validator_entries(self.chain.height + 1):
            key = entry["node_key"]
            validators.append({**entry, "self": key == self.me,
                               "connected": key == self.me or key in connected,
                               "height": self.chain.height if key == self.me
                               else (self.sync.views[key].height if key in self.sync.views else None),
                               "last_message_ms_ago": None if key == self.me
                               else self.peers.last_message_ms_ago(key)})
        tip = self.chain.tip_json()
        return {
            "chain_id": self.chain.chain_id,
            "node": self.config.name,
            "role": self.config.node.role,
            "voting": not self.observer and self.me in self.chain.validator_keys(self.chain.height + 1),
            "version": __version__,
            "height": self.chain.height,
            "app_root": tip.get("app_root"),
            "block_hash": tip.get("block_hash"),
            "latest_block_time": tip.get("time"),
            "catching_up": (not self.started) or self.sync.catching_up,
            "sync_target_height": max(self.sync.best_height(), self.chain.height),
            "consensus": self._consensus_status(),
            "mempool": {"operations": len(self.mempool), "bytes": self.mempool.size_bytes},
            "validators": validators,
            "genesis_hash": self.chain.genesis_hash_hex,
            "evidence": self.evidence.status(),
            "backfill": self.backfill.status(),
            **({"faults": {"disk_delay_ms": self.writer.delay_ms}} if self.writer.delay_ms else {}),
        }

    def _consensus_status(self) -> dict[str, Any]:
        height = self.driver.started_height
        if not height:
            return {"height": None, "round": None, "proposer": None}
        members = self.chain.validator_entries(height)
        proposer = members[(height + self.driver.round) % len(members)]["name"]
        return {"height": height, "round": self.driver.round, "proposer": proposer}

    def block(self, height: int | None) -> dict[str, Any]:
        target = self.chain.height if height is None else height
        found = self.chain.block_json(target)
        if found is None:
            raise NotFound(f"no block at height {target} (latest is {self.chain.height})")
        return found
