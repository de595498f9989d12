"""The simulated application: blocks of client ops with a hash-chained ``app_root``.

This stands in for the ledger (which the core never sees): a block is opaque bytes whose hash is the
value id; validating it means checking height, parent hash, time, op validity and ``app_root``,
which is what the real node does by re-execution.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from ledgr.crypto import sha256

MAGIC = b"SIMBLK1"
MAX_OPS_PER_BLOCK = 8
GENESIS_HASH = b"\x00" * 32
GENESIS_ROOT = sha256(b"sim-genesis")


@dataclass(frozen=True, slots=True)
class SimBlock:
    height: int
    time_ms: int
    prev_hash: bytes
    app_root: bytes
    ops: tuple[bytes, ...]
    salt: bytes = b""

    def encode(self) -> bytes:
        parts = [MAGIC, struct.pack(">QQ", self.height, self.time_ms), self.prev_hash, self.app_root,
                 struct.pack(">H", len(self.ops))]
        for op in self.ops:
            parts.append(struct.pack(">H", len(op)))
            parts.append(op)
        parts.append(struct.pack(">H", len(self.salt)))
        parts.append(self.salt)
        return b"".join(parts)


def decode_block(data: bytes) -> SimBlock | None:
    try:
        if data[:7] != MAGIC:
            return None
        height, time_ms = struct.unpack(">QQ", data[7:23])
        prev, root = data[23:55], data[55:87]
        (count,) = struct.unpack(">H", data[87:89])
        pos, ops = 89, []
        for _ in range(count):
            (size,) = struct.unpack(">H", data[pos:pos + 2])
            ops.append(data[pos + 2:pos + 2 + size])
            pos += 2 + size
        (size,) = struct.unpack(">H", data[pos:pos + 2])
        salt = data[pos + 2:pos + 2 + size]
        if pos + 2 + size != len(data) or len(prev) != 32 or len(root) != 32:
            return None
        return SimBlock(height, time_ms, prev, root, tuple(ops), salt)
    except struct.error:
        return None


def next_root(prev_root: bytes, ops: tuple[bytes, ...]) -> bytes:
    return sha256(prev_root + b"".join(sha256(op) for op in ops))


def make_op(seed: int, serial: int, valid_until: int) -> bytes:
    return b"op:%d:%d:%d" % (seed, serial, valid_until)


def op_valid_until(op: bytes) -> int:
    return int(op.rsplit(b":", 1)[1])


@dataclass(slots=True)
class ChainEntry:
    height: int
    value_id: bytes
    block: bytes
    parsed: SimBlock
    qc: object


class Chain:
    """One node's committed blocks (heights 1..len) with the set of committed ops."""

    __slots__ = ("entries", "ops")

    def __init__(self) -> None:
        self.entries: list[ChainEntry] = []
        self.ops: set[bytes] = set()

    @property
    def height(self) -> int:
        return len(self.entries)

    @property
    def tip_hash(self) -> bytes:
        return self.entries[-1].value_id if self.entries else GENESIS_HASH

    @property
    def tip_root(self) -> bytes:
        return self.entries[-1].parsed.app_root if self.entries else GENESIS_ROOT

    @property
    def tip_time_ms(self) -> int:
        return self.entries[-1].parsed.time_ms if self.entries else 0

    def build(self, time_ms: int, ops: list[bytes], salt: bytes = b"") -> SimBlock:
        chosen = tuple(op for op in ops if self.op_ok(op, self.height + 1))[:MAX_OPS_PER_BLOCK]
        root = next_root(self.tip_root, chosen)
        return SimBlock(self.height + 1, time_ms, self.tip_hash, root, chosen, salt)

    def op_ok(self, op: bytes, height: int) -> bool:
        return op not in self.ops and op.startswith(b"op:") and op_valid_until(op) >= height

    def validate(self, value_id: bytes, data: bytes, time_ms: int) -> bool:
        """What the node does on ``ValidateBlock``: hash, height, parent, time, ops, app_root."""
        block = decode_block(data)
        if block is None or sha256(data) != value_id:
            return False
        if block.height != self.height + 1 or block.prev_hash != self.tip_hash or block.time_ms != time_ms:
            return False
        if block.time_ms <= self.tip_time_ms or len(block.ops) > MAX_OPS_PER_BLOCK:
            return False
        if len(set(block.ops)) != len(block.ops) or not all(self.op_ok(op, block.height) for op in block.ops):
            return False
        return block.app_root == next_root(self.tip_root, block.ops)

    def append(self, value_id: bytes, data: bytes, qc: object) -> ChainEntry:
        block = decode_block(data)
        if block is None:
            raise ValueError("appending an undecodable block")
        entry = ChainEntry(block.height, value_id, data, block, qc)
        self.entries.append(entry)
        self.ops.update(block.ops)
        return entry
