"""The memoized block tree gives exactly the ledger's RFC 9162 roots and inclusion proofs."""

from __future__ import annotations

import pytest

from ledgr.crypto import sha256
from ledgr.ledger.merkle import inclusion_proof, merkle_root, verify_inclusion
from ledgr.node.txtree import TxTree


@pytest.mark.parametrize("size", [1, 2, 3, 5, 7, 8, 13, 64, 100])
def test_proofs_and_root_match_the_ledger(size: int) -> None:
    leaves = [sha256(bytes([i % 256, i // 256])) for i in range(size)]
    tree = TxTree(leaves)
    assert tree.root() == merkle_root(leaves)
    for index in range(size):
        proof = tree.proof(index)
        assert proof == inclusion_proof(leaves, index)
        assert verify_inclusion(leaves[index], index, size, proof, tree.root())
