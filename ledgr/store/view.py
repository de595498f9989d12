"""Read-only snapshots of the store: one LMDB read transaction each.

A :class:`StoreView` sees exactly one committed height: its state, SMT nodes, tip header and QC all
belong together, which is what a certified read (``{value, smt_proof, header, qc}``, consensus.md
§2.2) needs. It satisfies ledger-core's ``StateReader`` protocol (``get`` / ``get_node``), so
execution, proof generation and DID resolution read committed state through it. LMDB's MVCC lets any
number of views run while the writer commits; they never block it and never see half a block.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import lmdb

from ledgr.errors import StorageError
from ledgr.store import keys
from ledgr.store.env import BLOCK_HASHES, BLOCKS, META, OPS, QCS, SMT, STATE

META_SCHEMA = b"schema_version"
META_GENESIS = b"genesis_hash"
META_GENESIS_DOC = b"genesis_document"  # the genesis JSON, as recorded at initialisation
META_CHAIN_ID = b"chain_id"
META_TIP = b"tip"
META_BACKUP = b"backup"  # present in a backup copy: where and when it was taken
META_RESTORED = b"restored"  # present after a restore until the node clears it
META_BACKFILL = b"backfill"  # after state sync: history below the anchor still missing (store/snapshot.py)
META_SMT_PRUNED = b"smt_pruned"  # present once SMT pages of old versions were pruned


@dataclass(frozen=True)
class Tip:
    """The last committed block: its height, hash and post-state ``app_root``.

    Height 0 is genesis: ``block_hash`` is then the genesis hash and no block or QC is stored.
    """

    height: int
    block_hash: bytes
    app_root: bytes

    def encode(self) -> bytes:
        return keys.height_key(self.height) + self.block_hash + self.app_root

    @classmethod
    def decode(cls, raw: bytes) -> Tip:
        if len(raw) != 8 + 32 + 32:
            raise StorageError(f"stored tip record has {len(raw)} bytes, expected 72")
        return cls(keys.height_from_key(raw[:8]), raw[8:40], raw[40:])


@dataclass(frozen=True)
class OpLocation:
    """Where an operation was committed: block height and index within the block."""

    height: int
    index: int


class StoreView:
    """A consistent read-only snapshot (one LMDB read transaction). Use via ``Store.snapshot()``."""

    def __init__(self, txn: lmdb.Transaction, dbs: dict[bytes, lmdb._Database]) -> None:
        self._txn = txn
        self._dbs = dbs

    # -- StateReader (ledger-core protocol) --------------------------------------------------------
    def get(self, key: bytes) -> bytes | None:
        """Current value of state ``key`` at this snapshot's height, or ``None``."""
        value = self._txn.get(keys.data_key(key), db=self._dbs[STATE])
        return None if value is None else bytes(value)

    def get_node(self, node_hash: bytes) -> bytes | None:
        """An SMT node by its hash (content-addressed; nodes of every committed version are kept)."""
        value = self._txn.get(keys.checked_key(node_hash), db=self._dbs[SMT])
        return None if value is None else bytes(value)

    # -- chain -----------------------------------------------------------------------------------
    def tip(self) -> Tip | None:
        """The last committed block, or ``None`` for a store that has no genesis yet."""
        raw = self._txn.get(META_TIP, db=self._dbs[META])
        return None if raw is None else Tip.decode(bytes(raw))

    def block_bytes(self, height: int) -> bytes | None:
        value = self._txn.get(keys.height_key(height), db=self._dbs[BLOCKS])
        return None if value is None else bytes(value)

    def qc_bytes(self, height: int) -> bytes | None:
        value = self._txn.get(keys.height_key(height), db=self._dbs[QCS])
        return None if value is None else bytes(value)

    def height_of_block(self, block_hash: bytes) -> int | None:
        value = self._txn.get(keys.checked_key(block_hash), db=self._dbs[BLOCK_HASHES])
        return None if value is None else keys.height_from_key(bytes(value))

    def op_location(self, op_hash: bytes) -> OpLocation | None:
        """Where operation ``op_hash`` was committed, or ``None`` if it never was."""
        value = self._txn.get(keys.checked_key(op_hash), db=self._dbs[OPS])
        if value is None:
            return None
        height, index = keys.parse_op_location(bytes(value))
        return OpLocation(height, index)

    def last_height_in(self, db_name: bytes) -> int | None:
        """Highest height key present in ``BLOCKS`` or ``QCS`` (``None`` if empty)."""
        with self._txn.cursor(db=self._dbs[db_name]) as cursor:
            if not cursor.last():
                return None
            return keys.height_from_key(bytes(cursor.key()))

    def count(self, db_name: bytes) -> int:
        return int(self._txn.stat(self._dbs[db_name])["entries"])

    def db_bytes(self, db_name: bytes) -> int:
        """Bytes of B-tree pages named database ``db_name`` occupies (what a compacted copy keeps)."""
        stat = self._txn.stat(self._dbs[db_name])
        pages = int(stat["branch_pages"]) + int(stat["leaf_pages"]) + int(stat["overflow_pages"])
        return pages * int(stat["psize"])

    def iter_blocks(self, start: int = 1) -> Iterator[tuple[int, bytes, bytes | None]]:
        """``(height, block bytes, qc bytes)`` in height order from ``start``."""
        with self._txn.cursor(db=self._dbs[BLOCKS]) as cursor:
            if not cursor.set_range(keys.height_key(start)):
                return
            for key, value in cursor:
                height = keys.height_from_key(bytes(key))
                yield height, bytes(value), self.qc_bytes(height)

    def iter_db(self, db_name: bytes, start: bytes = b"") -> Iterator[tuple[bytes, bytes]]:
        """Entries of named database ``db_name`` as ``(LMDB key, value)`` in key order, from the
        first key ≥ ``start``."""
        with self._txn.cursor(db=self._dbs[db_name]) as cursor:
            if start and not cursor.set_range(start):
                return
            for key, value in cursor:
                yield bytes(key), bytes(value)

    # -- metadata -----------------------------------------------------------------------------------
    def meta(self, name: bytes) -> bytes | None:
        value = self._txn.get(name, db=self._dbs[META])
        return None if value is None else bytes(value)

    def meta_json(self, name: bytes) -> dict[str, Any] | None:
        raw = self.meta(name)
        if raw is None:
            return None
        try:
            value = json.loads(raw)
        except ValueError as exc:
            raise StorageError(f"stored {name.decode()} record is not JSON") from exc
        if not isinstance(value, dict):
            raise StorageError(f"stored {name.decode()} record is not a JSON object")
        return value

    def schema_version(self) -> int | None:
        raw = self.meta(META_SCHEMA)
        return None if raw is None else int(raw.decode("ascii"))

    def genesis_hash(self) -> bytes | None:
        return self.meta(META_GENESIS)

    def chain_id(self) -> str | None:
        raw = self.meta(META_CHAIN_ID)
        return None if raw is None else raw.decode("utf-8")

    def record(self, db: bytes, key: bytes) -> bytes | None:
        value = self._txn.get(keys.data_key(key), db=self._dbs[db])
        return None if value is None else bytes(value)

    def record_values(self, db: bytes) -> Iterator[bytes]:
        with self._txn.cursor(db=self._dbs[db]) as cursor:
            for _key, value in cursor:
                yield bytes(value)
