"""RFC 9162 §2.1 Merkle tree of one block's operation hashes, with memoized subtree hashes.

``ledgr.ledger.merkle`` defines the tree (and verifies proofs); answering ``GET /v1/operations`` for
every operation of a 1,000-operation block with its stateless ``inclusion_proof`` would rebuild
subtrees for each answer (O(n²) hashing per block). This keeps ``MTH(D[a:b])`` of every subtree it
has computed, so all proofs of one block together cost O(n) hashes. Proofs are identical to the
ledger's (checked by a unit test against ``ledgr.ledger.merkle``).
"""

from __future__ import annotations

from collections.abc import Sequence

from ledgr.crypto import sha256
from ledgr.ledger.merkle import leaf_hash


def _split(n: int) -> int:
    k = 1
    while k * 2 < n:
        k *= 2
    return k


class TxTree:
    def __init__(self, leaves: Sequence[bytes]) -> None:
        self.leaves = list(leaves)
        self._memo: dict[tuple[int, int], bytes] = {}

    def subtree(self, lo: int, hi: int) -> bytes:
        """MTH(D[lo:hi]) for a non-empty range."""
        key = (lo, hi)
        found = self._memo.get(key)
        if found is not None:
            return found
        if hi - lo == 1:
            value = leaf_hash(self.leaves[lo])
        else:
            k = _split(hi - lo)
            value = sha256(b"\x01" + self.subtree(lo, lo + k) + self.subtree(lo + k, hi))
        self._memo[key] = value
        return value

    def root(self) -> bytes:
        return self.subtree(0, len(self.leaves)) if self.leaves else sha256(b"")

    def proof(self, index: int) -> list[bytes]:
        """PATH(index, D[n]) as in RFC 9162 §2.1.3.1 (siblings from the leaf up)."""
        path: list[bytes] = []
        lo, hi = 0, len(self.leaves)
        while hi - lo > 1:
            k = _split(hi - lo)
            if index < lo + k:
                path.append(self.subtree(lo + k, hi))
                hi = lo + k
            else:
                path.append(self.subtree(lo, lo + k))
                lo = lo + k
        path.reverse()
        return path
