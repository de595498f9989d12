"""``evidence.submit``: every acceptance and rejection rule, with real Ed25519 keys (issue 7)."""

from __future__ import annotations

import dataclasses
import hashlib

from ledgr.crypto.keys import PrivateKey, PublicKey
from ledgr.did.key import did_key_verification_method
from ledgr.ledger.author import evidence_submit, validators_update
from ledgr.ledger.records import decode
from ledgr.ledger.rules_evidence import SignedVote, evidence_id
from ledgr.ledger.rules_validators import approve
from ledgr.ledger.state import evidence_key
from ledgr.ledger.validator_history import HISTORY_KEY
from ledgr.ledger.validators import Validator
from tests.unit.ledger.chain import CHAIN_ID, Chain, key

BLOCK_A = hashlib.sha256(b"block a").digest()
BLOCK_B = hashlib.sha256(b"block b").digest()
OUTSIDER = key("evidence-outsider")


def vote(signer: PrivateKey, height: int, *, value_id: bytes | None = BLOCK_A, round_: int = 0,
         vote_type: str = "precommit", valid_round: int = -1, chain_id: str = CHAIN_ID) -> SignedVote:
    unsigned = SignedVote(vote_type, height, round_, value_id, valid_round, b"")
    return dataclasses.replace(unsigned, signature=signer.sign(unsigned.sign_bytes(chain_id)))


def submit(chain: Chain, accused: PublicKey, votes: list[SignedVote], submitter: int = 0,
           valid_until: int = 1000) -> bytes:
    return evidence_submit(accused, votes, node_key=chain.node_keys[submitter], chain_id=CHAIN_ID,
                           valid_until_height=valid_until)


def started(blocks: int = 2, **params: int) -> Chain:
    chain = Chain.start(params=dict(params))
    for _ in range(blocks):
        chain.commit([])
    return chain


def stored(chain: Chain, accused: PublicKey, height: int, round_: int = 0,
           vote_type: str = "precommit") -> dict[str, object] | None:
    raw = chain.state.get(evidence_key(evidence_id(accused, vote_type, height, round_)))
    return None if raw is None else decode(raw)


def test_equivocating_precommits_are_stored_once() -> None:
    chain = started()
    culprit = chain.node_keys[1]
    pair = [vote(culprit, 2, value_id=BLOCK_A), vote(culprit, 2, value_id=BLOCK_B)]
    envelope = submit(chain, culprit.public_key, pair)
    result = chain.accept(envelope)
    assert result.receipts[0].accepted
    record = stored(chain, culprit.public_key, 2)
    assert record is not None
    assert record["validator"] == culprit.public_key.multikey and record["validator_name"] == "v1"
    assert record["height"] == 2 and record["round"] == 0 and record["vote_type"] == "precommit"
    assert record["submitted_by"] == chain.node_keys[0].public_key.multikey
    assert record["committed_height"] == 3 and record["version_hash"] == hashlib.sha256(envelope).hexdigest()
    # the same pair again (another envelope), the mirrored pair, another submitter: one offence, stored once
    assert chain.check(submit(chain, culprit.public_key, pair, valid_until=999)) == "evidence-exists"
    assert chain.check(submit(chain, culprit.public_key, pair[::-1], submitter=2)) == "evidence-exists"
    third = [vote(culprit, 2, value_id=BLOCK_A), vote(culprit, 2, value_id=None)]
    assert chain.check(submit(chain, culprit.public_key, third)) == "evidence-exists"


def test_stored_pair_does_not_depend_on_submission_order() -> None:
    records = []
    for order in (1, -1):
        chain = started()
        culprit = chain.node_keys[2]
        pair = [vote(culprit, 1, value_id=BLOCK_A), vote(culprit, 1, value_id=BLOCK_B)][::order]
        chain.accept(submit(chain, culprit.public_key, pair))
        record = stored(chain, culprit.public_key, 1)
        assert record is not None
        records.append(record["votes"])
    assert records[0] == records[1]


def test_prevote_for_a_block_and_for_nil_is_equivocation() -> None:
    chain = started()
    culprit = chain.node_keys[0]
    pair = [vote(culprit, 2, round_=1, vote_type="prevote", value_id=BLOCK_A, valid_round=0),
            vote(culprit, 2, round_=1, vote_type="prevote", value_id=None)]
    chain.accept(submit(chain, culprit.public_key, pair, submitter=1))
    assert stored(chain, culprit.public_key, 2, round_=1, vote_type="prevote") is not None


def test_votes_signed_by_two_different_validators_are_not_evidence() -> None:
    chain = started()
    pair = [vote(chain.node_keys[1], 2, value_id=BLOCK_A), vote(chain.node_keys[2], 2, value_id=BLOCK_B)]
    assert chain.check(submit(chain, chain.node_keys[1].public_key, pair)) == "evidence-wrong-signer"


def test_votes_of_different_heights_rounds_or_types_are_not_evidence() -> None:
    chain = started(3)
    culprit = chain.node_keys[1]
    accused = culprit.public_key
    assert chain.check(submit(chain, accused, [vote(culprit, 2, value_id=BLOCK_A),
                                               vote(culprit, 3, value_id=BLOCK_B)])) == "evidence-mismatch"
    assert chain.check(submit(chain, accused, [vote(culprit, 2, value_id=BLOCK_A),
                                               vote(culprit, 2, round_=1, value_id=BLOCK_B)])
                       ) == "evidence-mismatch"
    assert chain.check(submit(chain, accused, [vote(culprit, 2, value_id=BLOCK_A),
                                               vote(culprit, 2, vote_type="prevote", value_id=BLOCK_B)])
                       ) == "evidence-mismatch"


def test_two_votes_for_the_same_block_are_not_evidence() -> None:
    chain = started()
    culprit = chain.node_keys[1]
    same = [vote(culprit, 2, value_id=BLOCK_A), vote(culprit, 2, value_id=BLOCK_A)]
    assert chain.check(submit(chain, culprit.public_key, same)) == "evidence-not-conflicting"
    # a prevote pair differing only in valid_round names the same block: not accepted either
    prevotes = [vote(culprit, 2, round_=2, vote_type="prevote", valid_round=0),
                vote(culprit, 2, round_=2, vote_type="prevote", valid_round=1)]
    assert chain.check(submit(chain, culprit.public_key, prevotes)) == "evidence-not-conflicting"


def test_a_key_outside_the_validator_set_cannot_be_accused() -> None:
    chain = started()
    pair = [vote(OUTSIDER, 2, value_id=BLOCK_A), vote(OUTSIDER, 2, value_id=BLOCK_B)]
    assert chain.check(submit(chain, OUTSIDER.public_key, pair)) == "unknown-validator"


def test_a_bad_signature_is_rejected() -> None:
    chain = started()
    culprit = chain.node_keys[1]
    good = vote(culprit, 2, value_id=BLOCK_A)
    flipped = dataclasses.replace(good, signature=bytes([good.signature[0] ^ 1]) + good.signature[1:])
    pair = [flipped, vote(culprit, 2, value_id=BLOCK_B)]
    assert chain.check(submit(chain, culprit.public_key, pair)) == "bad-signature"
    # votes signed for another chain do not verify on this one
    foreign = [vote(culprit, 2, value_id=BLOCK_A, chain_id="other-chain"),
               vote(culprit, 2, value_id=BLOCK_B, chain_id="other-chain")]
    assert chain.check(submit(chain, culprit.public_key, foreign)) == "bad-signature"


def test_old_and_future_evidence_is_rejected() -> None:
    chain = started(6, evidence_max_age_heights=3)
    culprit = chain.node_keys[2]
    old = [vote(culprit, 2, value_id=BLOCK_A), vote(culprit, 2, value_id=BLOCK_B)]
    assert chain.check(submit(chain, culprit.public_key, old)) == "evidence-too-old"
    recent = [vote(culprit, 4, value_id=BLOCK_A), vote(culprit, 4, value_id=BLOCK_B)]
    assert chain.check(submit(chain, culprit.public_key, recent)) is None
    future = [vote(culprit, 9, value_id=BLOCK_A), vote(culprit, 9, value_id=BLOCK_B)]
    assert chain.check(submit(chain, culprit.public_key, future)) == "evidence-future"


def test_only_a_current_validator_node_key_may_submit() -> None:
    chain = started()
    culprit = chain.node_keys[1]
    pair = [vote(culprit, 2, value_id=BLOCK_A), vote(culprit, 2, value_id=BLOCK_B)]
    target = evidence_id(culprit.public_key, "precommit", 2, 0).hex()
    body = {"validator": culprit.public_key.multikey, "votes": [v.to_json() for v in pair]}
    outsider = chain.op("evidence.submit", target, body, OUTSIDER,
                        did_key_verification_method(OUTSIDER.public_key))
    assert chain.check(outsider) == "unauthorized-key"
    admin = chain.admin_keys[0]
    assert chain.check(chain.op("evidence.submit", target, body, admin,
                                did_key_verification_method(admin.public_key))) == "unauthorized-key"
    forged = chain.op("evidence.submit", target, body, OUTSIDER,
                      did_key_verification_method(chain.node_keys[0].public_key))
    assert chain.check(forged) == "bad-signature"
    vm = did_key_verification_method(chain.node_keys[0].public_key)
    wrong_target = chain.op("evidence.submit", "00" * 32, body, chain.node_keys[0], vm)
    assert chain.check(wrong_target) == "invalid-target"
    assert chain.check(chain.op("evidence.submit", target, body, chain.node_keys[0], vm,
                                prev=b"\x01" * 32)) == "prev-mismatch"
    assert chain.check(chain.op("evidence.submit", target, {**body, "votes": body["votes"][:1]},
                                chain.node_keys[0], vm)) == "malformed"
    assert chain.check(chain.op("evidence.submit", target, body, chain.node_keys[0], vm)) is None


def rotate(chain: Chain, index: int, new_node: PrivateKey) -> None:
    """Replace validator ``index``'s node key through validators.update and run to its activation."""
    old = chain.validator_set
    members = list(old.validators)
    members[index] = Validator(members[index].name, new_node.public_key, members[index].admin_key)
    target = dataclasses.replace(old, validators=tuple(members))
    raw = chain.state.get(b"validators")
    assert raw is not None
    prev = bytes.fromhex(decode(raw)["version_hash"])
    approvals = [approve(chain.admin_keys[i], CHAIN_ID, prev, target, 1000) for i in (0, 1)]
    chain.accept(validators_update(target, approvals, prev=prev, admin_key=chain.admin_keys[0],
                                   chain_id=CHAIN_ID, valid_until_height=1000))
    chain.commit([])
    chain.validator_set = target  # the test chain's proposer follows the active set
    chain.node_keys[index] = new_node
    chain.commit([])


def test_evidence_against_a_rotated_out_key_uses_the_set_of_its_height() -> None:
    chain = started(2, evidence_max_age_heights=4)
    retired = chain.node_keys[1]
    rotate(chain, 1, key("v-node-1-rotated"))  # change at 3, activates at 5
    assert chain.height == 5
    old_pair = [vote(retired, 4, value_id=BLOCK_A), vote(retired, 4, value_id=BLOCK_B)]
    assert chain.check(submit(chain, retired.public_key, old_pair)) is None
    # the retired key is not a validator of heights after the rotation
    late = [vote(retired, 5, value_id=BLOCK_A), vote(retired, 5, value_id=BLOCK_B)]
    assert chain.check(submit(chain, retired.public_key, late)) == "unknown-validator"
    fresh = chain.node_keys[1]
    assert chain.check(submit(chain, fresh.public_key, [vote(fresh, 4, value_id=BLOCK_A),
                                                        vote(fresh, 4, value_id=BLOCK_B)])
                       ) == "unknown-validator"
    history = chain.state.get(HISTORY_KEY)
    assert history is not None and decode(history)["active_since"] == 5
    for _ in range(5):
        chain.commit([])
    # beyond the age bound the outgoing set is dropped at the next activation; the age rule rejects first
    assert chain.check(submit(chain, retired.public_key, old_pair)) == "evidence-too-old"
    # the next activation drops sets that ended beyond the bound, keeping the history bounded
    rotate(chain, 2, key("v-node-2-rotated"))
    history = chain.state.get(HISTORY_KEY)
    assert history is not None
    assert [(e["from_height"], e["to_height"]) for e in decode(history)["past"]] == [(5, 12)]


def test_amnesia_a_prevote_against_an_earlier_precommit_is_stored() -> None:
    chain = started(3)
    culprit = chain.node_keys[2]
    precommit = vote(culprit, 3, value_id=BLOCK_A, round_=0)
    unjustified = vote(culprit, 3, value_id=BLOCK_B, round_=1, vote_type="prevote", valid_round=-1)
    chain.accept(submit(chain, culprit.public_key, [unjustified, precommit]))  # any order
    record = stored(chain, culprit.public_key, 3, round_=0, vote_type="amnesia")
    assert record is not None and record["kind"] == "amnesia" and record["vote_type"] is None
    assert [v["type"] for v in record["votes"]] == ["precommit", "prevote"]  # type: ignore[union-attr]
    # another unjustified prevote against the same precommit is the same offence
    later = vote(culprit, 3, value_id=BLOCK_B, round_=2, vote_type="prevote", valid_round=-1)
    assert chain.check(submit(chain, culprit.public_key, [precommit, later])) == "evidence-exists"


def test_a_prevote_justified_by_a_later_polka_is_not_amnesia() -> None:
    chain = started(3)
    culprit = chain.node_keys[2]
    precommit = vote(culprit, 3, value_id=BLOCK_A, round_=1)
    accused = culprit.public_key
    cases = {
        "evidence-not-conflicting": [
            vote(culprit, 3, value_id=BLOCK_B, round_=2, vote_type="prevote", valid_round=1),  # polka ≥ r
            vote(culprit, 3, value_id=BLOCK_A, round_=2, vote_type="prevote"),  # the same block
            vote(culprit, 3, value_id=None, round_=2, vote_type="prevote")],  # nil
        "evidence-mismatch": [
            vote(culprit, 3, value_id=BLOCK_B, round_=0, vote_type="prevote"),  # an earlier round
            vote(culprit, 3, value_id=BLOCK_B, round_=1, vote_type="prevote", valid_round=0)],  # same round
    }
    for rule, prevotes in cases.items():
        for prevote in prevotes:
            assert chain.check(submit(chain, accused, [precommit, prevote])) == rule, (rule, prevote)
    nil_precommit = vote(culprit, 3, value_id=None, round_=1)
    later = vote(culprit, 3, value_id=BLOCK_B, round_=2, vote_type="prevote")
    assert chain.check(submit(chain, accused, [nil_precommit, later])) == "evidence-not-conflicting"
