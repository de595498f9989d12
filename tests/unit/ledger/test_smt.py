"""Sparse Merkle tree: canonical roots, batch updates, inclusion and non-inclusion proofs."""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ledgr.errors import InvalidEncoding
from ledgr.ledger.smt import EMPTY, SmtProof, apply_updates, leaf_node, prove, verify_proof


def h(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


class Tree:
    def __init__(self) -> None:
        self.nodes: dict[bytes, bytes] = {}
        self.root = EMPTY

    def update(self, updates: dict[bytes, bytes | None]) -> None:
        self.root, new = apply_updates(self.nodes.get, self.root, updates)
        self.nodes.update(new)

    def proof(self, key_hash: bytes) -> SmtProof:
        return prove(self.nodes.get, self.root, key_hash)


def reference_root(leaves: dict[bytes, bytes], depth: int = 0) -> bytes:
    """Independent recursive definition of the canonical root (0 leaves EMPTY, 1 leaf the leaf)."""
    if not leaves:
        return EMPTY
    if len(leaves) == 1:
        ((k, v),) = leaves.items()
        return h(leaf_node(k, v))
    left = {k: v for k, v in leaves.items() if not (k[depth // 8] >> (7 - depth % 8)) & 1}
    right = {k: v for k, v in leaves.items() if (k[depth // 8] >> (7 - depth % 8)) & 1}
    return h(b"\x01" + reference_root(left, depth + 1) + reference_root(right, depth + 1))


def test_empty_tree_root_and_absence_proof() -> None:
    tree = Tree()
    assert tree.root == EMPTY
    proof = tree.proof(h(b"k"))
    assert proof.siblings == () and proof.leaf is None
    assert verify_proof(EMPTY, h(b"k"), None, proof)
    assert not verify_proof(EMPTY, h(b"k"), h(b"v"), proof)


def test_single_leaf_is_the_root() -> None:
    tree = Tree()
    tree.update({h(b"k"): h(b"v")})
    assert tree.root == h(leaf_node(h(b"k"), h(b"v")))


def test_roots_match_reference_definition() -> None:
    tree = Tree()
    leaves = {h(bytes([i])): h(b"value%d" % i) for i in range(50)}
    tree.update(leaves)
    assert tree.root == reference_root(leaves)


def test_delete_restores_previous_root() -> None:
    tree = Tree()
    tree.update({h(bytes([i])): h(b"x") for i in range(10)})
    before = tree.root
    tree.update({h(b"extra"): h(b"y")})
    assert tree.root != before
    tree.update({h(b"extra"): None})
    assert tree.root == before


def test_delete_everything_gives_empty() -> None:
    tree = Tree()
    keys = [h(bytes([i])) for i in range(7)]
    tree.update(dict.fromkeys(keys, h(b"x")))
    tree.update(dict.fromkeys(keys))
    assert tree.root == EMPTY


def test_deleting_absent_key_changes_nothing() -> None:
    tree = Tree()
    tree.update({h(b"a"): h(b"1"), h(b"b"): h(b"2")})
    before = tree.root
    tree.update({h(b"zzz"): None})
    assert tree.root == before


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 40), st.one_of(st.none(), st.integers(0, 5))), max_size=80),
       st.integers(1, 9))
def test_batching_does_not_change_roots(ops: list[tuple[int, int | None]], batch: int) -> None:
    one_by_one, batched = Tree(), Tree()
    model: dict[bytes, bytes] = {}
    pending: dict[bytes, bytes | None] = {}
    for i, (k, v) in enumerate(ops):
        key_hash, value_hash = h(b"key%d" % k), None if v is None else h(b"val%d" % v)
        one_by_one.update({key_hash: value_hash})
        pending[key_hash] = value_hash
        if value_hash is None:
            model.pop(key_hash, None)
        else:
            model[key_hash] = value_hash
        if (i + 1) % batch == 0:
            batched.update(pending)
            pending = {}
    batched.update(pending)
    assert one_by_one.root == batched.root == reference_root(model)
    for k in range(41):
        key_hash = h(b"key%d" % k)
        proof = batched.proof(key_hash)
        assert verify_proof(batched.root, key_hash, model.get(key_hash), proof)
        wrong = h(b"tampered") if key_hash in model else h(b"val0")
        assert not verify_proof(batched.root, key_hash, wrong, proof)


def test_inclusion_and_non_inclusion_proofs_and_tampering() -> None:
    tree = Tree()
    present = {h(b"p%d" % i): h(b"v%d" % i) for i in range(200)}
    tree.update(present)
    for key_hash, value_hash in list(present.items())[:50]:
        proof = tree.proof(key_hash)
        assert verify_proof(tree.root, key_hash, value_hash, proof)
        assert not verify_proof(tree.root, key_hash, h(b"other"), proof)
        assert not verify_proof(tree.root, key_hash, None, proof)
        if proof.siblings:
            bad = (h(b"x"), *proof.siblings[1:])
            assert not verify_proof(tree.root, key_hash, value_hash, SmtProof(bad, proof.leaf))
    for i in range(50):
        absent = h(b"absent%d" % i)
        proof = tree.proof(absent)
        assert verify_proof(tree.root, absent, None, proof)
        assert not verify_proof(tree.root, absent, h(b"v0"), proof)


def test_non_inclusion_cannot_reuse_a_leaf_off_the_path() -> None:
    tree = Tree()
    present = {h(b"p%d" % i): h(b"v") for i in range(20)}
    tree.update(present)
    some_key = next(iter(present))
    proof = tree.proof(some_key)
    # claim a key that diverges from some_key at the first bit is absent using some_key's leaf
    other = bytes([some_key[0] ^ 0x80]) + some_key[1:]
    assert not verify_proof(tree.root, other, None, proof)
    # and the key itself cannot be proven absent with its own leaf
    assert not verify_proof(tree.root, some_key, None, proof)


def test_proof_encoding_round_trip() -> None:
    tree = Tree()
    tree.update({h(b"p%d" % i): h(b"v%d" % i) for i in range(64)})
    for key_hash in (h(b"p3"), h(b"missing")):
        proof = tree.proof(key_hash)
        assert SmtProof.decode(proof.encode()) == proof
        assert proof.to_json()["siblings"] == [s.hex() for s in proof.siblings]


@pytest.mark.parametrize("data", [b"", b"\x02", b"\x01\x00", b"\x01\x00\x00\x02", b"\x01\x00\x00\x00\xff"])
def test_malformed_proofs_rejected(data: bytes) -> None:
    with pytest.raises(InvalidEncoding):
        SmtProof.decode(data)


def test_missing_node_is_an_invariant_violation() -> None:
    from ledgr.errors import InvariantViolation
    tree = Tree()
    tree.update({h(b"a"): h(b"1"), h(b"b"): h(b"2")})
    with pytest.raises(InvariantViolation):
        apply_updates(lambda _h: None, tree.root, {h(b"c"): h(b"3")})


def test_storage_pages_cover_four_levels() -> None:
    from ledgr.ledger.smt_pages import PAGE_VERSION, load_page
    tree = Tree()
    leaves = {h(b"page%d" % i): h(b"v") for i in range(1000)}
    tree.update(leaves)
    assert tree.root == reference_root(leaves)
    # stored one record per binary node this would be 999 internal nodes + 1000 leaves
    assert len(tree.nodes) < 1999 / 4
    assert all(page[0] == PAGE_VERSION for page in tree.nodes.values())
    assert tree.root in tree.nodes
    top = load_page(tree.nodes.get, tree.root)
    assert top.hash == tree.root


def test_single_leaf_tree_is_stored_as_a_page() -> None:
    tree = Tree()
    tree.update({h(b"only"): h(b"v")})
    assert list(tree.nodes) == [tree.root]
    proof = tree.proof(h(b"only"))
    assert verify_proof(tree.root, h(b"only"), h(b"v"), proof)


@pytest.mark.parametrize("page", [b"", b"\x01", b"\x02\x05", b"\x02\x02\x00", b"\x02\x00\x00"])
def test_corrupt_pages_are_invariant_violations(page: bytes) -> None:
    from ledgr.errors import InvariantViolation
    from ledgr.ledger.smt_pages import load_page
    with pytest.raises(InvariantViolation):
        load_page({h(page + b"k"): page}.get, h(page + b"k"))


def test_page_cache_stays_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    from ledgr.ledger import smt_pages
    from ledgr.ledger.memo import Memo
    monkeypatch.setattr(smt_pages, "_PAGE_CACHE", Memo(4))
    tree = Tree()
    leaves = {h(b"c%d" % i): h(b"v") for i in range(300)}
    tree.update(leaves)
    for key_hash, value_hash in list(leaves.items())[:100]:
        assert verify_proof(tree.root, key_hash, value_hash, tree.proof(key_hash))
    assert len(smt_pages._PAGE_CACHE) <= 4
