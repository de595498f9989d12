"""Double-sign guard decisions with real signed votes, and the signer/verifier bridge whose
precommits the ledger's QC verifier accepts."""

from __future__ import annotations

import pytest

from ledgr.consensus.codec import encode_message
from ledgr.consensus.messages import Vote, VoteType
from ledgr.consensus.qc import build_qc
from ledgr.consensus.signing import Ed25519Signer, Ed25519Verifier
from ledgr.consensus.state import DurableState, SignKind, encode_state
from ledgr.crypto import PrivateKey
from ledgr.errors import ConfigError
from ledgr.ledger.formats import Header, verify_qc
from ledgr.ledger.validators import Validator, ValidatorSet
from ledgr.node.bridge import core_qc, core_validators, ledger_qc
from ledgr.node.guard import DoubleSignGuard

CHAIN = "guard-test"
KEY = PrivateKey.from_seed(b"\x01" * 32)


def signed_vote(key: PrivateKey, height: int, round_: int, kind: VoteType = VoteType.PRECOMMIT,
                value: bytes | None = b"\x07" * 32) -> bytes:
    vote = Vote(kind, height, round_, value, -1, 0)
    return encode_message(vote.signed(Ed25519Signer(key).sign_vote(CHAIN, vote)))


def state(height: int, round_: int, kind: SignKind) -> bytes:
    return encode_state(DurableState(height=height, round=round_, signed_height=height, signed_round=round_,
                                     signed_kind=kind))


def test_a_record_older_than_a_vote_peers_hold_refuses_to_start() -> None:
    guard = DoubleSignGuard(CHAIN, KEY.public_key, state(10, 0, SignKind.PREVOTE))
    guard.observe(signed_vote(KEY, 12, 1))
    with pytest.raises(ConfigError, match="double-sign guard"):
        guard.check(committed_height=10)


def test_votes_at_heights_already_committed_do_not_stop_a_node() -> None:
    """E.g. a wiped node that synced past its old votes, was killed and restarted."""
    guard = DoubleSignGuard(CHAIN, KEY.public_key, state(0, 0, SignKind.NONE))
    guard.observe(signed_vote(KEY, 12, 1))
    guard.check(committed_height=12)
    with pytest.raises(ConfigError):
        guard.check(committed_height=11)


def test_an_up_to_date_record_starts() -> None:
    guard = DoubleSignGuard(CHAIN, KEY.public_key, state(12, 1, SignKind.PRECOMMIT))
    guard.observe(signed_vote(KEY, 12, 1))
    guard.observe(signed_vote(KEY, 12, 0, VoteType.PREVOTE))
    guard.check(committed_height=11)
    assert guard.must_sync_past == 0


def test_a_forged_vote_from_a_lying_peer_is_ignored() -> None:
    guard = DoubleSignGuard(CHAIN, KEY.public_key, state(3, 0, SignKind.PRECOMMIT))
    guard.observe(signed_vote(PrivateKey.from_seed(b"\x02" * 32), 50, 0))
    guard.observe(b"\x00garbage")
    guard.check(committed_height=3)


def test_a_node_without_record_must_sync_past_its_last_seen_vote() -> None:
    guard = DoubleSignGuard(CHAIN, KEY.public_key, None)
    guard.observe(signed_vote(KEY, 7, 2))
    guard.observe(signed_vote(KEY, 5, 0))
    guard.check(committed_height=0)
    assert guard.must_sync_past == 7


def test_core_precommits_form_a_qc_the_ledger_verifies() -> None:
    keys = [PrivateKey.from_seed(bytes([i + 1]) * 32) for i in range(3)]
    admins = [PrivateKey.from_seed(bytes([i + 9]) * 32) for i in range(3)]
    vset = ValidatorSet(tuple(Validator(f"v{i}", k.public_key, a.public_key)
                              for i, (k, a) in enumerate(zip(keys, admins, strict=True))))
    header = Header(chain_id=CHAIN, height=4, time_ms=5, prev_hash=b"\x01" * 32, tx_root=b"\x02" * 32,
                    app_root=b"\x03" * 32, validators_hash=vset.hash(), next_validators_hash=vset.hash(),
                    proposer=keys[0].public_key.raw)
    block_hash = header.hash()
    votes = []
    for index in (0, 2):
        vote = Vote(VoteType.PRECOMMIT, 4, 1, block_hash, -1, index)
        votes.append(vote.signed(Ed25519Signer(keys[index]).sign_vote(CHAIN, vote)))
        assert Ed25519Verifier().verify_vote(CHAIN, votes[-1], keys[index].public_key)
    qc = ledger_qc(build_qc(votes), 3)
    verify_qc(qc, header, vset)
    assert core_qc(qc).signers == (0, 2)
    assert core_validators(vset).q == 2


@pytest.mark.parametrize("kind,value,valid_round", [
    (VoteType.PRECOMMIT, b"\x05" * 32, -1), (VoteType.PRECOMMIT, None, -1),
    (VoteType.PREVOTE, b"\x05" * 32, 2), (VoteType.PREVOTE, None, -1)])
def test_ledger_vote_sign_bytes_mirror_the_core(kind: VoteType, value: bytes | None,
                                                valid_round: int) -> None:
    from ledgr.consensus.signbytes import vote_sign_bytes as core_bytes
    from ledgr.ledger.formats import vote_sign_bytes as ledger_bytes
    assert ledger_bytes(CHAIN, int(kind), 9, 3, value, valid_round) == core_bytes(CHAIN, kind, 9, 3, value,
                                                                                 valid_round)


def test_core_evidence_becomes_an_operation_the_ledger_accepts() -> None:
    from ledgr.consensus.evidence import make_evidence
    from ledgr.node.bridge import evidence_operation, submittable
    from tests.unit.ledger.chain import CHAIN_ID, Chain
    chain = Chain.start()
    chain.commit([])
    culprit = chain.node_keys[2]
    votes = [Vote(VoteType.PRECOMMIT, 1, 0, value, -1, 2) for value in (b"\x0a" * 32, None)]
    signed = [v.signed(Ed25519Signer(culprit).sign_vote(CHAIN_ID, v)) for v in votes]
    evidence = make_evidence(CHAIN_ID, culprit.public_key, *signed)
    assert evidence is not None and submittable(evidence)
    envelope = evidence_operation(evidence, chain.node_keys[0], valid_until_height=50)
    assert chain.check(envelope) is None
    chain.accept(envelope)
    again = evidence_operation(evidence, chain.node_keys[1], valid_until_height=51)
    assert chain.check(again) == "evidence-exists"
    # prevotes that differ only in valid_round are evidence for the core, but not for the ledger
    prevotes = [Vote(VoteType.PREVOTE, 2, 3, b"\x0a" * 32, r, 2) for r in (0, 1)]
    signed = [v.signed(Ed25519Signer(culprit).sign_vote(CHAIN_ID, v)) for v in prevotes]
    other = make_evidence(CHAIN_ID, culprit.public_key, *signed)
    assert other is not None and not submittable(other)
    # amnesia: precommit(A, r0) then prevote(B, r1) relying on no polka; the ledger takes it too
    pair = [Vote(VoteType.PRECOMMIT, 2, 0, b"\x0a" * 32, -1, 2),
            Vote(VoteType.PREVOTE, 2, 1, b"\x0b" * 32, -1, 2)]
    signed = [v.signed(Ed25519Signer(culprit).sign_vote(CHAIN_ID, v)) for v in pair]
    amnesia = make_evidence(CHAIN_ID, culprit.public_key, *signed)
    assert amnesia is not None and amnesia.kind.name == "AMNESIA" and submittable(amnesia)
    chain.commit([])
    chain.accept(evidence_operation(amnesia, chain.node_keys[0], valid_until_height=50))
