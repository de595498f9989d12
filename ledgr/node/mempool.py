"""The mempool: signed operations waiting for a block; bounded and deduplicated by operation hash.

Operations enter after the static checks (size, schema, signature — done by the caller with the
ledger's envelope parser) and leave when a block that holds them commits, or when the re-check
against state at proposal time rejects them (stale ``prev``, deactivated DID, …). Rejections are
remembered in a bounded LRU so ``GET /v1/operations/{hash}`` can tell the author why.

Bounds: ``max_ops`` operations and ``max_bytes`` bytes. A full pool refuses new operations with
:class:`~ledgr.errors.RateLimited` (HTTP 429): the author retries later; nothing already accepted is
evicted, so a 202 is never silently undone by load.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from ledgr.errors import RateLimited

MAX_REMEMBERED_REJECTIONS = 10000


@dataclass(frozen=True)
class PendingOp:
    """One accepted operation: its hash, the envelope bytes as received, and the parsed envelope."""

    op_hash: bytes
    raw: bytes
    parsed: Any
    arrived_s: float


class Mempool:
    def __init__(self, max_ops: int, max_bytes: int) -> None:
        self.max_ops = max_ops
        self.max_bytes = max_bytes
        self._ops: OrderedDict[bytes, PendingOp] = OrderedDict()
        self._bytes = 0
        self._rejected: OrderedDict[bytes, str] = OrderedDict()
        self._nonempty = asyncio.Event()

    def __len__(self) -> int:
        return len(self._ops)

    def __contains__(self, op_hash: object) -> bool:
        return op_hash in self._ops

    @property
    def size_bytes(self) -> int:
        return self._bytes

    def add(self, op: PendingOp) -> bool:
        """Add ``op``; False when it is already pending (duplicates are harmless, not errors)."""
        if op.op_hash in self._ops:
            return False
        if len(self._ops) >= self.max_ops or self._bytes + len(op.raw) > self.max_bytes:
            raise RateLimited("the mempool is full; retry later", limit=self.max_ops)
        self._ops[op.op_hash] = op
        self._bytes += len(op.raw)
        self._rejected.pop(op.op_hash, None)
        self._nonempty.set()
        return True

    def get(self, op_hash: bytes) -> PendingOp | None:
        return self._ops.get(op_hash)

    def batch(self, max_ops: int, max_bytes: int) -> list[PendingOp]:
        """The oldest pending operations that fit in one block (not removed: they leave on commit)."""
        out: list[PendingOp] = []
        size = 0
        for op in self._ops.values():
            if len(out) >= max_ops:
                break
            if size + len(op.raw) > max_bytes:
                break
            out.append(op)
            size += len(op.raw)
        return out

    def remove(self, hashes: Iterable[bytes]) -> list[PendingOp]:
        removed = []
        for op_hash in hashes:
            op = self._ops.pop(op_hash, None)
            if op is not None:
                self._bytes -= len(op.raw)
                removed.append(op)
        if not self._ops:
            self._nonempty.clear()
        return removed

    def reject(self, op_hash: bytes, reason: str) -> None:
        """Drop a pending operation that failed its re-check, remembering why."""
        self.remove([op_hash])
        self._rejected[op_hash] = reason
        self._rejected.move_to_end(op_hash)
        while len(self._rejected) > MAX_REMEMBERED_REJECTIONS:
            self._rejected.popitem(last=False)

    def rejection(self, op_hash: bytes) -> str | None:
        return self._rejected.get(op_hash)

    async def wait_nonempty(self) -> None:
        await self._nonempty.wait()
