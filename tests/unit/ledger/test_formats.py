"""Header, block and QC formats: exact bytes, round trips, hashes, and QC verification."""

from __future__ import annotations

import dataclasses
import hashlib

import pytest

from ledgr.errors import InvalidEncoding, InvalidInput, TooLarge, VerificationFailed
from ledgr.ledger.formats import Block, Header, QuorumCertificate, precommit_sign_bytes, tx_root, verify_qc
from tests.unit.ledger.chain import CHAIN_ID, key, validator_set


def make_header(**changes: object) -> Header:
    vset, nodes, _ = validator_set(3)
    fields: dict[str, object] = dict(
        chain_id=CHAIN_ID, height=7, time_ms=1_764_000_000_123, prev_hash=b"\x01" * 32,
        tx_root=tx_root([]), app_root=b"\x02" * 32, validators_hash=vset.hash(),
        next_validators_hash=vset.hash(), proposer=nodes[0].public_key.raw)
    fields.update(changes)
    return Header(**fields)  # type: ignore[arg-type]


# Produced by ledgr.consensus.signbytes (branch consensus, commit 807e94d) for the same inputs:
# the ledger's QC verifier must check exactly the bytes the consensus core signs.
CONSENSUS_PRECOMMIT_VECTOR = (
    "6c656467722f636f6e73656e7375732f7369676e2f763100030a6c656467722d74657374000000000000000500000000"
    "0000000201000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f")
CONSENSUS_NIL_PRECOMMIT_VECTOR = (
    "6c656467722f636f6e73656e7375732f7369676e2f763100030a6c656467722d74657374000000000000000700000000"
    "0000000000")


def test_precommit_sign_bytes_match_consensus_core() -> None:
    assert precommit_sign_bytes(CHAIN_ID, 5, 2, bytes(range(32))).hex() == CONSENSUS_PRECOMMIT_VECTOR
    assert precommit_sign_bytes(CHAIN_ID, 7, 0, None).hex() == CONSENSUS_NIL_PRECOMMIT_VECTOR
    with pytest.raises(InvalidInput):
        precommit_sign_bytes(CHAIN_ID, 1, -1, None)


def test_header_layout_and_hash() -> None:
    header = make_header()
    raw = header.encode()
    assert raw[0] == 1 and raw[1] == len(CHAIN_ID)
    assert len(raw) == 1 + 1 + len(CHAIN_ID) + 8 + 8 + 6 * 32
    assert header.hash() == hashlib.sha256(b"ledgr/header/v1\x00" + raw).digest()
    assert Header.decode(raw) == header


@pytest.mark.parametrize("field", ["height", "time_ms", "prev_hash", "tx_root", "app_root",
                                   "validators_hash", "next_validators_hash", "proposer", "chain_id"])
def test_every_header_field_changes_the_hash(field: str) -> None:
    header = make_header()
    value = getattr(header, field)
    if isinstance(value, int):
        changed = value + 1
    elif isinstance(value, bytes):
        changed = bytes([value[0] ^ 1]) + value[1:]
    else:
        changed = value + "x"
    assert dataclasses.replace(header, **{field: changed}).hash() != header.hash()


def test_header_rejects_bad_fields() -> None:
    with pytest.raises(InvalidInput):
        make_header(chain_id="Bad Chain")
    with pytest.raises(InvalidInput):
        make_header(app_root=b"short")
    with pytest.raises(InvalidInput):
        make_header(height=-1)
    with pytest.raises(InvalidEncoding):
        Header.decode(make_header().encode() + b"\x00")
    with pytest.raises(InvalidEncoding):
        Header.decode(make_header().encode()[:-1])
    with pytest.raises(InvalidEncoding):
        Header.decode(b"\x02" + make_header().encode()[1:])


def test_block_round_trip_and_tx_root() -> None:
    ops = (b"op-one", b"op-two", b"")
    header = make_header(tx_root=tx_root(ops))
    block = Block(header, ops)
    decoded = Block.decode(block.encode())
    assert decoded == block
    assert decoded.computed_tx_root() == header.tx_root
    assert block.hash() == header.hash()
    with pytest.raises(InvalidEncoding):
        Block.decode(block.encode() + b"x")


def test_block_limits() -> None:
    with pytest.raises(TooLarge):
        Block(make_header(), (b"x" * (300 * 1024 + 1),))
    with pytest.raises(TooLarge):
        Block(make_header(), tuple(b"x" for _ in range(2001)))


def signed_qc(header: Header, signers: list[int], round_: int = 0) -> QuorumCertificate:
    vset, nodes, _ = validator_set(3)
    message = precommit_sign_bytes(header.chain_id, header.height, round_, header.hash())
    votes = {i: nodes[i].sign(message) for i in signers}
    return QuorumCertificate.from_votes(header.height, round_, header.hash(), vset.size, votes)


def test_qc_round_trip_and_verification() -> None:
    vset, _, _ = validator_set(3)
    header = make_header()
    qc = signed_qc(header, [0, 2], round_=3)
    assert qc.signer_indexes() == [0, 2]
    assert qc.signer_bitmap == b"\xa0"
    assert QuorumCertificate.decode(qc.encode()) == qc
    assert len(qc.encode()) == 1 + 8 + 4 + 32 + 1 + 1 + 2 * 64
    verify_qc(qc, header, vset)


def test_qc_negative_cases() -> None:
    vset, nodes, _ = validator_set(3)
    header = make_header()
    with pytest.raises(VerificationFailed, match="quorum"):
        verify_qc(signed_qc(header, [1]), header, vset)
    other = make_header(height=8)
    with pytest.raises(VerificationFailed, match="different block"):
        verify_qc(signed_qc(other, [0, 1]), header, vset)
    wrong_set, _, _ = validator_set(3, prefix="w")
    with pytest.raises(VerificationFailed, match="validators_hash"):
        verify_qc(signed_qc(header, [0, 1]), header, wrong_set)
    good = signed_qc(header, [0, 1])
    forged = dataclasses.replace(good, signatures=(good.signatures[0], key("intruder").sign(b"x")))
    with pytest.raises(VerificationFailed, match="validator 1"):
        verify_qc(forged, header, vset)
    # a signature over another round does not count for this one
    message = precommit_sign_bytes(header.chain_id, header.height, 1, header.hash())
    mixed = QuorumCertificate.from_votes(header.height, 0, header.hash(), 3,
                                         {0: nodes[0].sign(message), 1: nodes[1].sign(message)})
    with pytest.raises(VerificationFailed):
        verify_qc(mixed, header, vset)


def test_qc_structure_rules() -> None:
    header = make_header()
    qc = signed_qc(header, [0, 1])
    with pytest.raises(InvalidInput):
        QuorumCertificate(qc.height, qc.round, qc.block_hash, 3, b"\xe1", qc.signatures)
    with pytest.raises(InvalidInput):
        QuorumCertificate(qc.height, qc.round, qc.block_hash, 3, b"\xe0", qc.signatures)
    with pytest.raises(InvalidEncoding):
        QuorumCertificate.decode(qc.encode()[:-1])
    with pytest.raises(InvalidInput):
        QuorumCertificate.from_votes(1, 0, header.hash(), 3, {3: b"\x00" * 64})


def test_strict_mode_needs_all_three() -> None:
    vset, nodes, _ = validator_set(3, mode="strict")
    assert vset.quorum == 3
    header = make_header(validators_hash=vset.hash())
    message = precommit_sign_bytes(header.chain_id, header.height, 0, header.hash())
    two = QuorumCertificate.from_votes(header.height, 0, header.hash(), 3,
                                       {i: nodes[i].sign(message) for i in (0, 1)})
    with pytest.raises(VerificationFailed):
        verify_qc(two, header, vset)
    three = QuorumCertificate.from_votes(header.height, 0, header.hash(), 3,
                                         {i: nodes[i].sign(message) for i in (0, 1, 2)})
    verify_qc(three, header, vset)


@pytest.mark.parametrize(("n", "q_bft", "q_strict"), [(1, 1, 1), (3, 2, 3), (4, 3, 3), (5, 4, 4),
                                                       (6, 4, 5), (7, 5, 5)])
def test_quorum_table(n: int, q_bft: int, q_strict: int) -> None:
    assert validator_set(n)[0].quorum == q_bft
    assert validator_set(n, mode="strict")[0].quorum == q_strict
