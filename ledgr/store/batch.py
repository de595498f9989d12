"""The store's unit of work: everything one block commits, already encoded.

:func:`batch_from_block` turns ledger-core's ``(Block, QuorumCertificate, BlockResult)`` into a
:class:`BlockCommit`, checking that the three belong together. The store only needs the few
attributes named by the :class:`ExecutionResult` protocol, so it does not depend on how ledger-core
builds its result.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from ledgr.errors import InvariantViolation, StorageError
from ledgr.ledger.formats import Block, QuorumCertificate

HASH_BYTES = 32


@dataclass(frozen=True)
class BlockCommit:
    """Everything one block commits, already encoded: the store's byte-level unit of work."""

    height: int
    prev_hash: bytes
    block_hash: bytes
    app_root: bytes
    block_bytes: bytes
    qc_bytes: bytes
    state_writes: Mapping[bytes, bytes | None]  # None deletes the key
    smt_nodes: Mapping[bytes, bytes]  # node hash -> node bytes
    op_index: Sequence[tuple[bytes, int]] = field(default_factory=tuple)  # (op hash, index in block)

    def __post_init__(self) -> None:
        for name in ("prev_hash", "block_hash", "app_root"):
            if len(getattr(self, name)) != HASH_BYTES:
                raise InvariantViolation(f"BlockCommit.{name} must be {HASH_BYTES} bytes")
        if self.height < 1:
            raise InvariantViolation("blocks start at height 1; height 0 is genesis")


class Receipt(Protocol):
    """What the store needs from ledger-core's ``OperationReceipt``."""

    @property
    def hash(self) -> bytes: ...

    @property
    def index(self) -> int: ...

    @property
    def accepted(self) -> bool: ...


class ExecutionResult(Protocol):
    """What the store needs from ledger-core's ``BlockResult`` (``execute_block``'s output)."""

    @property
    def receipts(self) -> Sequence[Receipt]: ...

    @property
    def state_writes(self) -> Mapping[bytes, bytes | None]: ...

    @property
    def smt_nodes(self) -> Mapping[bytes, bytes]: ...

    @property
    def app_root(self) -> bytes: ...


def batch_bytes(state_writes: Mapping[bytes, bytes | None], smt_nodes: Mapping[bytes, bytes]) -> int:
    """Approximate bytes of keys and values a batch writes (for growing the map ahead of it)."""
    state = sum(len(key) + (len(value) if value else 0) for key, value in state_writes.items())
    return state + sum(len(h) + len(node) for h, node in smt_nodes.items())


def batch_from_block(block: Block, qc: QuorumCertificate, result: ExecutionResult) -> BlockCommit:
    """The commit batch of ``block``; its operations are indexed by their receipts (a valid block
    holds accepted operations only, ``execute_block``; the filter keeps a rejected one, had a result
    ever carried one, out of the index)."""
    block_hash = block.hash()
    if result.app_root != block.header.app_root:
        raise StorageError(f"block {block.height}: its app_root differs from its execution result")
    if qc.height != block.height or qc.block_hash != block_hash:
        raise StorageError(f"block {block.height}: the QC certifies a different block")
    return BlockCommit(
        height=block.height,
        prev_hash=block.header.prev_hash,
        block_hash=block_hash,
        app_root=block.header.app_root,
        block_bytes=block.encode(),
        qc_bytes=qc.encode(),
        state_writes=result.state_writes,
        smt_nodes=result.smt_nodes,
        op_index=tuple((r.hash, r.index) for r in result.receipts if r.accepted),
    )
