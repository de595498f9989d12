"""The node's one LMDB environment: its named databases, durable settings and map-size growth.

Why these settings (see ``docs/store.md``):

* ``sync=True, metasync=True, map_async=False, writemap=False``: every write transaction is fsync'd
  before ``commit()`` returns, so an acknowledged block survives power loss. A kill test cannot see a
  missing fsync, so ``tests/unit/store/test_env.py`` asserts these flags on the opened environment.
* ``max_dbs`` and ``map_size`` are explicit (py-lmdb defaults to no named databases and 10 MiB).
  ``map_size`` only reserves address space on 64-bit Linux; when a write still hits it, the store
  grows the map (doubling, up to ``max_map_size_bytes``) and retries, or fails with a clear
  :class:`~ledgr.errors.StorageError`.
* ``readahead=False``: state and SMT reads are random; OS readahead only pollutes the page cache once
  the database outgrows RAM.

LMDB lets one writer and many readers run concurrently (MVCC). Growing the map needs that no
transaction of this process is open, so :class:`ResizeGate` is a small readers/writer gate: snapshots
hold it shared, a resize holds it exclusively.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import lmdb

from ledgr.errors import ConfigError, StorageError

MIB = 1 << 20
GIB = 1 << 30

# Named databases (one B-tree each). Keys within each are described in docs/store.md.
META = b"meta"  # schema version, genesis hash, chain id, tip, backup/restore markers
BLOCKS = b"blocks"  # height (u64 BE) -> encoded block
QCS = b"qcs"  # height (u64 BE) -> encoded commit quorum certificate
BLOCK_HASHES = b"block_hashes"  # block hash -> height (u64 BE)
STATE = b"state"  # encoded state key -> value (current state only)
SMT = b"smt"  # node hash -> encoded SMT node (content-addressed, all versions kept)
OPS = b"ops"  # operation hash -> height (u64 BE) || index (u32 BE)
CONSENSUS = b"consensus"  # opaque consensus WAL records, owned by the consensus core
KEYSTORE = b"keystore"  # api: encrypted issuer keys (opaque records)
TOKENS = b"tokens"  # api: hashed API tokens (opaque records)

DB_NAMES: tuple[bytes, ...] = (META, BLOCKS, QCS, BLOCK_HASHES, STATE, SMT, OPS, CONSENSUS, KEYSTORE, TOKENS)
# Named databases that other layers may write opaque records into with Store.put_record.
RECORD_DBS: frozenset[str] = frozenset({"consensus", "keystore", "tokens"})

MAX_DBS = 16  # room for a few more named databases without a schema change


@dataclass(frozen=True)
class StoreSettings:
    """How the environment is opened. The defaults are the durable production settings."""

    map_size_bytes: int = 4 * GIB
    max_map_size_bytes: int = 1024 * GIB
    max_readers: int = 512
    durable: bool = True  # False only for scratch stores (e.g. `ledger verify` replay), never a node

    def __post_init__(self) -> None:
        if self.map_size_bytes < MIB:
            raise ConfigError(f"store map size must be at least 1 MiB, got {self.map_size_bytes} bytes")
        if self.max_map_size_bytes < self.map_size_bytes:
            raise ConfigError("store max map size must not be smaller than its initial map size")
        if not 1 <= self.max_readers <= 65536:
            raise ConfigError(f"store max readers must be 1..65536, got {self.max_readers}")


def open_environment(path: Path, settings: StoreSettings, *, readonly: bool = False) -> lmdb.Environment:
    """Open (or create) the environment in directory ``path`` with ``settings``."""
    if not readonly:
        try:
            path.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StorageError(f"cannot create data directory {path}: {exc.strerror}") from exc
    elif not (path / "data.mdb").is_file():
        raise StorageError(f"{path} holds no ledgr store (no data.mdb)")
    try:
        return lmdb.open(
            str(path),
            map_size=settings.map_size_bytes,
            max_dbs=MAX_DBS,
            max_readers=settings.max_readers,
            subdir=True,
            readonly=readonly,
            lock=True,
            sync=settings.durable,
            metasync=settings.durable,
            map_async=False,
            writemap=False,
            readahead=False,
            meminit=False,
        )
    except lmdb.Error as exc:
        raise StorageError(f"cannot open store at {path}: {exc}") from exc


def open_databases(env: lmdb.Environment, *, create: bool) -> dict[bytes, lmdb._Database]:
    """Open every named database (creating them in one transaction when ``create``)."""
    try:
        if create:
            with env.begin(write=True) as txn:
                return {name: env.open_db(name, txn=txn, create=True) for name in DB_NAMES}
        return {name: env.open_db(name, create=False) for name in DB_NAMES}
    except lmdb.NotFoundError as exc:
        raise StorageError("the store is missing named databases; it was not created by ledgr") from exc
    except lmdb.Error as exc:
        raise StorageError(f"cannot open the store's databases: {exc}") from exc


class ResizeGate:
    """Readers/writer gate: many concurrent snapshots, or one map resize with no transaction open.

    A resize raises its flag *before* it contends for the condition's lock: Python locks are not
    fair, and readers that snapshot in a tight loop would otherwise starve it for seconds. Once the
    flag is up, new snapshots wait, the open ones finish, and the resize runs.
    """

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._resize_lock = threading.Lock()  # one resizer at a time
        self._readers = 0
        self._resizing = False

    @contextmanager
    def shared(self) -> Iterator[None]:
        with self._cond:
            while self._resizing:
                self._cond.wait()
            self._readers += 1
        try:
            yield
        finally:
            with self._cond:
                self._readers -= 1
                if self._resizing and not self._readers:
                    self._cond.notify_all()

    @contextmanager
    def exclusive(self) -> Iterator[None]:
        with self._resize_lock:
            self._resizing = True  # atomic under the GIL; readers check it under the lock
            try:
                with self._cond:
                    while self._readers:
                        self._cond.wait()
                yield
            finally:
                with self._cond:
                    self._resizing = False
                    self._cond.notify_all()


def needs_room(env: lmdb.Environment, write_bytes: int) -> bool:
    """Whether a write of about ``write_bytes`` might not fit in the map as it is.

    Pages up to ``last_pgno`` are an upper bound of what is in use (freed pages below it are
    reused); copy-on-write may need a copy of every touched page, hence the factor 2 and a margin.
    Growing *before* a write avoids LMDB's ``MDB_MAP_FULL`` path, whose abort can stall for seconds
    while other threads keep opening read transactions.
    """
    info = env.info()
    page = 4096
    used = (int(info["last_pgno"]) + 1) * page
    return used + 2 * write_bytes + 256 * page > int(info["map_size"])


def grow_map(env: lmdb.Environment, settings: StoreSettings, write_bytes: int = 0) -> int:
    """Double the map size (or more, to fit ``write_bytes``), bounded by ``max_map_size_bytes``.

    The caller holds :meth:`ResizeGate.exclusive`. Raises :class:`StorageError` when the ceiling is
    reached: the operator must raise ``max_map_size`` or free disk space.
    """
    current = int(env.info()["map_size"])
    if current >= settings.max_map_size_bytes:
        raise StorageError(
            f"store is full: it reached its maximum map size of {current // MIB} MiB; "
            "raise the store's max map size in the node configuration"
        )
    new_size = min(max(current * 2, current + 4 * write_bytes), settings.max_map_size_bytes)
    try:
        env.set_mapsize(new_size)
    except lmdb.Error as exc:
        raise StorageError(f"cannot grow the store map to {new_size // MIB} MiB: {exc}") from exc
    return new_size
