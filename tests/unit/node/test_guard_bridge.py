"""Double-sign guard decisions with real signed votes, and the signer/verifier bridge whose
precommits the ledger's QC verifier accepts."""

from __future__ import annotations

import pytest

from ledgr.consensus.codec import encode_message
from ledgr.consensus.messages import Vote, VoteType
from ledgr.consensus.qc import build_qc
from ledgr.consensus.state import DurableState, SignKind, encode_state
from ledgr.crypto import PrivateKey
from ledgr.errors import ConfigError
from ledgr.ledger.formats import Header, verify_qc
from ledgr.ledger.validators import Validator, ValidatorSet
from ledgr.node.bridge import NodeSigner, NodeVerifier, core_qc, core_validators, ledger_qc
from ledgr.node.guard import DoubleSignGuard

CHAIN = "guard-test"
KEY = PrivateKey.from_seed(b"\x01" * 32)


def signed_vote(key: PrivateKey, height: int, round_: int, kind: VoteType = VoteType.PRECOMMIT,
                value: bytes | None = b"\x07" * 32) -> bytes:
    vote = Vote(kind, height, round_, value, -1, 0)
    return encode_message(vote.signed(NodeSigner(key).sign_vote(CHAIN, vote)))


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
        votes.append(vote.signed(NodeSigner(keys[index]).sign_vote(CHAIN, vote)))
        assert NodeVerifier().verify_vote(CHAIN, votes[-1], keys[index].public_key)
    qc = ledger_qc(build_qc(votes), 3)
    verify_qc(qc, header, vset)
    assert core_qc(qc).signers == (0, 2)
    assert core_validators(vset).q == 2
