"""State snapshots for state sync (issue 7 "Growth"; consensus.md §1.5 "State sync").

A snapshot is the state tree under one QC'd ``app_root``: its SMT *pages* (``docs/formats.md``
§4, content-addressed, served by hash) and the key/value entries the leaves commit to. This module
is the store's side of it:

* serving: pages by hash (any kept version), and the current state's entries in LMDB key order from
  a cursor (meta keys such as the ledger tip are not state leaves and are skipped);
* receiving: verified pages and entries are *staged* into the store chunk by chunk, each write
  together with the ``statesync`` marker (anchor height, header, QC, value cursor) in one durable
  transaction, so a killed download resumes where it stopped;
* installing: one transaction checks that the staged state holds exactly the snapshot's leaves
  (every ``H(key)``/``H(value)`` pair, nothing else), stores the anchor block and QC, sets both tips,
  clears the marker and writes the ``backfill`` marker: blocks before the anchor are not stored yet;
  and the ``smt_pruned`` marker of a store that holds the trees from the anchor on only;
* back-filling: history blocks below the anchor, verified by the node (``ledgr.node.backfill``),
  are stored batch by batch together with the updated ``backfill`` marker (the verifier's state) in
  one durable transaction; the marker is removed with the last one.

While the marker exists the store is not a usable chain; the node resumes state sync before anything
else.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

import lmdb

from ledgr.crypto import sha256
from ledgr.errors import StorageError
from ledgr.ledger.state import TIP_KEY
from ledgr.ledger.state import Tip as LedgerTip
from ledgr.store import keys
from ledgr.store.env import BLOCK_HASHES, BLOCKS, META, OPS, QCS, SMT, STATE
from ledgr.store.store import Store
from ledgr.store.view import META_BACKFILL, META_SMT_PRUNED, META_TIP, StoreView, Tip

MARKER = b"statesync"
BACKFILL_MARKER = META_BACKFILL
_META_PREFIX = keys.data_key(b"\x00")[:2]  # "=" + 0x00: ledger meta keys, not tree leaves
_HASHED = b"#"


def key_hash_of(data_key: bytes) -> bytes:
    """``H(key)`` (the SMT leaf key) of a state entry stored under LMDB key ``data_key``."""
    if data_key[:1] == _HASHED:
        return data_key[1:]
    return sha256(data_key[1:])


def is_meta(data_key: bytes) -> bool:
    return data_key[:2] == _META_PREFIX


def state_chunk(view: StoreView, after: bytes, max_entries: int,
                max_bytes: int) -> tuple[list[tuple[bytes, bytes]], bool]:
    """Up to ``max_entries``/``max_bytes`` state entries with LMDB keys > ``after``; and whether the
    state ends there."""
    out: list[tuple[bytes, bytes]] = []
    size = 0
    start = after + b"\x00" if after else b""
    for data_key, value in view.iter_db(STATE, start):
        if is_meta(data_key):
            continue
        if len(out) >= max_entries or (out and size + len(data_key) + len(value) > max_bytes):
            return out, False
        out.append((data_key, value))
        size += len(data_key) + len(value)
    return out, True


def pages(view: StoreView, hashes: list[bytes]) -> list[tuple[bytes, bytes]]:
    """The stored pages among ``hashes`` (a pruned or unknown page is left out)."""
    found = []
    for page_hash in hashes:
        page = view.get_node(page_hash)
        if page is not None:
            found.append((page_hash, bytes(page)))
    return found


def read_marker(store: Store) -> dict[str, Any] | None:
    return store.read(lambda view: view.meta_json(MARKER))


def stage(store: Store, marker: Mapping[str, Any], page_items: Mapping[bytes, bytes],
          entries: list[tuple[bytes, bytes]]) -> None:
    """Durably add verified pages and entries, with the marker that says how far the download got."""
    encoded = json.dumps(dict(marker), sort_keys=True).encode("utf-8")

    def write(txn: lmdb.Transaction) -> None:
        dbs = store._dbs
        if page_items:
            with txn.cursor(db=dbs[SMT]) as cursor:
                cursor.putmulti(sorted(page_items.items()))
        if entries:
            with txn.cursor(db=dbs[STATE]) as cursor:
                cursor.putmulti(sorted(entries))
        txn.put(MARKER, encoded, db=dbs[META])

    size = sum(len(v) + 64 for v in page_items.values()) + sum(len(k) + len(v) for k, v in entries)
    store._write(write, size + 4096)


def install(store: Store, leaves: Mapping[bytes, bytes], block_bytes: bytes, qc_bytes: bytes, height: int,
            block_hash: bytes, app_root: bytes, time_ms: int, prev_hash: bytes) -> int:
    """Make the staged snapshot the store's state at ``height`` (one durable transaction).

    Deletes staged or older entries that are not leaves of the snapshot, and refuses (nothing is
    changed) unless every leaf has its exact value. ``prev_hash`` (the anchor header's) is where the
    back-fill of the history below must end. Returns the number of state entries."""
    result: list[int] = []

    def write(txn: lmdb.Transaction) -> None:
        dbs = store._dbs
        matched = 0
        stale: list[bytes] = []
        with txn.cursor(db=dbs[STATE]) as cursor:
            for raw_key, raw_value in cursor:
                data_key = bytes(raw_key)
                if is_meta(data_key):
                    continue
                if leaves.get(key_hash_of(data_key)) == sha256(bytes(raw_value)):
                    matched += 1
                else:
                    stale.append(data_key)
        if matched != len(leaves):
            raise StorageError(f"the staged state holds {matched} of the snapshot's {len(leaves)} entries")
        for data_key in stale:
            txn.delete(data_key, db=dbs[STATE])
        height_key = keys.height_key(height)
        txn.put(height_key, block_bytes, db=dbs[BLOCKS])
        txn.put(height_key, qc_bytes, db=dbs[QCS])
        txn.put(keys.checked_key(block_hash), height_key, db=dbs[BLOCK_HASHES])
        ledger_tip = LedgerTip(height, block_hash, app_root, time_ms)
        txn.put(keys.data_key(TIP_KEY), ledger_tip.encode(), db=dbs[STATE])
        txn.put(META_TIP, Tip(height, block_hash, app_root).encode(), db=dbs[META])
        txn.delete(MARKER, db=dbs[META])
        if height > 1:
            backfill = {"anchor": height, "anchor_prev_hash": prev_hash.hex(), "follower": None}
            txn.put(BACKFILL_MARKER, json.dumps(backfill, sort_keys=True).encode("utf-8"), db=dbs[META])
            # like a pruned store, this one only ever holds the trees from the anchor on (the
            # back-fill adds blocks, not their trees): what ledgr ledger verify and prune go by
            pruned = {"kept_from_height": height, "at_height": height, "complete": True, "state_sync": True}
            txn.put(META_SMT_PRUNED, json.dumps(pruned, sort_keys=True).encode("utf-8"), db=dbs[META])
        result.append(matched)

    store._write(write, len(block_bytes) + len(qc_bytes) + 4096)
    return result[0]


def read_backfill_marker(store: Store) -> dict[str, Any] | None:
    return store.read(lambda view: view.meta_json(BACKFILL_MARKER))


def store_history(store: Store, blocks: Sequence[tuple[int, bytes, bytes, bytes, Sequence[bytes]]],
                  marker: Mapping[str, Any] | None) -> None:
    """Durably add verified history blocks ``(height, block_hash, block, qc, op_hashes)`` below the
    anchor, with the back-fill marker that says how far it got (``None``: back-fill finished, marker
    removed). The operations are indexed like those of a committed block (a valid block holds
    accepted operations only, ``ledgr.ledger.execute.execute_block``), so their receipts are served.

    Refuses a height that already holds a block (history is only ever added where it is missing)."""
    encoded = None if marker is None else json.dumps(dict(marker), sort_keys=True).encode("utf-8")

    def write(txn: lmdb.Transaction) -> None:
        dbs = store._dbs
        for height, block_hash, block_bytes, qc_bytes, op_hashes in blocks:
            height_key = keys.height_key(height)
            if not txn.put(height_key, block_bytes, db=dbs[BLOCKS], overwrite=False):
                raise StorageError(f"block {height} is already stored")
            txn.put(height_key, qc_bytes, db=dbs[QCS])
            txn.put(keys.checked_key(block_hash), height_key, db=dbs[BLOCK_HASHES])
            for index, op_hash in enumerate(op_hashes):
                txn.put(keys.checked_key(op_hash), keys.op_location(height, index), db=dbs[OPS])
        if encoded is None:
            txn.delete(BACKFILL_MARKER, db=dbs[META])
        else:
            txn.put(BACKFILL_MARKER, encoded, db=dbs[META])

    store._write(write, sum(len(b) + len(q) + 48 * len(o) + 128 for _h, _x, b, q, o in blocks) + 4096)


def missing_history(view: StoreView) -> int:
    """How many blocks below the state-sync anchor are not stored (yet): 0 for a store that holds its
    whole history."""
    marker = view.meta_json(META_BACKFILL)
    if marker is None:
        return 0
    follower = marker.get("follower") or {}
    return int(marker["anchor"]) - int(follower.get("next_height", 1))
