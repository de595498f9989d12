"""The node's durable store: blocks, QCs, state, SMT nodes, indexes and opaque records in one LMDB env.

The rule this module exists for (issue 3, "Store"): a block, its QC, all its state writes, its SMT
nodes and its indexes commit in ONE durable write transaction. LMDB's copy-on-write B-tree makes the
commit atomic (the new meta page is written after the data pages and fsync'd), so after a crash the
store holds either the whole block or none of it, never a half-applied one. One transaction per block
also keeps fsync cost per block, not per entry (~0.4–1 ms each on this machine).

Writers are serialised (one node writer thread); readers take :meth:`Store.snapshot` views, which
never block the writer (transactions and map growth: ``txn.py``). See ``docs/store.md``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path

import lmdb

from ledgr.errors import IntegrityError, InvariantViolation, StorageError
from ledgr.ledger.formats import Block, QuorumCertificate
from ledgr.ledger.genesis import Genesis, genesis_writes
from ledgr.store import keys
from ledgr.store.batch import BlockCommit, ExecutionResult, batch_bytes, batch_from_block
from ledgr.store.dirlock import DirectoryLock
from ledgr.store.env import (
    BLOCK_HASHES,
    BLOCKS,
    CONSENSUS,
    DB_NAMES,
    META,
    OPS,
    QCS,
    RECORD_DBS,
    SMT,
    STATE,
    StoreSettings,
    open_environment,
)
from ledgr.store.txn import Environment
from ledgr.store.view import (
    META_CHAIN_ID,
    META_GENESIS,
    META_GENESIS_DOC,
    META_RESTORED,
    META_SCHEMA,
    META_TIP,
    StoreView,
    Tip,
)

SCHEMA_VERSION = 1
CONSENSUS_STATE_KEY = b"state"
HASH_BYTES = 32  # genesis hash and app_root


class Store(Environment):
    """One node's store. Open with :meth:`Store.open`; close with :meth:`close` (or ``with``)."""

    @classmethod
    def open(
        cls,
        path: str | Path,
        settings: StoreSettings | None = None,
        *,
        readonly: bool = False,
        check: bool = True,
    ) -> Store:
        """Open (creating if needed) the store in directory ``path``.

        With ``check`` (the default) the open-time integrity check runs (schema version, tip block ↔
        QC ↔ ``app_root``) and raises :class:`~ledgr.errors.IntegrityError` if the store is damaged.
        """
        from ledgr.store.integrity import check_open

        settings = settings or StoreSettings()
        lock = None if readonly else DirectoryLock.acquire(Path(path))
        try:
            env = open_environment(Path(path), settings, readonly=readonly)
        except BaseException:
            if lock is not None:
                lock.release()
            raise
        try:
            store = cls(Path(path), env, settings, readonly)
            store._lock = lock
            if not readonly:
                env.reader_check()  # free reader slots left by killed processes (e.g. a killed verify)
                store._ensure_schema()
            if check:
                with store.snapshot() as view:
                    check_open(view)
        except BaseException:
            env.close()
            if lock is not None:
                lock.release()
            raise
        return store

    def stats(self) -> dict[str, int]:
        """Gauges for the node's ``/metrics``: tip height, sizes, entries per database, readers."""
        info = self._env.info()

        def read(view: StoreView) -> dict[str, int]:
            tip = view.tip()
            out = {"tip_height": -1 if tip is None else tip.height,
                   "data_file_bytes": self.disk_bytes(), "map_size_bytes": int(info["map_size"]),
                   "readers_in_use": int(info["num_readers"])}
            for name in DB_NAMES:
                out[f"entries_{name.decode()}"] = view.count(name)
            return out

        return self.read(read)

    # -- reading -----------------------------------------------------------------------------------
    def tip(self) -> Tip | None:
        return self.read(lambda view: view.tip())

    def get(self, key: bytes) -> bytes | None:
        """Latest committed value of state ``key`` (its own short read transaction)."""
        return self.read(lambda view: view.get(key))

    def get_node(self, node_hash: bytes) -> bytes | None:
        return self.read(lambda view: view.get_node(node_hash))

    # -- writing -----------------------------------------------------------------------------------
    def initialize(
        self,
        *,
        genesis_hash: bytes,
        chain_id: str,
        state_writes: Mapping[bytes, bytes | None],
        smt_nodes: Mapping[bytes, bytes],
        app_root: bytes,
        extra_meta: Mapping[bytes, bytes] | None = None,
    ) -> Tip:
        """Record genesis (height 0): its hash, chain id and initial state, in one durable txn."""
        if len(genesis_hash) != HASH_BYTES or len(app_root) != HASH_BYTES:
            raise InvariantViolation("genesis hash and app_root must be 32 bytes")
        tip = Tip(0, genesis_hash, app_root)

        def write(txn: lmdb.Transaction) -> None:
            existing = txn.get(META_TIP, db=self._dbs[META])
            if existing is not None:
                if txn.get(META_GENESIS, db=self._dbs[META]) == genesis_hash:
                    return
                raise StorageError("this data directory already holds a ledger with a different genesis")
            self._apply_state(txn, state_writes, smt_nodes)
            meta = self._dbs[META]
            txn.put(META_GENESIS, genesis_hash, db=meta)
            txn.put(META_CHAIN_ID, chain_id.encode("utf-8"), db=meta)
            txn.put(META_TIP, tip.encode(), db=meta)
            for name, value in (extra_meta or {}).items():
                txn.put(name, value, db=meta)

        self._write(write, batch_bytes(state_writes, smt_nodes))
        current = self.tip()
        assert current is not None
        return current

    def initialize_genesis(self, genesis: Genesis) -> Tip:
        """Initialise an empty store from a genesis document (idempotent for the same genesis).

        The document itself is kept too (``genesis_document``), for tools that run on a data
        directory alone; a careful verifier still brings its own copy.
        """
        writes, nodes, root = genesis_writes(genesis)
        document = json.dumps(genesis.to_json(), sort_keys=True).encode("utf-8")
        return self.initialize(genesis_hash=genesis.hash(), chain_id=genesis.chain_id, state_writes=writes,
                               smt_nodes=nodes, app_root=root, extra_meta={META_GENESIS_DOC: document})

    def genesis_document(self) -> Genesis | None:
        """The genesis document recorded at initialisation (checked against the genesis hash)."""
        def read(view: StoreView) -> Genesis | None:
            raw = view.meta_json(META_GENESIS_DOC)
            if raw is None:
                return None
            genesis = Genesis.from_json(raw)
            if genesis.hash() != view.genesis_hash():
                raise IntegrityError("the stored genesis document does not match the stored genesis hash")
            return genesis

        return self.read(read)

    def commit(self, batch: BlockCommit) -> Tip:
        """Commit one block and everything it changes in ONE durable write transaction.

        Checks height continuity and ``prev_hash`` against the stored tip inside the transaction,
        so two racing writers cannot both extend the same tip.
        """
        tip = Tip(batch.height, batch.block_hash, batch.app_root)

        def write(txn: lmdb.Transaction) -> None:
            raw_tip = txn.get(META_TIP, db=self._dbs[META])
            if raw_tip is None:
                raise StorageError("the store has no genesis yet; initialize it before committing blocks")
            current = Tip.decode(bytes(raw_tip))
            if batch.height != current.height + 1:
                raise StorageError(
                    f"block height {batch.height} does not follow the stored tip {current.height}"
                )
            if batch.prev_hash != current.block_hash:
                raise StorageError(
                    f"block {batch.height} prev_hash {batch.prev_hash.hex()[:16]}… does not match "
                    f"the stored block {current.height} hash {current.block_hash.hex()[:16]}…"
                )
            height_key = keys.height_key(batch.height)
            txn.put(height_key, batch.block_bytes, db=self._dbs[BLOCKS])
            txn.put(height_key, batch.qc_bytes, db=self._dbs[QCS])
            if not txn.put(keys.checked_key(batch.block_hash), height_key, db=self._dbs[BLOCK_HASHES],
                           overwrite=False):
                raise StorageError(f"block hash {batch.block_hash.hex()} is already stored")
            ops = self._dbs[OPS]
            for op_hash, index in batch.op_index:
                txn.put(keys.checked_key(op_hash), keys.op_location(batch.height, index), db=ops)
            self._apply_state(txn, batch.state_writes, batch.smt_nodes)
            txn.put(META_TIP, tip.encode(), db=self._dbs[META])

        size = (batch_bytes(batch.state_writes, batch.smt_nodes) + len(batch.block_bytes)
                + len(batch.qc_bytes) + 48 * len(batch.op_index))
        self._write(write, size)
        return tip

    def commit_block(self, block: Block, qc: QuorumCertificate, result: ExecutionResult) -> Tip:
        """Commit ``block`` with its commit ``qc`` and its execution ``result`` in one durable txn.

        The caller has verified the QC and executed the block (``execute_block`` over a snapshot of
        this store); the store re-checks that the three belong together, and (in :meth:`commit`) that
        the block extends the stored tip. Its operations are indexed (a valid block holds accepted
        operations only).
        """
        return self.commit(batch_from_block(block, qc, result))

    def put_consensus_state(self, record: bytes) -> None:
        """Durably persist the consensus core's opaque state (h, r, step, locks, last_signed).

        Returns only after fsync: the caller may then send the messages it signed (consensus.md §1.3).
        """
        self._write(lambda txn: txn.put(keys.data_key(CONSENSUS_STATE_KEY), record, db=self._dbs[CONSENSUS]),
                    len(record))

    def get_consensus_state(self) -> bytes | None:
        return self.read(lambda view: view.record(CONSENSUS, CONSENSUS_STATE_KEY))

    def put_record(self, db: str, key: bytes, value: bytes) -> None:
        """Durably store an opaque record (``db`` in ``keystore``/``tokens``/``consensus``; in
        ``consensus`` the key ``state`` is reserved for :meth:`put_consensus_state`)."""
        handle = self._record_db(db)
        if db == "consensus" and key == CONSENSUS_STATE_KEY:
            raise InvariantViolation("the consensus record key 'state' is reserved for put_consensus_state")
        self._write(lambda txn: txn.put(keys.data_key(key), value, db=handle), len(key) + len(value))

    def delete_record(self, db: str, key: bytes) -> bool:
        handle = self._record_db(db)
        deleted: list[bool] = []
        self._write(lambda txn: deleted.append(bool(txn.delete(keys.data_key(key), db=handle))))
        return deleted[-1]

    def get_record(self, db: str, key: bytes) -> bytes | None:
        handle_name = db.encode("ascii")
        self._record_db(db)
        return self.read(lambda view: view.record(handle_name, key))

    def record_values(self, db: str) -> list[bytes]:
        """Every record value in ``db`` (records carry their own ids; long keys are stored hashed)."""
        self._record_db(db)
        name = db.encode("ascii")
        return self.read(lambda view: list(view.record_values(name)))

    def restore_marker(self) -> dict[str, object] | None:
        """After ``ledgr restore``: the backup's height, time and consensus record presence.

        The node must not sign anything until it has caught up past ``height`` with its peers
        (the state, including the consensus ``last_signed`` record, may be stale).
        """
        return self.read(lambda view: view.meta_json(META_RESTORED))

    def clear_restore_marker(self) -> None:
        self._write(lambda txn: txn.delete(META_RESTORED, db=self._dbs[META]))

    def put_meta_json(self, name: bytes, value: Mapping[str, object]) -> None:
        encoded = json.dumps(dict(value), sort_keys=True).encode("utf-8")
        self._write(lambda txn: txn.put(name, encoded, db=self._dbs[META]))

    def delete_smt_pages(self, page_hashes: list[bytes]) -> None:
        """Delete SMT pages in one durable transaction (``ledgr.store.prune`` decides which)."""
        smt = self._dbs[SMT]
        self._write(lambda txn: [txn.delete(keys.checked_key(page), db=smt) for page in page_hashes])

    def delete_meta(self, name: bytes) -> None:
        self._write(lambda txn: txn.delete(name, db=self._dbs[META]))

    # -- internals ---------------------------------------------------------------------------------
    def _apply_state(
        self,
        txn: lmdb.Transaction,
        state_writes: Mapping[bytes, bytes | None],
        smt_nodes: Mapping[bytes, bytes],
    ) -> None:
        # Sorted inserts walk the B-tree in order (better locality); putmulti loops in C.
        state = self._dbs[STATE]
        puts = []
        for key, value in state_writes.items():
            if value is None:
                txn.delete(keys.data_key(key), db=state)
            else:
                puts.append((keys.data_key(key), value))
        puts.sort()
        with txn.cursor(db=state) as cursor:
            cursor.putmulti(puts)
        nodes = sorted((keys.checked_key(node_hash), node) for node_hash, node in smt_nodes.items())
        with txn.cursor(db=self._dbs[SMT]) as cursor:
            cursor.putmulti(nodes)

    def _ensure_schema(self) -> None:
        def write(txn: lmdb.Transaction) -> None:
            if txn.get(META_SCHEMA, db=self._dbs[META]) is None:
                txn.put(META_SCHEMA, str(SCHEMA_VERSION).encode("ascii"), db=self._dbs[META])

        self._write(write)

    def _record_db(self, db: str) -> lmdb._Database:
        if db not in RECORD_DBS:
            raise InvariantViolation(f"unknown record database {db!r}; expected one of {sorted(RECORD_DBS)}")
        return self._dbs[db.encode("ascii")]
