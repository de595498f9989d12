"""Background back-fill of the block history below a state-sync anchor (issue 7 "Growth": "Block
history before the snapshot can be back-filled in the background"; consensus.md §1.5).

After state sync to ``S`` a node holds the state at ``S`` and blocks from ``S`` on. With
``[sync] backfill = true`` it then fetches blocks ``1..S-1`` from its peers at low priority and
stores them, so ``GET /v1/blocks/{h}`` answers for every height.

**Order: oldest first**, because that is the order in which every block can be checked the moment
it arrives, completely: block 1 must link to the genesis hash, each next block to the one before
(``prev_hash``), its operations must match its ``tx_root``, its QC must carry a quorum of the
validator set *of its height* — followed from the genesis set through announced changes exactly as
for a state-sync anchor (``ledgr.node.setfollow.SetFollower``) — and block ``S-1`` must be the block
the anchor's header names (``prev_hash`` of ``S``). Newest first would check the hash links too, but
a block signed by a set that was replaced before ``S`` could not have its QC checked until the older
block proposing that set arrived. A block that fails any check is refused (nothing is stored, the
peer's answer is dropped, and the batch is asked again later, from another peer if one has it).

Blocks are not re-executed (their state effects are already in the snapshot) and their operations
are not indexed: receipts (``GET /v1/operations/{hash}``) of operations before ``S`` are not served.

**Low priority:** one request of ``[sync] batch_blocks`` at a time; after each batch a pause of
``backfill_pause_ms`` or as long as checking and storing the batch took, whichever is longer (so the
back-fill keeps the node busy at most half the time); nothing while the node is catching up at the
tip; and a yield to the event loop after every block checked, so consensus and the API are not held
up.

**Restartable:** each batch is stored in one durable transaction together with the verifier's state
(the ``backfill`` marker, ``ledgr.store.snapshot.store_history``); after a SIGKILL the node resumes
after the last stored batch. Progress: ``backfill_progress``/``backfill_done`` log lines,
``ledgr_backfill_next_height``/``ledgr_backfill_remaining_blocks`` and ``backfill`` in
``/v1/status``.
"""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING, Any

from ledgr.errors import LedgrError, PeerError
from ledgr.ledger.formats import Block, operation_hash
from ledgr.node.logs import get_logger
from ledgr.node.setfollow import SetFollower
from ledgr.store import snapshot

if TYPE_CHECKING:
    from ledgr.node.runtime import Node

log = get_logger("ledgr.backfill")

RETRY_S = 1.0


def _hash_of(block_bytes: bytes) -> bytes:
    try:
        return Block.decode(block_bytes).hash()
    except LedgrError as exc:
        raise PeerError(f"malformed block: {exc.detail}") from exc


class Backfill:
    def __init__(self, node: Node) -> None:
        self.node = node
        self.state = "none"  # none | off | running | done
        self.anchor: int | None = None
        self.next_height: int | None = None

    def status(self) -> dict[str, Any]:
        remaining = None
        if self.anchor is not None and self.next_height is not None:
            remaining = self.anchor - self.next_height
        return {"state": self.state, "anchor": self.anchor, "next_height": self.next_height,
                "remaining_blocks": remaining}

    def _follower(self, marker: dict[str, Any]) -> SetFollower:
        saved = marker.get("follower")
        if saved:
            return SetFollower.from_json(saved)
        genesis = self.node.chain.genesis
        return SetFollower(genesis.validator_set, 1, genesis.hash())

    def _progress(self, follower: SetFollower) -> None:
        assert self.anchor is not None
        self.next_height = follower.next_height
        self.node.metrics.backfill_next_height.set(follower.next_height)
        self.node.metrics.backfill_remaining.set(self.anchor - follower.next_height)

    async def run(self) -> None:
        """Back-fill until every block below the anchor is stored (returns at once if none is missing)."""
        store = self.node.chain.store
        marker = snapshot.read_backfill_marker(store)
        if marker is None:
            return
        self.anchor = int(marker["anchor"])
        anchor_prev = bytes.fromhex(marker["anchor_prev_hash"])
        follower = self._follower(marker)
        self._progress(follower)
        settings = self.node.config.sync
        if not settings.backfill:
            self.state = "off"
            log.info("backfill_off", missing_below=self.anchor, note="[sync] backfill = false")
            return
        self.state = "running"
        log.info("backfill_started" if follower.next_height == 1 else "backfill_resumed",
                 from_height=follower.next_height, anchor=self.anchor)
        pause_s = settings.backfill_pause_ms / 1000
        suspects: set[str] = set()  # peers that served a refused block (asked only if no other can)
        while follower.next_height < self.anchor:
            if self.node.sync.catching_up or self.node.statesync.active:
                await asyncio.sleep(RETRY_S)
                continue
            blocks = await self.node.sync.fetch(follower.next_height, frozenset(suspects))
            source = self.node.sync.last_source
            checking = time.monotonic()
            accepted: list[tuple[int, bytes, bytes, bytes, list[bytes]]] = []
            for synced in blocks:
                if follower.next_height >= self.anchor:
                    break
                try:
                    if synced.height == self.anchor - 1 and _hash_of(synced.block) != anchor_prev:
                        raise PeerError(f"block {synced.height} is not the block the anchor links to")
                    block = follower.accept(synced)
                except PeerError as exc:
                    self.node.metrics.backfill_refused.inc()
                    log.warning("backfill_block_refused", height=synced.height, error=exc.detail,
                                peer=(source or "")[:16])
                    if source is not None:
                        suspects.add(source)  # ask the others first from now on
                    break
                accepted.append((synced.height, block.hash(), synced.block, synced.qc,
                                 [operation_hash(envelope) for envelope in block.operations]))
                await asyncio.sleep(0)
            if not accepted:
                await asyncio.sleep(RETRY_S)
                continue
            done = follower.next_height >= self.anchor
            saved = None if done else {**marker, "follower": follower.to_json()}
            await self.node.writer.run(snapshot.store_history, store, accepted, saved)
            self._progress(follower)
            log.info("backfill_progress", stored_to=follower.next_height - 1, anchor=self.anchor)
            await asyncio.sleep(max(pause_s, time.monotonic() - checking))  # at most half the time busy
        self.state = "done"
        log.info("backfill_done", anchor=self.anchor)
