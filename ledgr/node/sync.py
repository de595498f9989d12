"""Catch-up by block sync (consensus.md §1.5; CometBFT BlockSync, Malachite ValueSync).

Peers tell each other their committed height in STATUS frames. When a peer is ``join_distance``
heights ahead (or one height ahead for longer than a second, i.e. the consensus commit relay did not
bring this node along), the node pauses consensus and fetches blocks with their QCs from a peer that
has them, ``batch_blocks`` at a time. Each block is checked before it is stored: its QC must carry a
quorum of valid precommits of the validator set of that height (which the node derives itself by
applying blocks in order), the block must extend the local tip, and re-executing it must reproduce
the header's ``app_root``. The next batch is requested while the current one is applied, and within
a batch block N+1 is executed (in the ledger worker) while block N is committed. Every block
commits in its own durable transaction, so interrupting sync
at any point (even SIGKILL) and restarting resumes from the last stored block. Progress is visible
in the log, in the ``ledgr_sync_*`` metrics and in ``/v1/status`` (``catching_up``).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from ledgr.errors import LedgrError, PeerError
from ledgr.node import wire
from ledgr.node.logs import get_logger
from ledgr.node.metrics import NodeMetrics
from ledgr.node.peers import KIND_SYNC_REQUEST, PeerNetwork

log = get_logger("ledgr.sync")

CHECK_INTERVAL_S = 0.2
BEHIND_GRACE_S = 1.0


@dataclass
class PeerView:
    height: int = 0
    seen_s: float = 0.0


class BlockSync:
    """Watches peer heights and, when behind, fetches and applies verified blocks."""

    def __init__(self, peers: PeerNetwork, metrics: NodeMetrics, batch_blocks: int, timeout_ms: int,
                 join_distance: int, local_height: Callable[[], int]) -> None:
        self.peers = peers
        self.metrics = metrics
        self.batch_blocks = batch_blocks
        self.timeout_s = timeout_ms / 1000
        self.join_distance = join_distance
        self.local_height = local_height
        self.views: dict[str, PeerView] = {}
        self.catching_up = False
        self._pending: dict[tuple[str, int], asyncio.Future[list[wire.SyncedBlock]]] = {}
        self._behind_since: float | None = None
        self.last_source: str | None = None

    # ---- peer input ----------------------------------------------------------------------------

    def on_status(self, peer: str, status: wire.Status) -> None:
        view = self.views.setdefault(peer, PeerView())
        view.height = status.height
        view.seen_s = asyncio.get_running_loop().time()
        self.metrics.sync_target.set(self.best_height())

    def on_response(self, peer: str, payload: bytes) -> None:
        """Hand an answer to the request it answers: catch-up and back-fill may both wait on one
        peer, so requests are told apart by their first height (an empty or malformed answer goes
        to that peer's oldest request)."""
        waiting = [key for key in self._pending if key[0] == peer]
        if not waiting:
            return
        try:
            blocks = wire.decode_sync_response(payload)
        except PeerError as exc:
            future = self._pending.get(waiting[0])
            if future is not None and not future.done():
                future.set_exception(exc)
            return
        key = (peer, blocks[0].height) if blocks else waiting[0]
        future = self._pending.get(key)
        if future is not None and not future.done():
            future.set_result(blocks)

    def best_height(self) -> int:
        connected = self.peers.connected()
        return max((v.height for k, v in self.views.items() if k in connected), default=0)

    # ---- deciding to sync ----------------------------------------------------------------------

    def should_sync(self, now_s: float) -> bool:
        gap = self.best_height() - self.local_height()
        if gap <= 0:
            self._behind_since = None
            return False
        if gap >= self.join_distance:
            return True
        if self._behind_since is None:
            self._behind_since = now_s
        return now_s - self._behind_since >= BEHIND_GRACE_S

    async def fetch(self, from_height: int, avoid: frozenset[str] = frozenset()) -> list[wire.SyncedBlock]:
        """Up to ``batch_blocks`` blocks from ``from_height``, from a connected peer that has them
        (peers in ``avoid`` only if no other has them); ``last_source`` names the peer that answered."""
        connected = self.peers.connected()
        candidates = sorted((k not in avoid, v.height, k) for k, v in self.views.items()
                            if k in connected and v.height >= from_height)
        for _preferred, _height, peer in reversed(candidates):
            loop = asyncio.get_running_loop()
            key = (peer, from_height)
            if key in self._pending:
                continue
            future: asyncio.Future[list[wire.SyncedBlock]] = loop.create_future()
            self._pending[key] = future
            try:
                if not self.peers.send(peer, KIND_SYNC_REQUEST,
                                       wire.encode_sync_request(from_height, self.batch_blocks)):
                    continue
                blocks = await asyncio.wait_for(future, self.timeout_s)
            except (TimeoutError, PeerError) as exc:
                log.info("sync_request_failed", peer=peer[:16], error=str(exc) or type(exc).__name__)
                continue
            finally:
                self._pending.pop(key, None)
            if blocks and blocks[0].height == from_height:
                self.last_source = peer
                return blocks
        return []

    async def catch_up(self, apply: Callable[[list[wire.SyncedBlock]], Awaitable[int]]) -> int:
        """Fetch and apply blocks until no peer is ahead; returns how many blocks were applied.

        ``apply`` verifies and stores a run of consecutive blocks in order (``Chain.apply_synced_run``:
        it executes block N+1 while block N is committed) and raises at the first bad one."""
        applied = 0
        self.catching_up = True
        self.metrics.catching_up.set(1)
        start_height = self.local_height()
        prefetch: asyncio.Task[list[wire.SyncedBlock]] | None = None
        try:
            while True:
                target = self.best_height()
                height = self.local_height()
                self._progress(start_height, height, target)
                if height >= target:
                    return applied
                blocks = await prefetch if prefetch is not None else await self.fetch(height + 1)
                prefetch = None
                if blocks and blocks[0].height != height + 1:
                    blocks = await self.fetch(height + 1)
                if blocks and blocks[-1].height < target:
                    # fetch the next batch while this one is verified and executed
                    prefetch = asyncio.create_task(self.fetch(blocks[-1].height + 1))
                if not blocks:
                    await asyncio.sleep(CHECK_INTERVAL_S)
                    if self.best_height() <= self.local_height():
                        return applied
                    continue
                first = self.local_height() + 1
                run = [b for b in blocks if b.height >= first]
                if run and run[0].height == first:
                    before = self.local_height()
                    try:
                        await apply(run)
                    except LedgrError as exc:
                        if self.local_height() > before:  # progress (or stored meanwhile): go on
                            applied += self.local_height() - before
                            continue
                        log.warning("sync_block_rejected", height=self.local_height() + 1, error=exc.detail)
                        await asyncio.sleep(CHECK_INTERVAL_S)
                    applied += self.local_height() - before
                log.info("sync_progress", height=self.local_height(), target=target)
        finally:
            if prefetch is not None:
                prefetch.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await prefetch
            self.catching_up = False
            self.metrics.catching_up.set(0)
            self._progress(start_height, self.local_height(), self.best_height())

    def _progress(self, start: int, height: int, target: int) -> None:
        span = max(1, target - start)
        ratio = 1.0 if height >= target else max(0.0, (height - start) / span)
        self.metrics.sync_progress.set(ratio)
        self.metrics.sync_target.set(target)

    def close(self) -> None:
        for future in self._pending.values():
            with contextlib.suppress(asyncio.InvalidStateError):
                future.cancel()
