"""Certified single-node reads: QC + SMT proof + freshness, and every way a forged read fails."""

from __future__ import annotations

import dataclasses

import pytest

from ledgr.errors import InvalidInput, VerificationFailed
from ledgr.ledger.certified import prove_key, verify_certified_read
from ledgr.ledger.smt import SmtProof
from ledgr.ledger.state import TIP_KEY, did_head_key
from tests.unit.ledger.chain import Chain, key

ALICE = key("alice")


def setup() -> tuple[Chain, str]:
    chain = Chain.start()
    did, env = chain.create_did(ALICE)
    chain.accept(env)
    return chain, did


def test_present_and_absent_values_are_certified() -> None:
    chain, did = setup()
    block = chain.blocks[-1]
    qc = chain.qc(block)
    now = block.header.time_ms + 2_500
    value, proof = prove_key(chain.state, did_head_key(did))
    assert value is not None
    wire_proof = SmtProof.decode(proof.encode())
    read = verify_certified_read(key=did_head_key(did), value=value, smt_proof=wire_proof,
                                 header=block.header, qc=qc, validator_set=chain.validator_set, now_ms=now)
    assert (read.height, read.age_ms, read.value) == (block.height, 2_500, value)
    missing = did_head_key("did:ledgr:PPAkc5QjgV515svzvMcyqF")
    absent, proof = prove_key(chain.state, missing)
    assert absent is None
    verify_certified_read(key=missing, value=None, smt_proof=proof, header=block.header, qc=qc,
                          validator_set=chain.validator_set, now_ms=now)


def test_forged_reads_fail() -> None:
    chain, did = setup()
    block = chain.blocks[-1]
    qc = chain.qc(block)
    state_key = did_head_key(did)
    value, proof = prove_key(chain.state, state_key)
    assert value is not None
    args = dict(key=state_key, value=value, smt_proof=proof, header=block.header, qc=qc,
                validator_set=chain.validator_set, now_ms=block.header.time_ms)

    def check(name: str, **changes: object) -> None:
        with pytest.raises(VerificationFailed) as info:
            verify_certified_read(**{**args, **changes})  # type: ignore[arg-type]
        assert info.value.extra["check"] == name

    check("state-proof", value=value.replace(b"false", b"true "))
    check("state-proof", value=None)
    check("state-proof", key=did_head_key("did:ledgr:PPAkc5QjgV515svzvMcyqF"))
    check("qc", header=dataclasses.replace(block.header, app_root=b"\x01" * 32))
    check("qc", qc=chain.qc(block, signers=[0]))
    other_set = Chain.start(n=4).validator_set
    check("qc", validator_set=other_set)
    check("freshness", now_ms=block.header.time_ms + 61_000, max_age_ms=60_000)
    check("freshness", now_ms=block.header.time_ms - 120_000)
    stale = verify_certified_read(**{**args, "now_ms": block.header.time_ms + 59_000,  # type: ignore[arg-type]
                                     "max_age_ms": 60_000})
    assert stale.age_ms == 59_000


def test_old_certified_state_stays_verifiable_but_shows_its_age() -> None:
    chain, did = setup()
    old_block = chain.blocks[-1]
    old_value, old_proof = prove_key(chain.state, did_head_key(did))
    chain.accept(chain.op("did.deactivate", did, {}, ALICE, f"{did}#key-1", prev=chain.prev(did)))
    read = verify_certified_read(key=did_head_key(did), value=old_value, smt_proof=old_proof,
                                 header=old_block.header, qc=chain.qc(old_block),
                                 validator_set=chain.validator_set,
                                 now_ms=chain.blocks[-1].header.time_ms)
    assert read.age_ms == chain.blocks[-1].header.time_ms - old_block.header.time_ms > 0


def test_meta_keys_are_not_provable() -> None:
    chain, _ = setup()
    with pytest.raises(InvalidInput):
        prove_key(chain.state, TIP_KEY)


def test_operation_inclusion_proofs() -> None:
    from ledgr.ledger.certified import operation_proof, verify_operation_included
    chain = Chain.start()
    envs = [chain.create_did(key(f"incl-{i}"))[1] for i in range(5)]
    block, _ = chain.commit(envs)
    for index, env in enumerate(block.operations):
        proof = operation_proof(block, index)
        verify_operation_included(env, index, len(block.operations), proof, block.header)
        with pytest.raises(VerificationFailed):
            verify_operation_included(env, (index + 1) % 5, 5, proof, block.header)
    with pytest.raises(VerificationFailed):
        verify_operation_included(envs[0] + b"x", 0, 5, operation_proof(block, 0), block.header)


def test_queries() -> None:
    from ledgr.ledger.queries import read_status_list, validator_set_for_height
    chain, _ = setup()
    tip = chain.height
    assert validator_set_for_height(chain.state, tip + 1) == chain.validator_set
    assert validator_set_for_height(chain.state, tip + 2) == chain.validator_set
    with pytest.raises(InvalidInput):
        validator_set_for_height(chain.state, tip)
    with pytest.raises(InvalidInput):
        validator_set_for_height(chain.state, tip + 3)
    assert read_status_list(chain.state, "https://nowhere.example/list") is None


def test_verifier_follows_a_validator_change() -> None:
    import dataclasses as dc

    from ledgr.ledger.author import validators_update
    from ledgr.ledger.certified import validator_record_from_read
    from ledgr.ledger.rules_validators import approve
    from ledgr.ledger.state import VALIDATORS_KEY
    from ledgr.ledger.validators import Validator
    from tests.unit.ledger.chain import CHAIN_ID
    chain = Chain.start()
    trusted = chain.validator_set
    extra = Validator("v3", key("v-node-3").public_key, key("v-admin-3").public_key)
    new_set = dc.replace(trusted, validators=(*trusted.validators, extra))
    genesis_hash = chain.genesis.hash()  # type: ignore[union-attr]
    approvals = [approve(chain.admin_keys[i], CHAIN_ID, genesis_hash, new_set, 100) for i in (0, 1)]
    chain.accept(validators_update(new_set, approvals, prev=genesis_hash, admin_key=chain.admin_keys[0],
                                   chain_id=CHAIN_ID, valid_until_height=100))
    block = chain.blocks[-1]
    value, proof = prove_key(chain.state, VALIDATORS_KEY)
    read = verify_certified_read(key=VALIDATORS_KEY, value=value, smt_proof=proof, header=block.header,
                                 qc=chain.qc(block), validator_set=trusted, now_ms=block.header.time_ms)
    record = validator_record_from_read(read)
    assert record.pending == new_set and record.activates_at == block.height + 2
    chain.commit([])
    later, _ = chain.commit([])
    keys = [*chain.node_keys, key("v-node-3")]
    qc = chain.qc(later, signers=[0, 1, 3], vset=new_set, keys=keys)
    value, proof = prove_key(chain.state, VALIDATORS_KEY)
    with pytest.raises(VerificationFailed):
        verify_certified_read(key=VALIDATORS_KEY, value=value, smt_proof=proof, header=later.header, qc=qc,
                              validator_set=trusted, now_ms=later.header.time_ms)
    verify_certified_read(key=VALIDATORS_KEY, value=value, smt_proof=proof, header=later.header, qc=qc,
                          validator_set=record.set_for_height(later.height), now_ms=later.header.time_ms)
    with pytest.raises(VerificationFailed):
        validator_record_from_read(dc.replace(read, key=b"chain"))
