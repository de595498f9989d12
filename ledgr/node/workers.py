"""CPU-heavy ledger work in worker processes, so the event loop (consensus timers, peers, HTTP)
never starves behind the GIL.

Building a block, re-executing a proposed one and checking incoming operations are pure Python
(canonicalization, authorization, SMT folding) plus Ed25519; a 1,000-operation block takes hundreds
of milliseconds. Run on threads, that work would hold the GIL in 5 ms slices and delay every timer
and socket of the node. So it runs in processes started with ``spawn`` (never ``fork``: the parent
has LMDB open, and a forked LMDB environment is undefined behaviour). Each worker opens the node's
store read-only; LMDB's MVCC lets it read the last committed state while the node's writer commits.

Every job reads through one store snapshot (one LMDB read transaction), so it sees one committed
height even if the node commits meanwhile. Results come back pickled (``BlockResult`` for blocks;
for checks, the error class name, detail and extra members, rebuilt into the same
:mod:`ledgr.errors` exception on the node's side).
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import heapq
import itertools
import multiprocessing
import os
import threading
import time
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import Any

from ledgr import errors
from ledgr.crypto import sha256
from ledgr.errors import LedgrError
from ledgr.ledger.execute import BlockResult, build_block, check_operation, execute_block
from ledgr.ledger.formats import Block
from ledgr.ledger.operations import decode_operation
from ledgr.node import gcpolicy
from ledgr.store.store import Store

ErrorInfo = tuple[str, str, dict[str, Any]]
SMALL_JOB_OPS = 8
CHECK_BATCH = 64
PARENT_POLL_S = 1.0

_store: Store | None = None
_data_dir: str | None = None


GC_THRESHOLDS = (100_000, 50, 1000)


def _init(data_dir: str, parent_pid: int) -> None:
    """Worker start-up. The collector runs far less often than by default (every 100,000 net
    allocations instead of 700, full collections 50× rarer): block execution allocates millions of
    short-lived objects (SMT nodes, decoded operations) next to long-lived caches, and the default
    thresholds made the collector rescan those caches all the time — a quarter of the worker's CPU
    in a block-execution benchmark. Cycles are still collected, just in bigger batches."""
    global _data_dir
    _data_dir = data_dir
    gc.set_threshold(*GC_THRESHOLDS)
    gcpolicy.start_process(collect_young=False)  # freeze only: ledgr.node.gcpolicy says why
    threading.Thread(target=_exit_with_parent, args=(parent_pid,), daemon=True).start()


def _exit_with_parent(parent_pid: int) -> None:
    """A worker outlives a SIGKILLed node otherwise (it holds its own queue's write end, so it never
    sees EOF); poll the parent and leave as soon as it is gone."""
    while os.getppid() == parent_pid:
        time.sleep(PARENT_POLL_S)
    os._exit(0)


def _open() -> Store:
    global _store
    if _store is None:
        assert _data_dir is not None
        _store = Store.open(_data_dir, readonly=True, check=False)
    return _store


def _with_store(fn: Any) -> Any:
    """Run ``fn(store)``; reopen the store once if the read failed (e.g. the map grew meanwhile)."""
    global _store
    try:
        return fn(_open())
    except LedgrError:
        raise
    except Exception:
        if _store is not None:
            _store.close()
        _store = None
        return fn(_open())


def _error_info(exc: LedgrError) -> ErrorInfo:
    return type(exc).__name__, exc.detail, dict(exc.extra)


def rebuild_error(info: ErrorInfo) -> LedgrError:
    name, detail, extra = info
    cls = getattr(errors, name, None)
    if not (isinstance(cls, type) and issubclass(cls, LedgrError)):
        cls = LedgrError
    return cls(detail, **extra)


def _build_on(store: Store, chain_id: str, height: int, time_ms: int, prev_hash: bytes, proposer: bytes,
              envelopes: list[bytes], max_ops: int | None) -> tuple[bytes, BlockResult]:
    with store.snapshot() as view:
        block, result = build_block(view, chain_id=chain_id, height=height, time_ms=time_ms,
                                    prev_hash=prev_hash, proposer=proposer, operations=envelopes,
                                    max_ops=max_ops)
    return block.encode(), result


def _execute_on(store: Store, block_bytes: bytes) -> BlockResult | ErrorInfo:
    try:
        with store.snapshot() as view:
            return execute_block(view, Block.decode(block_bytes))
    except LedgrError as exc:
        return _error_info(exc)


class _Overlay:
    """Committed state plus the writes of executed blocks not yet committed above it (oldest first):
    what the store will hold once they commit. Implements ``ledgr.ledger.state.StateReader``."""

    def __init__(self, view: Any, layers: list[BlockResult]) -> None:
        self._view = view
        self._writes: dict[bytes, bytes | None] = {}
        self._nodes: dict[bytes, bytes] = {}
        for result in layers:
            self._writes.update(result.state_writes)
            self._nodes.update(result.smt_nodes)

    def get(self, key: bytes) -> bytes | None:
        if key in self._writes:
            return self._writes[key]
        value: bytes | None = self._view.get(key)
        return value

    def get_node(self, node_hash: bytes) -> bytes | None:
        found = self._nodes.get(node_hash)
        if found is not None:
            return found
        value: bytes | None = self._view.get_node(node_hash)
        return value


# Results of blocks this worker executed, by block hash: (height, prev_hash, result). A block whose
# parent is executed but not yet committed runs over an overlay of the parent's writes (block sync
# executes block N+1 while the node commits N). Keyed by hash, and execution is deterministic, so an
# entry is exactly the state after that block on the chain its hash names; the node still commits in
# order and the store refuses a block that does not extend its tip.
_executed: dict[bytes, tuple[int, bytes, BlockResult]] = {}
MAX_EXECUTED = 4


def _execute_ahead_on(store: Store, block_bytes: bytes) -> BlockResult | ErrorInfo | None:
    """Execute over committed state plus executed-but-uncommitted ancestors; None when an ancestor
    between the committed tip and this block was not executed here (run it after the commit)."""
    try:
        with store.snapshot() as view:
            block = Block.decode(block_bytes)
            tip = view.tip()
            if tip is None:
                return _error_info(errors.StorageError("the store holds no chain"))
            for block_hash in [h for h, entry in _executed.items() if entry[0] <= tip.height]:
                _executed.pop(block_hash, None)
            layers: list[BlockResult] = []
            want, height = block.header.prev_hash, block.height - 1
            while height > tip.height:
                entry = _executed.get(want)
                if entry is None or entry[0] != height:
                    return None
                layers.append(entry[2])
                want, height = entry[1], height - 1
            if want != tip.block_hash:
                return None
            result = execute_block(_Overlay(view, layers[::-1]) if layers else view, block)
    except LedgrError as exc:
        return _error_info(exc)
    _executed[block.hash()] = (block.height, block.header.prev_hash, result)
    while len(_executed) > MAX_EXECUTED:
        _executed.pop(next(iter(_executed)))
    return result


def _check_on(store: Store, envelopes: list[bytes], height: int, time_ms: int,
              full: bool) -> list[ErrorInfo | None]:
    """Per envelope: None when admissible; with ``full`` the whole state check, else decoding only.

    Without ``full`` (operations forwarded by a validator) the state check still runs, but only to
    warm this process's memos (``ledgr.ledger.memo``: decoding, signature, the document of a
    ``did.create``), so the block that carries the operation executes faster; its verdict is not
    used (the proposer and every validator check again against the block's state).
    Operations already committed are reported as ``Conflict`` (rule ``committed``)."""
    out: list[ErrorInfo | None] = []
    with store.snapshot() as view:
        for envelope in envelopes:
            try:
                if view.op_location(sha256(envelope)) is not None:
                    out.append(("Conflict", "operation is already committed", {"rule": "committed"}))
                    continue
                if full:
                    check_operation(view, envelope, height=height, time_ms=time_ms)
                else:
                    decode_operation(envelope)
                    with contextlib.suppress(LedgrError):
                        check_operation(view, envelope, height=height, time_ms=time_ms)
                out.append(None)
            except LedgrError as exc:
                out.append(_error_info(exc))
    return out


def _build(*args: Any) -> tuple[bytes, BlockResult]:
    result: tuple[bytes, BlockResult] = _with_store(lambda store: _build_on(store, *args))
    gcpolicy.tick_process()
    return result


def _execute(block_bytes: bytes) -> BlockResult | ErrorInfo:
    """Execute over committed state, keeping the result for a following :func:`_execute_ahead`."""
    def run(store: Store) -> BlockResult | ErrorInfo:
        return _execute_ahead_on(store, block_bytes) or _execute_on(store, block_bytes)

    result: BlockResult | ErrorInfo = _with_store(run)
    gcpolicy.tick_process()
    return result


def _execute_ahead(block_bytes: bytes) -> BlockResult | ErrorInfo | None:
    result: BlockResult | ErrorInfo | None = _with_store(lambda store: _execute_ahead_on(store, block_bytes))
    gcpolicy.tick_process()
    return result


def _check(*args: Any) -> list[ErrorInfo | None]:
    result: list[ErrorInfo | None] = _with_store(lambda store: _check_on(store, *args))
    gcpolicy.tick_process()
    return result


def _ping() -> bool:
    return True


class _Worker:
    """One spawned worker process; replaced by a fresh one if it dies (e.g. killed by the OOM killer)."""

    def __init__(self, data_dir: Path) -> None:
        self._data_dir = data_dir
        self._pool = self._new()

    def _new(self) -> ProcessPoolExecutor:
        return ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn"),
                                   initializer=_init, initargs=(str(self._data_dir), os.getpid()))

    async def run(self, fn: Any, *args: Any) -> Any:
        loop = asyncio.get_running_loop()
        try:
            return await loop.run_in_executor(self._pool, fn, *args)
        except BrokenProcessPool:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = self._new()
            return await loop.run_in_executor(self._pool, fn, *args)

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)


PRIORITY_BLOCK = 0
PRIORITY_CHECK = 1


class _PriorityGate:
    """Lets one job at a time reach the worker, block jobs before operation checks.

    The worker's executor queue is first-in-first-out; without the gate a block to build or
    validate — on the critical path of every height — would wait behind every check queued under
    load. Checks are small batches (``CHECK_BATCH`` operations, a few milliseconds), so a block job
    waits at most for the one check already running.
    """

    def __init__(self) -> None:
        self._busy = False
        self._waiting: list[tuple[int, int, asyncio.Future[None]]] = []
        self._order = itertools.count()

    async def acquire(self, priority: int) -> None:
        if not self._busy and not self._waiting:
            self._busy = True
            return
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._waiting, (priority, next(self._order), future))
        try:
            await future
        except asyncio.CancelledError:
            if future.done() and not future.cancelled():
                self.release()  # the turn was handed to us as we were cancelled: pass it on
            raise

    def release(self) -> None:
        while self._waiting:
            _priority, _order, future = heapq.heappop(self._waiting)
            if not future.done():
                future.set_result(None)
                return
        self._busy = False


class LedgerWorkers:
    """One spawned worker process for the node's ledger work: building and executing blocks, and
    checking operations on entry (and preparing forwarded ones).

    One process, not one per kind of job, so the memos of pure per-operation work
    (``ledgr.ledger.memo``) filled by the checks — which run while operations wait in the mempool —
    are hit when the block holding them is built or executed on the critical path of a height.
    A priority gate runs block jobs before queued checks.

    Blocks of at most ``SMALL_JOB_OPS`` operations are built or executed on a thread of the node
    instead (over the node's own store): they hold the GIL for a millisecond or two, less than a
    round trip to a worker costs on a busy machine, so light-load latency does not pay for the
    process hop. Checks run in the worker — where the memos they fill are used — unless the node is
    idle (see :meth:`check`).
    """

    def __init__(self, data_dir: Path, store: Store) -> None:
        self._worker = _Worker(data_dir)
        self._gate = _PriorityGate()
        self._store = store
        self._threads = ThreadPoolExecutor(max_workers=1, thread_name_prefix="ledgr-small-jobs")

    async def _local(self, fn: Any, *args: Any) -> Any:
        return await asyncio.get_running_loop().run_in_executor(self._threads, fn, self._store, *args)

    async def _remote(self, priority: int, fn: Any, *args: Any) -> Any:
        await self._gate.acquire(priority)
        try:
            return await self._worker.run(fn, *args)
        finally:
            self._gate.release()

    async def warm_up(self) -> None:
        await self._remote(PRIORITY_BLOCK, _ping)

    async def build(self, chain_id: str, height: int, time_ms: int, prev_hash: bytes, proposer: bytes,
                    envelopes: list[bytes], max_ops: int | None) -> tuple[Block, BlockResult]:
        args = (chain_id, height, time_ms, prev_hash, proposer, envelopes, max_ops)
        if len(envelopes) <= SMALL_JOB_OPS:
            block_bytes, result = await self._local(_build_on, *args)
        else:
            block_bytes, result = await self._remote(PRIORITY_BLOCK, _build, *args)
        return Block.decode(block_bytes), result

    async def execute(self, block_bytes: bytes, op_count: int) -> BlockResult:
        if op_count <= SMALL_JOB_OPS:
            outcome = await self._local(_execute_on, block_bytes)
        else:
            outcome = await self._remote(PRIORITY_BLOCK, _execute, block_bytes)
        if isinstance(outcome, tuple):
            raise rebuild_error(outcome)
        result: BlockResult = outcome
        return result

    async def execute_ahead(self, block_bytes: bytes) -> BlockResult | None:
        """Execute a block whose parent may be executed (by :meth:`execute_ahead`) but not yet
        committed; None when the worker does not hold that parent's result (execute it after the
        parent's commit instead). Always in the worker: its results stay there for the next block."""
        outcome = await self._remote(PRIORITY_BLOCK, _execute_ahead, block_bytes)
        if isinstance(outcome, tuple):
            raise rebuild_error(outcome)
        found: BlockResult | None = outcome
        return found

    async def check(self, envelopes: list[bytes], height: int, time_ms: int, full: bool,
                    idle: bool = False) -> list[LedgrError | None]:
        """Check operations; ``idle`` (the node has almost nothing pending, so the next block will
        be small and built or executed on the node's thread) lets a few run on that thread too,
        where that block will find their memos — and light load skips the process hop."""
        if idle and len(envelopes) <= SMALL_JOB_OPS // 2:
            infos = await self._local(_check_on, envelopes, height, time_ms, full)
            return [None if info is None else rebuild_error(info) for info in infos]
        infos = []
        for start in range(0, len(envelopes), CHECK_BATCH):
            infos += await self._remote(PRIORITY_CHECK, _check, envelopes[start:start + CHECK_BATCH],
                                        height, time_ms, full)
        return [None if info is None else rebuild_error(info) for info in infos]

    def close(self) -> None:
        """Stop the worker (a running job finishes first; queued ones are cancelled)."""
        self._worker.close()
        self._threads.shutdown(wait=True, cancel_futures=True)
