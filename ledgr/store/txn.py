"""Transactions over the node's LMDB environment: snapshots, durable writes, map growth.

The machinery under :class:`ledgr.store.Store`, kept apart from what the store holds. Readers take
:meth:`Environment.snapshot` (one read transaction each, any thread, never blocking the writer);
writes go through :meth:`Environment._write`, one durable transaction each, serialised in this process
and grown into a larger map when they might not fit (``env.py`` explains the sizing and the gate).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from types import TracebackType
from typing import Self, TypeVar

import lmdb

from ledgr.errors import InvariantViolation, StorageError
from ledgr.store.dirlock import DirectoryLock
from ledgr.store.env import META, ResizeGate, StoreSettings, grow_map, needs_room, open_databases
from ledgr.store.view import META_TIP, StoreView, Tip

T = TypeVar("T")


class Environment:
    """An open LMDB environment with its named databases (see :class:`ledgr.store.Store`)."""

    def __init__(self, path: Path, env: lmdb.Environment, settings: StoreSettings, readonly: bool) -> None:
        self.path = path
        self.settings = settings
        self.readonly = readonly
        self._env = env
        self._dbs = open_databases(env, create=not readonly)
        self._gate = ResizeGate()
        self._write_lock = threading.Lock()
        self._local = threading.local()
        self._closed = False
        self._lock: DirectoryLock | None = None  # held by writable stores (one writer per data dir)

    # -- lifecycle ---------------------------------------------------------------------------------
    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self._env.close()
            if self._lock is not None:
                self._lock.release()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    @property
    def env_flags(self) -> dict[str, bool]:
        """The flags LMDB actually opened the environment with (asserted durable by the tests)."""
        return {name: bool(value) for name, value in self._env.flags().items()}

    @property
    def map_size_bytes(self) -> int:
        return int(self._env.info()["map_size"])

    def disk_bytes(self) -> int:
        """Size of the data file on disk (allocated pages; the map size is only address space)."""
        return (self.path / "data.mdb").stat().st_size

    @contextmanager
    def snapshot(self) -> Iterator[StoreView]:
        """A consistent read-only view of the last committed height (one LMDB read transaction).

        Safe from any thread, concurrently with the writer; keep it short-lived (an open snapshot
        pins old pages, and a map resize waits for it).
        """
        self._check_open()
        while True:
            with self._gate.shared():
                try:
                    txn = self._env.begin(buffers=False)
                except lmdb.MapResizedError:
                    txn = None  # another process grew the map: adopt its size below, then retry
                except lmdb.Error as exc:
                    raise StorageError(f"cannot open a read transaction: {exc}") from exc
                if txn is not None:
                    depth = getattr(self._local, "depth", 0)
                    self._local.depth = depth + 1
                    try:
                        yield StoreView(txn, self._dbs)
                    finally:
                        self._local.depth = depth
                        txn.abort()
                    return
            self._adopt_map_size()

    def read(self, fn: Callable[[StoreView], T]) -> T:
        """Run ``fn`` against a fresh snapshot and return its result."""
        with self.snapshot() as view:
            return fn(view)

    def copy_to(self, dest: Path) -> Tip | None:
        """Write a compacted, consistent copy of the environment into empty directory ``dest``.

        The copy is taken from one read transaction, so it is exactly the state at the returned tip
        even while the writer keeps committing (LMDB ``mdb_env_copy2`` with ``MDB_CP_COMPACT``).
        """
        self._check_open()
        with self._gate.shared(), self._env.begin() as txn:
            raw_tip = txn.get(META_TIP, db=self._dbs[META])
            try:
                self._env.copy(str(dest), compact=True, txn=txn)
            except lmdb.Error as exc:
                raise StorageError(f"cannot copy the store to {dest}: {exc}") from exc
        return None if raw_tip is None else Tip.decode(bytes(raw_tip))

    def _adopt_map_size(self) -> None:
        """Another process grew the map (LMDB ``MDB_MAP_RESIZED``): take over its size."""
        with self._gate.exclusive():
            try:
                self._env.set_mapsize(0)
            except lmdb.Error as exc:
                raise StorageError(f"cannot adopt the store's new map size: {exc}") from exc

    def _check_open(self) -> None:
        if self._closed:
            raise StorageError("the store is closed")

    def _write(self, fn: Callable[[lmdb.Transaction], object], size_hint: int = 0) -> None:
        """Run ``fn`` in one durable write transaction (about ``size_hint`` bytes of keys and values).

        The map is grown ahead of a write that might not fit; if LMDB still reports it full, the
        transaction is aborted, the map grown, and ``fn`` run again.
        """
        self._check_open()
        if self.readonly:
            raise StorageError("the store was opened read-only")
        if getattr(self._local, "depth", 0):
            raise InvariantViolation("write attempted while this thread holds a store snapshot")
        with self._write_lock:
            while needs_room(self._env, size_hint):
                with self._gate.exclusive():
                    grow_map(self._env, self.settings, size_hint)
            while True:
                try:
                    with self._gate.shared(), self._env.begin(write=True) as txn:
                        fn(txn)
                    return
                except lmdb.MapFullError:
                    with self._gate.exclusive():
                        grow_map(self._env, self.settings, size_hint)
                except lmdb.MapResizedError:
                    self._adopt_map_size()
                except lmdb.Error as exc:
                    raise StorageError(f"store write failed: {exc}") from exc
