"""State sync: a new node downloads a verified snapshot instead of replaying every block
(issue 7 "Growth"; consensus.md §1.5 "State sync", the ABCI snapshot model without its app hooks).

1. **Anchor.** The node takes the highest height ``S`` a validator peer reports, fetches block ``S``
   and its QC (an ordinary sync request) and checks the QC against the validator set it trusts for
   ``S``: its genesis set, or — when the set changed since — the set reached by following every
   change through verified QCs of blocks 1..S without executing them (``setfollow``).
2. **Pages.** Starting from the header's ``app_root`` it fetches SMT pages by hash, breadth first,
   in batches from several peers at once. A page is accepted only if the hash of its top node equals
   the hash its parent page (or the root) names, so every chunk is checked against the root before
   it is stored; pages already in the store (an interrupted run) are re-read locally, not fetched.
3. **Entries.** It fetches the key/value entries in LMDB key order from a cursor. An entry is kept
   only if ``H(key)`` is a leaf of the snapshot and ``H(value)`` is that leaf's value hash; entries
   a peer added or changed after ``S`` do not match and are skipped.
4. **Install.** One durable transaction checks that every leaf has its value, drops everything else,
   stores block ``S`` with its QC and moves the tip to ``S`` (``ledgr.store.snapshot.install``). Block
   sync then continues from ``S + 1`` as usual (each block's QC, re-execution, ``app_root``).

Every chunk is staged durably with a marker holding the anchor and the entry cursor, so killing the
node at any point and restarting resumes the same snapshot. If peers no longer have the values of
``S`` (they changed since), install fails and the download moves to a newer anchor, reusing every
page and entry that still matches; if peers do not answer, it retries. Once entries are staged the
node never falls back to block sync on that store (it would execute on a half-written state); a
node that cannot finish (e.g. no peer keeps the anchor's pages) says so in its log, and wiping its
data directory starts over. Blocks before ``S`` are back-filled afterwards, in the background
(``ledgr.node.backfill``).

Frames (kind ``KIND_SNAPSHOT``): ``u8 type ‖ u32 request id ‖ body``; type 1 pages request
``u16 n ‖ hash*n``; 2 pages response ``u16 n ‖ (hash ‖ u32 len ‖ page)*``; 3 entries request
``u16 max ‖ u16 len ‖ after``; 4 entries response ``u8 done ‖ u32 n ‖ (u16 len ‖ key ‖ u32 len ‖ value)*``.
"""

from __future__ import annotations

import asyncio
import functools
import itertools
import struct
import time
from typing import TYPE_CHECKING, Any

from ledgr.crypto import sha256
from ledgr.errors import InvariantViolation, LedgrError, PeerError, StorageError
from ledgr.ledger.formats import Block, verify_qc
from ledgr.ledger.formats import QuorumCertificate as LedgerQC
from ledgr.ledger.smt_pages import Internal, Leaf, Node, Ref, _parse_page
from ledgr.node.logs import get_logger
from ledgr.node.peers import KIND_SNAPSHOT
from ledgr.node.setfollow import validator_set_at
from ledgr.store import snapshot

if TYPE_CHECKING:
    from ledgr.node.runtime import Node as LedgrNode

log = get_logger("ledgr.statesync")

PAGES_PER_REQUEST = 512
ENTRIES_PER_REQUEST = 4096
ENTRY_BYTES_PER_REQUEST = 4 << 20
PARALLEL_REQUESTS = 4
MAX_ATTEMPTS = 30
RETRY_S = 1.0
MAX_SERVED_PER_PEER = 4  # concurrent snapshot requests served per peer; more are dropped (it retries)
_HEAD = struct.Struct(">BI")
T_PAGES, T_PAGES_ANSWER, T_ENTRIES, T_ENTRIES_ANSWER = 1, 2, 3, 4


def check_page(expected: bytes, data: bytes) -> tuple[list[Leaf], list[bytes]]:
    """The leaves and child-page hashes of ``data`` if its top node hashes to ``expected``."""
    try:
        top = _parse_page(data, expected)
    except InvariantViolation as exc:
        raise PeerError(f"malformed SMT page: {exc}") from exc
    if top.hash != expected:
        raise PeerError("an SMT page does not hash to the hash its parent names")
    leaves: list[Leaf] = []
    refs: list[bytes] = []
    todo: list[Node] = [top]
    while todo:
        node = todo.pop()
        if isinstance(node, Leaf):
            leaves.append(node)
        elif isinstance(node, Internal):
            todo.append(node.left)
            todo.append(node.right)
        elif isinstance(node, Ref):
            refs.append(node.hash)
    return leaves, refs


def _local_pages(hashes: list[bytes], view: Any) -> list[tuple[bytes, bytes]]:
    return snapshot.pages(view, hashes)


class _Reader:
    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0

    def take(self, n: int) -> bytes:
        if self.pos + n > len(self.data):
            raise PeerError("truncated snapshot frame")
        out = self.data[self.pos:self.pos + n]
        self.pos += n
        return out

    def u(self, fmt: str) -> int:
        s = struct.Struct(fmt)
        return int(s.unpack(self.take(s.size))[0])


class StateSync:
    def __init__(self, node: LedgrNode) -> None:
        self.node = node
        self._ids = itertools.count(1)
        self._pending: dict[int, asyncio.Future[bytes]] = {}
        self._serving: dict[str, int] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self.active = False

    # ---- serving -------------------------------------------------------------------------------

    def on_frame(self, peer: str, payload: bytes) -> None:
        if len(payload) < _HEAD.size:
            raise PeerError("truncated snapshot frame")
        kind, request_id = _HEAD.unpack_from(payload)
        body = payload[_HEAD.size:]
        if kind in (T_PAGES_ANSWER, T_ENTRIES_ANSWER):
            future = self._pending.get(request_id)
            if future is not None and not future.done():
                future.set_result(body)
            return
        if kind in (T_PAGES, T_ENTRIES):
            if self._serving.get(peer, 0) >= MAX_SERVED_PER_PEER:
                self.node.metrics.peer_dropped.labels("snapshot_busy").inc()
                return
            self._serving[peer] = self._serving.get(peer, 0) + 1
            task = asyncio.get_running_loop().create_task(self._serve(peer, kind, request_id, body))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
            return
        raise PeerError(f"unknown snapshot frame type {kind}")

    async def _serve(self, peer: str, kind: int, request_id: int, body: bytes) -> None:
        try:
            answer = await asyncio.to_thread(self._answer, kind, body)
        except PeerError as exc:
            log.debug("snapshot_request_malformed", peer=peer[:16], error=exc.detail)
            return
        finally:
            self._serving[peer] -= 1
        self.node.peers.send(peer, KIND_SNAPSHOT, _HEAD.pack(kind + 1, request_id) + answer)

    def _answer(self, kind: int, body: bytes) -> bytes:
        reader = _Reader(body)
        store = self.node.chain.store
        if kind == T_PAGES:
            count = reader.u(">H")
            if count > PAGES_PER_REQUEST:
                raise PeerError("too many pages requested")
            hashes = [reader.take(32) for _ in range(count)]
            found = store.read(lambda view: snapshot.pages(view, hashes))
            return struct.pack(">H", len(found)) + b"".join(
                h + struct.pack(">I", len(p)) + p for h, p in found)
        limit = min(reader.u(">H"), ENTRIES_PER_REQUEST)
        after = reader.take(reader.u(">H"))
        entries, done = store.read(
            lambda view: snapshot.state_chunk(view, after, limit, ENTRY_BYTES_PER_REQUEST))
        parts = [struct.pack(">BI", int(done), len(entries))]
        parts += [struct.pack(">H", len(k)) + k + struct.pack(">I", len(v)) + v for k, v in entries]
        return b"".join(parts)

    # ---- requesting ----------------------------------------------------------------------------

    def _sources(self, height: int) -> list[str]:
        views = self.node.sync.views
        connected = self.node.peers.connected()
        return sorted(k for k, v in views.items() if k in connected and v.height >= height)

    async def _ask(self, kind: int, body: bytes, height: int, turn: int) -> bytes:
        timeout_s = self.node.config.sync.request_timeout_ms / 1000
        for attempt in range(MAX_ATTEMPTS):
            sources = self._sources(height)
            if not sources:
                await asyncio.sleep(0.5)
                continue
            peer = sources[(turn + attempt) % len(sources)]
            request_id = next(self._ids)
            future: asyncio.Future[bytes] = asyncio.get_running_loop().create_future()
            self._pending[request_id] = future
            try:
                if self.node.peers.send(peer, KIND_SNAPSHOT, _HEAD.pack(kind, request_id) + body):
                    return await asyncio.wait_for(future, timeout_s)
            except TimeoutError:
                log.info("snapshot_request_timeout", peer=peer[:16])
            finally:
                self._pending.pop(request_id, None)
            await asyncio.sleep(0.2)
        raise PeerError("no peer answered the state sync requests")

    # ---- the download --------------------------------------------------------------------------

    async def run(self) -> bool:
        """Download and install a snapshot if this node should; True when one was installed."""
        chain = self.node.chain
        marker = snapshot.read_marker(chain.store)
        if marker is None:
            settings = self.node.config.sync
            target = self.node.sync.best_height()
            if not settings.state_sync or chain.height != 0 or target < settings.state_sync_min_heights:
                return False
            marker = await self._anchor(target)
            if marker is None:
                return False
            snapshot.stage(chain.store, marker, {}, [])
        else:
            log.info("state_sync_resumed", height=marker["height"], entries_from=marker["cursor"][:32])
        self.active = True
        try:
            while True:  # staged entries are not a usable state: never fall back to block sync now
                try:
                    return await self._download(marker)
                except PeerError as exc:
                    log.warning("state_sync_retry", error=exc.detail)
                    await asyncio.sleep(RETRY_S)
                    marker = snapshot.read_marker(chain.store) or marker  # the cursor moved on
                except StorageError as exc:
                    log.warning("state_sync_new_anchor", error=exc.detail,
                                note="peers changed entries since the anchor; pages and entries are reused")
                    fresh = await self._anchor(self.node.sync.best_height())
                    if fresh is None:
                        await asyncio.sleep(RETRY_S)
                        continue
                    marker = fresh
                    snapshot.stage(chain.store, marker, {}, [])
        finally:
            self.active = False

    async def _anchor(self, height: int) -> dict[str, Any] | None:
        chain = self.node.chain
        blocks = await self.node.sync.fetch(height)
        if not blocks or blocks[0].height != height:
            return None
        block = Block.decode(blocks[0].block)
        qc = LedgerQC.decode(blocks[0].qc)
        trusted = chain.validator_set(height)
        try:
            if block.header.validators_hash != trusted.hash():
                trusted = await validator_set_at(self.node, height, trusted)
            verify_qc(qc, block.header, trusted)
        except (LedgrError, PeerError) as exc:
            log.warning("state_sync_refused", height=height, error=exc.detail, note="block sync instead")
            return None
        log.info("state_sync_anchor", height=height, app_root=block.header.app_root.hex())
        return {"height": height, "block": blocks[0].block.hex(), "qc": blocks[0].qc.hex(), "cursor": ""}

    async def _download(self, marker: dict[str, Any]) -> bool:
        chain = self.node.chain
        started = time.monotonic()
        height = int(marker["height"])
        block_bytes = bytes.fromhex(marker["block"])
        header = Block.decode(block_bytes).header
        leaves = await self._pages(marker, header.app_root, height)
        log.info("state_sync_pages_done", leaves=len(leaves), seconds=round(time.monotonic() - started, 2))
        await self._entries(marker, leaves, height)
        count = await asyncio.to_thread(snapshot.install, chain.store, leaves, block_bytes,
                                        bytes.fromhex(marker["qc"]), height, header.hash(), header.app_root,
                                        header.time_ms, header.prev_hash)
        chain.reload_tip()
        log.info("state_sync_done", height=height, entries=count,
                 seconds=round(time.monotonic() - started, 2))
        return True

    async def _pages(self, marker: dict[str, Any], root: bytes, height: int) -> dict[bytes, bytes]:
        store = self.node.chain.store
        leaves: dict[bytes, bytes] = {}
        frontier = [root]
        fetched = 0
        while frontier:
            local = store.read(functools.partial(_local_pages, frontier))
            have = dict(local)
            missing = [h for h in frontier if h not in have]
            batches = [missing[i:i + PAGES_PER_REQUEST] for i in range(0, len(missing), PAGES_PER_REQUEST)]
            new_pages: dict[bytes, bytes] = {}
            for start in range(0, len(batches), PARALLEL_REQUESTS):
                group = batches[start:start + PARALLEL_REQUESTS]
                answers = await asyncio.gather(*(self._fetch_pages(batch, height, i)
                                                 for i, batch in enumerate(group)))
                for answer in answers:
                    new_pages.update(answer)
            fetched += len(new_pages)
            next_frontier: list[bytes] = []
            for page_hash in frontier:
                data = have.get(page_hash) or new_pages.get(page_hash)
                if data is None:
                    raise PeerError(f"no peer has SMT page {page_hash.hex()[:16]}… (pruned?)")
                page_leaves, refs = check_page(page_hash, data)
                for leaf in page_leaves:
                    leaves[leaf.key] = leaf.value
                next_frontier.extend(refs)
            if new_pages:
                await asyncio.to_thread(snapshot.stage, store, marker, new_pages, [])
            frontier = next_frontier
            log.info("state_sync_progress", phase="pages", fetched=fetched, leaves=len(leaves))
        return leaves

    async def _fetch_pages(self, hashes: list[bytes], height: int, turn: int) -> dict[bytes, bytes]:
        body = await self._ask(T_PAGES, struct.pack(">H", len(hashes)) + b"".join(hashes), height, turn)
        reader = _Reader(body)
        wanted = set(hashes)
        out: dict[bytes, bytes] = {}
        for _ in range(reader.u(">H")):
            page_hash = reader.take(32)
            data = reader.take(reader.u(">I"))
            if page_hash in wanted:
                check_page(page_hash, data)
                out[page_hash] = data
        return out

    async def _entries(self, marker: dict[str, Any], leaves: dict[bytes, bytes], height: int) -> None:
        store = self.node.chain.store
        cursor = bytes.fromhex(marker.get("cursor", ""))
        kept_total = 0
        while True:
            chunk = min(self.node.config.sync.state_sync_chunk_entries, ENTRIES_PER_REQUEST)
            body = await self._ask(T_ENTRIES, struct.pack(">HH", chunk, len(cursor)) + cursor, height, 0)
            reader = _Reader(body)
            done = reader.u(">B") == 1
            kept: list[tuple[bytes, bytes]] = []
            for _ in range(reader.u(">I")):
                data_key = reader.take(reader.u(">H"))
                value = reader.take(reader.u(">I"))
                if data_key <= cursor or data_key[:1] not in (b"=", b"#") or snapshot.is_meta(data_key):
                    raise PeerError("entries out of order or malformed")
                cursor = data_key
                if leaves.get(snapshot.key_hash_of(data_key)) == sha256(value):
                    kept.append((data_key, value))
            kept_total += len(kept)
            marker = {**marker, "cursor": cursor.hex()}
            await asyncio.to_thread(snapshot.stage, store, marker, {}, kept)
            log.info("state_sync_progress", phase="entries", kept=kept_total, of=len(leaves))
            if done:
                return
