"""CPU-heavy ledger work in worker processes, so the event loop (consensus timers, peers, HTTP)
never starves behind the GIL.

Building a block, re-executing a proposed one and checking incoming operations are pure Python
(canonicalization, authorization, SMT folding) plus Ed25519; a 1,000-operation block takes hundreds
of milliseconds. Run on threads, that work would hold the GIL in 5 ms slices and delay every timer
and socket of the node. So it runs in processes started with ``spawn`` (never ``fork``: the parent
has LMDB open, and a forked LMDB environment is undefined behaviour). Each worker opens the node's
store read-only; LMDB's MVCC lets it read the last committed state while the node's writer commits.

Results come back pickled (``BlockResult`` for blocks; for checks, the error class name, detail and
extra members, rebuilt into the same :mod:`ledgr.errors` exception on the node's side).
"""

from __future__ import annotations

import asyncio
import multiprocessing
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import Any

from ledgr import errors
from ledgr.crypto import sha256
from ledgr.errors import LedgrError
from ledgr.ledger.execute import BlockResult, build_block, check_operation, execute_block
from ledgr.ledger.formats import Block
from ledgr.ledger.operations import decode_operation
from ledgr.store.store import Store

ErrorInfo = tuple[str, str, dict[str, Any]]

_store: Store | None = None
_data_dir: str | None = None


def _init(data_dir: str) -> None:
    global _data_dir
    _data_dir = data_dir


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


def _build(chain_id: str, height: int, time_ms: int, prev_hash: bytes, proposer: bytes,
           envelopes: list[bytes], max_ops: int | None) -> tuple[bytes, BlockResult]:
    def run(store: Store) -> tuple[bytes, BlockResult]:
        block, result = build_block(store, chain_id=chain_id, height=height, time_ms=time_ms,
                                    prev_hash=prev_hash, proposer=proposer, operations=envelopes,
                                    max_ops=max_ops)
        return block.encode(), result

    result: tuple[bytes, BlockResult] = _with_store(run)
    return result


def _execute(block_bytes: bytes) -> BlockResult | ErrorInfo:
    try:
        block = Block.decode(block_bytes)
        result: BlockResult = _with_store(lambda store: execute_block(store, block))
        return result
    except LedgrError as exc:
        return _error_info(exc)


def _committed(store: Store, op_hash: bytes) -> bool:
    with store.snapshot() as view:
        return view.op_location(op_hash) is not None


def _check(envelopes: list[bytes], height: int, time_ms: int, full: bool) -> list[ErrorInfo | None]:
    """Per envelope: None when admissible; with ``full`` the whole state check, else decoding only.

    Operations already committed are reported as ``Conflict`` (code ``committed``)."""
    def run(store: Store) -> list[ErrorInfo | None]:
        out: list[ErrorInfo | None] = []
        for envelope in envelopes:
            try:
                if _committed(store, sha256(envelope)):
                    out.append(("Conflict", "operation is already committed", {"rule": "committed"}))
                    continue
                if full:
                    check_operation(store, envelope, height=height, time_ms=time_ms)
                else:
                    decode_operation(envelope)
                out.append(None)
            except LedgrError as exc:
                out.append(_error_info(exc))
        return out

    result: list[ErrorInfo | None] = _with_store(run)
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
                                   initializer=_init, initargs=(str(self._data_dir),))

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


class LedgerWorkers:
    """Two spawned worker processes: one for blocks (build, execute), one for operation checks."""

    def __init__(self, data_dir: Path) -> None:
        self._blocks = _Worker(data_dir)
        self._checks = _Worker(data_dir)

    async def warm_up(self) -> None:
        await asyncio.gather(self._blocks.run(_ping), self._checks.run(_ping))

    async def build(self, chain_id: str, height: int, time_ms: int, prev_hash: bytes, proposer: bytes,
                    envelopes: list[bytes], max_ops: int | None) -> tuple[Block, BlockResult]:
        block_bytes, result = await self._blocks.run(_build, chain_id, height, time_ms, prev_hash, proposer,
                                                     envelopes, max_ops)
        return Block.decode(block_bytes), result

    async def execute(self, block_bytes: bytes) -> BlockResult:
        outcome = await self._blocks.run(_execute, block_bytes)
        if isinstance(outcome, tuple):
            raise rebuild_error(outcome)
        result: BlockResult = outcome
        return result

    async def check(self, envelopes: list[bytes], height: int, time_ms: int,
                    full: bool) -> list[LedgrError | None]:
        infos = await self._checks.run(_check, envelopes, height, time_ms, full)
        return [None if info is None else rebuild_error(info) for info in infos]

    def close(self) -> None:
        """Stop both workers (a running job finishes first; queued ones are cancelled)."""
        self._blocks.close()
        self._checks.close()
