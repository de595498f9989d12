"""RFC 6962 Merkle tree: root against the recursive definition, inclusion proofs, tampering."""

from __future__ import annotations

import hashlib

import pytest

from ledgr.errors import InvalidInput
from ledgr.ledger.merkle import inclusion_proof, merkle_root, verify_inclusion


def sha(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def mth(leaves: list[bytes]) -> bytes:
    """RFC 9162 §2.1.1 written recursively, independently of the module's iterative version."""
    n = len(leaves)
    if n == 0:
        return sha(b"")
    if n == 1:
        return sha(b"\x00" + leaves[0])
    k = 1 << ((n - 1).bit_length() - 1)
    return sha(b"\x01" + mth(leaves[:k]) + mth(leaves[k:]))


def test_empty_root_is_sha256_of_nothing() -> None:
    assert merkle_root([]).hex() == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"


@pytest.mark.parametrize("n", [1, 2, 3, 4, 5, 7, 8, 9, 16, 17, 100])
def test_root_and_every_inclusion_proof(n: int) -> None:
    leaves = [sha(b"op%d" % i) for i in range(n)]
    root = merkle_root(leaves)
    assert root == mth(leaves)
    for i in range(n):
        proof = inclusion_proof(leaves, i)
        assert verify_inclusion(leaves[i], i, n, proof, root)
        assert not verify_inclusion(sha(b"forged"), i, n, proof, root)
        if n > 1:
            assert not verify_inclusion(leaves[i], (i + 1) % n, n, proof, root)
            assert not verify_inclusion(leaves[i], i, n, proof[:-1], root)


def test_out_of_range_index() -> None:
    with pytest.raises(InvalidInput):
        inclusion_proof([b"a"], 1)
    assert not verify_inclusion(b"a", 1, 1, [], merkle_root([b"a"]))
