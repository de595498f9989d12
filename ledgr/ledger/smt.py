"""Binary sparse Merkle tree over ``sha256(key)`` with single-leaf subtrees collapsed (Jellyfish-style).

Canonical form (so the root depends only on the set of leaves, never on the order of updates): a
subtree with no leaf is EMPTY (32 zero bytes, never stored), a subtree with one leaf *is* that leaf
node wherever it sits, and any larger subtree is an internal node over its two halves at the next bit
of the key hash (consensus.md §2.3, after the Jellyfish Merkle tree design).

Nodes are content-addressed: ``hash = sha256(encoding)`` with encodings
``0x00 ‖ key_hash ‖ value_hash`` (leaf, value_hash = sha256(value)) and ``0x01 ‖ left ‖ right``
(internal). The leading byte separates leaves from internal nodes. Updates are applied in batches
(one per block): the touched paths are rebuilt once and the new nodes returned for the store to
persist in the same transaction; nothing is overwritten.

Proofs list the siblings from the root down to the node where the key's path ends, plus that
terminal: the key's own leaf (inclusion), another leaf sharing the path prefix, or EMPTY
(both non-inclusion).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from ledgr.crypto import sha256
from ledgr.errors import InvalidEncoding, InvariantViolation
from ledgr.ledger.codec import Reader, u8, u16

EMPTY = b"\x00" * 32
LEAF, INTERNAL = 0, 1
KEY_BITS = 256
PROOF_VERSION = 1

NodeGetter = Callable[[bytes], bytes | None]


def _bit(key_hash: bytes, depth: int) -> int:
    return (key_hash[depth >> 3] >> (7 - (depth & 7))) & 1


def leaf_node(key_hash: bytes, value_hash: bytes) -> bytes:
    return b"\x00" + key_hash + value_hash


class _Updater:
    """One batch update: rebuild the paths of the sorted, distinct ``updates`` under ``root``."""

    def __init__(self, get_node: NodeGetter, updates: Sequence[tuple[bytes, bytes | None]]) -> None:
        self.get_node = get_node
        self.updates = updates
        self.new_nodes: dict[bytes, bytes] = {}

    def load(self, node_hash: bytes) -> bytes:
        node = self.new_nodes.get(node_hash)
        if node is None:
            node = self.get_node(node_hash)
            if node is None:
                raise InvariantViolation(f"SMT node {node_hash.hex()} is missing from the store")
        return node

    def store(self, node: bytes) -> bytes:
        node_hash = sha256(node)
        self.new_nodes[node_hash] = node
        return node_hash

    def is_leaf(self, node_hash: bytes) -> bool:
        return node_hash != EMPTY and self.load(node_hash)[0] == LEAF

    def combine(self, left: bytes, right: bytes) -> bytes:
        if left == EMPTY and (right == EMPTY or self.is_leaf(right)):
            return right
        if right == EMPTY and self.is_leaf(left):
            return left
        return self.store(b"\x01" + left + right)

    def split(self, lo: int, hi: int, depth: int) -> int:
        """First index in [lo, hi) whose key has bit ``depth`` set (the range shares the prefix)."""
        updates = self.updates
        while lo < hi:
            mid = (lo + hi) // 2
            if _bit(updates[mid][0], depth):
                hi = mid
            else:
                lo = mid + 1
        return lo

    def build(self, depth: int, leaves: list[tuple[bytes, bytes]]) -> bytes:
        if not leaves:
            return EMPTY
        if len(leaves) == 1:
            return self.store(leaf_node(*leaves[0]))
        if depth >= KEY_BITS:
            raise InvariantViolation("two SMT leaves share a full 256-bit key hash")
        mid = 0
        while mid < len(leaves) and not _bit(leaves[mid][0], depth):
            mid += 1
        return self.combine(self.build(depth + 1, leaves[:mid]), self.build(depth + 1, leaves[mid:]))

    def update(self, node_hash: bytes, depth: int, lo: int, hi: int) -> bytes:
        if lo == hi:
            return node_hash
        if node_hash == EMPTY:
            return self.build(depth, [(k, v) for k, v in self.updates[lo:hi] if v is not None])
        node = self.load(node_hash)
        if node[0] == LEAF:
            old_key = node[1:33]
            leaves = [(k, v) for k, v in self.updates[lo:hi] if v is not None]
            if all(k != old_key for k, _ in self.updates[lo:hi]):
                leaves.append((old_key, node[33:65]))
                leaves.sort()
            return self.build(depth, leaves)
        mid = self.split(lo, hi, depth)
        left = self.update(node[1:33], depth + 1, lo, mid)
        right = self.update(node[33:65], depth + 1, mid, hi)
        return self.combine(left, right)


def apply_updates(get_node: NodeGetter, root: bytes,
                  updates: dict[bytes, bytes | None]) -> tuple[bytes, dict[bytes, bytes]]:
    """Apply ``{key_hash: value_hash or None (delete)}`` to the tree at ``root``.

    Returns the new root and the nodes created (hash → encoding). Nodes that end up unreachable are
    simply not referenced any more (content addressing makes them harmless to keep).
    """
    ordered = sorted(updates.items())
    updater = _Updater(get_node, ordered)
    new_root = updater.update(root, 0, 0, len(ordered))
    return new_root, updater.new_nodes


@dataclass(frozen=True, slots=True)
class SmtProof:
    """Siblings from the root down, and the terminal leaf ``(key_hash, value_hash)`` or None (EMPTY)."""

    siblings: tuple[bytes, ...]
    leaf: tuple[bytes, bytes] | None

    def encode(self) -> bytes:
        depth = len(self.siblings)
        bitmap = bytearray((depth + 7) // 8)
        present = []
        for i, sibling in enumerate(self.siblings):
            if sibling != EMPTY:
                bitmap[i // 8] |= 0x80 >> (i % 8)
                present.append(sibling)
        terminal = b"\x00" if self.leaf is None else b"\x01" + self.leaf[0] + self.leaf[1]
        return u8(PROOF_VERSION) + u16(depth) + bytes(bitmap) + b"".join(present) + terminal

    @classmethod
    def decode(cls, data: bytes) -> SmtProof:
        reader = Reader(data, "SMT proof")
        if reader.u8() != PROOF_VERSION:
            raise InvalidEncoding("unsupported SMT proof version")
        depth = reader.u16()
        if depth > KEY_BITS:
            raise InvalidEncoding("SMT proof is deeper than 256 levels")
        bitmap = reader.take((depth + 7) // 8)
        siblings = tuple(reader.take(32) if bitmap[i // 8] & (0x80 >> (i % 8)) else EMPTY
                         for i in range(depth))
        kind = reader.u8()
        if kind not in (0, 1):
            raise InvalidEncoding("SMT proof terminal kind must be 0 or 1")
        leaf = (reader.take(32), reader.take(32)) if kind == 1 else None
        reader.done()
        return cls(siblings, leaf)

    def to_json(self) -> dict[str, Any]:
        return {
            "siblings": [s.hex() for s in self.siblings],
            "leaf": None if self.leaf is None else {"keyHash": self.leaf[0].hex(),
                                                     "valueHash": self.leaf[1].hex()},
        }


def prove(get_node: NodeGetter, root: bytes, key_hash: bytes) -> SmtProof:
    """Inclusion or non-inclusion proof for ``key_hash`` in the tree at ``root``."""
    siblings: list[bytes] = []
    node_hash = root
    depth = 0
    while node_hash != EMPTY:
        node = get_node(node_hash)
        if node is None:
            raise InvariantViolation(f"SMT node {node_hash.hex()} is missing from the store")
        if node[0] == LEAF:
            return SmtProof(tuple(siblings), (node[1:33], node[33:65]))
        left, right = node[1:33], node[33:65]
        if _bit(key_hash, depth):
            siblings.append(left)
            node_hash = right
        else:
            siblings.append(right)
            node_hash = left
        depth += 1
    return SmtProof(tuple(siblings), None)


def verify_proof(root: bytes, key_hash: bytes, value_hash: bytes | None, proof: SmtProof) -> bool:
    """True when ``proof`` shows ``key_hash ↦ value_hash`` (or absence when None) under ``root``."""
    depth = len(proof.siblings)
    if len(key_hash) != 32 or depth > KEY_BITS:
        return False
    if value_hash is not None:
        if proof.leaf is None or proof.leaf != (key_hash, value_hash):
            return False
    elif proof.leaf is not None:
        other = proof.leaf[0]
        if other == key_hash or any(_bit(other, i) != _bit(key_hash, i) for i in range(depth)):
            return False
    node = EMPTY if proof.leaf is None else sha256(leaf_node(*proof.leaf))
    for i in range(depth - 1, -1, -1):
        sibling = proof.siblings[i]
        node = sha256(b"\x01" + sibling + node) if _bit(key_hash, i) else sha256(b"\x01" + node + sibling)
    return node == root
