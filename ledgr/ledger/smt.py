"""Binary sparse Merkle tree over ``sha256(key)`` with single-leaf subtrees collapsed (Jellyfish-style).

Canonical form (so the root depends only on the set of leaves, never on the order of updates): a
subtree with no leaf is EMPTY (32 zero bytes, never stored), a subtree with one leaf *is* that leaf
node wherever it sits, and any larger subtree is an internal node over its two halves at the next bit
of the key hash (consensus.md §2.3, after the Jellyfish Merkle tree design).

Node hashes: ``sha256(0x00 ‖ key_hash ‖ value_hash)`` for a leaf (value_hash = sha256(value)) and
``sha256(0x01 ‖ left ‖ right)`` for an internal node; the leading byte separates the two. Updates are
applied in batches (one per block): the touched paths are rebuilt once and the new storage pages
(four levels each, :mod:`ledgr.ledger.smt_pages`) returned for the store to persist in the same
transaction; nothing is overwritten.

Proofs list the siblings from the root down to the node where the key's path ends, plus that
terminal: the key's own leaf (inclusion), another leaf sharing the path prefix, or EMPTY
(both non-inclusion).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ledgr.crypto import sha256
from ledgr.errors import InvalidEncoding
from ledgr.ledger.codec import Reader, u8, u16
from ledgr.ledger.smt_pages import (
    EMPTY,
    KEY_BITS,
    Leaf,
    Node,
    NodeGetter,
    Ref,
    Updater,
    hash_of,
    load_page,
    pages_of,
)

__all__ = ["EMPTY", "SmtProof", "apply_updates", "leaf_node", "prove", "verify_proof"]
PROOF_VERSION = 1


def _bit(key_hash: bytes, depth: int) -> int:
    return (key_hash[depth >> 3] >> (7 - (depth & 7))) & 1


def leaf_node(key_hash: bytes, value_hash: bytes) -> bytes:
    """The hashed encoding of a leaf: its node hash is ``sha256(leaf_node(...))``."""
    return b"\x00" + key_hash + value_hash


def apply_updates(get_node: NodeGetter, root: bytes,
                  updates: dict[bytes, bytes | None]) -> tuple[bytes, dict[bytes, bytes]]:
    """Apply ``{key_hash: value_hash or None (delete)}`` to the tree at ``root``.

    Returns the new root and the pages created (key → page bytes, see :mod:`smt_pages`). Pages that
    end up unreachable are simply not referenced any more.
    """
    ordered = sorted(updates.items())
    start: Node = None if root == EMPTY else Ref(root)
    new_root = Updater(get_node, ordered).update(start, 0, 0, len(ordered))
    return hash_of(new_root), pages_of(new_root)


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
    node: Node = None if root == EMPTY else Ref(root)
    depth = 0
    while True:
        current = load_page(get_node, node.hash) if isinstance(node, Ref) else node
        if current is None:
            return SmtProof(tuple(siblings), None)
        if isinstance(current, Leaf):
            return SmtProof(tuple(siblings), (current.key, current.value))
        if _bit(key_hash, depth):
            siblings.append(hash_of(current.left))
            node = current.right
        else:
            siblings.append(hash_of(current.right))
            node = current.left
        depth += 1


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
