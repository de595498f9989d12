"""The state contract between the pure ledger and its stores, plus an in-memory state.

State is a key → value map. Keys starting with ``0x00`` are *meta* keys (only :data:`TIP_KEY`): they
are stored like the others but are not leaves of the sparse Merkle tree (the tip records the root of
that tree, so it cannot be inside it). Every other key is an SMT leaf under ``sha256(key)``.

Key layout (all well under LMDB's 511-byte key limit; long ids are hashed):

=========================  ==========================================================
``chain``                  chain record (chain_id, genesis hash, params)
``validators``             validator record (active set, pending change, version hash)
``d\\0<did>``               DID head (current version number, hashes, times, compromised keys)
``v\\0<did>\\0<u32 seq>``    one DID document version
``s\\0<sha256(list id)>``   a status list (the issuer-signed credential and its owner)
``r\\0<did>\\0<id>``         a DID-linked resource
``e\\0<evidence id>``       committed equivocation evidence (``ledgr.ledger.rules_evidence``)
``validator-history``      validator sets of past heights (``ledgr.ledger.validator_history``)
``\\0tip``                  meta: height, block hash, app_root, time of the last applied block
=========================  ==========================================================
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from ledgr.crypto import sha256
from ledgr.errors import InvariantViolation
from ledgr.ledger.codec import Reader, u32, u64

if TYPE_CHECKING:
    from ledgr.ledger.execute import BlockResult

CHAIN_KEY = b"chain"
VALIDATORS_KEY = b"validators"
TIP_KEY = b"\x00tip"
EMPTY_ROOT = b"\x00" * 32


class StateReader(Protocol):
    """Read access to committed state (implemented by the LMDB store and :class:`MemoryState`)."""

    def get(self, key: bytes) -> bytes | None:
        """The committed value of a state key, or None."""
        ...

    def get_node(self, node_hash: bytes) -> bytes | None:
        """An SMT node by its hash (nodes are content-addressed and never overwritten)."""
        ...


def is_meta_key(key: bytes) -> bool:
    return key[:1] == b"\x00"


def did_head_key(did: str) -> bytes:
    return b"d\x00" + did.encode("ascii")


def did_version_key(did: str, seq: int) -> bytes:
    return b"v\x00" + did.encode("ascii") + b"\x00" + u32(seq)


def status_list_key(list_id: str) -> bytes:
    return b"s\x00" + sha256(list_id.encode("utf-8"))


def resource_key(did: str, resource_id: str) -> bytes:
    return b"r\x00" + did.encode("ascii") + b"\x00" + resource_id.encode("ascii")


EVIDENCE_PREFIX = b"e\x00"


def evidence_key(evidence_id: bytes) -> bytes:
    return EVIDENCE_PREFIX + evidence_id


@dataclass(frozen=True, slots=True)
class Tip:
    """The last applied block: ``u64 height ‖ block hash ‖ app_root ‖ u64 time_ms`` (meta key)."""

    height: int
    block_hash: bytes
    app_root: bytes
    time_ms: int

    def encode(self) -> bytes:
        return u64(self.height) + self.block_hash + self.app_root + u64(self.time_ms)

    @classmethod
    def decode(cls, data: bytes) -> Tip:
        reader = Reader(data, "tip record")
        tip = cls(reader.u64(), reader.take(32), reader.take(32), reader.u64())
        reader.done()
        return tip


def read_tip(reader: StateReader) -> Tip:
    raw = reader.get(TIP_KEY)
    if raw is None:
        raise InvariantViolation("state has no tip: initialise it from a genesis document first")
    return Tip.decode(raw)


class MemoryState:
    """A dict-backed :class:`StateReader` that applies block results (tests, simulator, dry runs)."""

    def __init__(self) -> None:
        self.values: dict[bytes, bytes] = {}
        self.nodes: dict[bytes, bytes] = {}

    def get(self, key: bytes) -> bytes | None:
        return self.values.get(key)

    def get_node(self, node_hash: bytes) -> bytes | None:
        return self.nodes.get(node_hash)

    def apply(self, result: BlockResult) -> None:
        self.apply_writes(result.state_writes, result.smt_nodes)

    def apply_writes(self, writes: Mapping[bytes, bytes | None], nodes: Mapping[bytes, bytes]) -> None:
        self.nodes.update(nodes)
        for key, value in writes.items():
            if value is None:
                self.values.pop(key, None)
            else:
                self.values[key] = value

    def copy(self) -> MemoryState:
        clone = MemoryState()
        clone.values = dict(self.values)
        clone.nodes = dict(self.nodes)
        return clone


class Overlay:
    """Copy-on-write view over a reader: the writes of the operations applied so far in a block."""

    __slots__ = ("base", "writes")

    def __init__(self, base: StateReader) -> None:
        self.base = base
        self.writes: dict[bytes, bytes | None] = {}

    def get(self, key: bytes) -> bytes | None:
        if key in self.writes:
            return self.writes[key]
        return self.base.get(key)

    def put(self, key: bytes, value: bytes | None) -> None:
        self.writes[key] = value

    def get_node(self, node_hash: bytes) -> bytes | None:
        return self.base.get_node(node_hash)
