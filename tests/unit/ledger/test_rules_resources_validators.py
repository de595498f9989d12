"""resource.create and validators.update: authorization, immutability, quorum of admin approvals."""

from __future__ import annotations

import dataclasses
from typing import Any

from ledgr.did.key import did_key_verification_method
from ledgr.ledger.author import resource_create, validators_update
from ledgr.ledger.records import LedgerDidReader, ValidatorRecord, decode
from ledgr.ledger.rules_validators import approve
from ledgr.ledger.state import VALIDATORS_KEY
from ledgr.ledger.validators import Validator, ValidatorSet
from tests.unit.ledger.chain import CHAIN_ID, Chain, key

ALICE, MALLORY = key("alice"), key("mallory")
SCHEMA = {"$schema": "https://json-schema.org/draft/2020-12/schema", "type": "object",
          "properties": {"degree": {"type": "string"}}}


def resource(chain: Chain, did: str, rid: str, signer: Any, vm: str, content: Any = None,
             **changes: Any) -> bytes:
    fields = {"name": "Degree schema", "media_type": "application/schema+json"}
    fields.update(changes)
    return resource_create(did, rid, content=SCHEMA if content is None else content,
                           verification_method=vm, key=signer, chain_id=CHAIN_ID,
                           valid_until_height=1000, **fields)


def test_resource_create_and_read_back() -> None:
    chain = Chain.start()
    did, env = chain.create_did(ALICE)
    chain.accept(env, resource(chain, did, "degree-v1", ALICE, f"{did}#key-1"))
    stored = LedgerDidReader(chain.state).did_resource(did, "degree-v1")
    assert stored is not None and stored.content == SCHEMA and stored.media_type == "application/schema+json"
    assert len(stored.digest) == 64


def test_resource_rules() -> None:
    chain = Chain.start()
    did, env = chain.create_did(ALICE)
    mallory_did, env2 = chain.create_did(MALLORY)
    chain.accept(env, env2)
    vm = f"{did}#key-1"
    first = resource(chain, did, "r1", ALICE, vm)
    chain.accept(first)
    assert chain.check(resource(chain, did, "r1", ALICE, vm, content={"other": 1})) == "resource-exists"
    assert chain.check(resource(chain, did, "r2", MALLORY, vm)) == "bad-signature"
    assert chain.check(resource(chain, did, "r2", MALLORY, f"{mallory_did}#key-1")) == "unauthorized-key"
    assert chain.check(resource(chain, did, "bad id!", ALICE, vm)) == "invalid-target"
    assert chain.check(resource(chain, did, "r3", ALICE, vm, media_type="text/html")) == "malformed"
    assert chain.check(resource(chain, did, "r4", ALICE, vm, content={"x": "y" * 100_000})) == "size-limit"
    assert chain.check(resource(chain, did, "r5", ALICE, vm, name="")) == "size-limit"
    chain.accept(chain.op("did.deactivate", did, {}, ALICE, vm, prev=chain.prev(did)))
    assert chain.check(resource(chain, did, "r6", ALICE, vm)) == "did-deactivated"
    unknown = "did:ledgr:PPAkc5QjgV515svzvMcyqF"
    assert chain.check(resource(chain, unknown, "r7", ALICE, f"{unknown}#key-1")) == "did-not-found"


def validator_record(chain: Chain) -> ValidatorRecord:
    raw = chain.state.get(VALIDATORS_KEY)
    assert raw is not None
    return ValidatorRecord.from_json(decode(raw))


def new_set(chain: Chain) -> ValidatorSet:
    extra = Validator("v3", key("v-node-3").public_key, key("v-admin-3").public_key)
    return dataclasses.replace(chain.validator_set, validators=(*chain.validator_set.validators, extra))


def change(chain: Chain, target: ValidatorSet, approvers: list[int], signer: int = 0,
           prev: bytes | None = None) -> bytes:
    prev = prev if prev is not None else bytes.fromhex(validator_record(chain).version_hash)
    approvals = [approve(chain.admin_keys[i], CHAIN_ID, prev, target, 1000) for i in approvers]
    return validators_update(target, approvals, prev=prev, admin_key=chain.admin_keys[signer],
                             chain_id=CHAIN_ID, valid_until_height=1000)


def test_validator_change_activates_at_h_plus_2() -> None:
    chain = Chain.start()
    old, target = chain.validator_set, new_set(chain)
    block_h, _ = chain.commit([change(chain, target, [0, 1])])
    assert len(block_h.operations) == 1
    assert block_h.header.validators_hash == old.hash() == block_h.header.next_validators_hash
    block_h1, _ = chain.commit([])
    assert block_h1.header.validators_hash == old.hash()
    assert block_h1.header.next_validators_hash == target.hash()
    block_h2, _ = chain.commit([])
    assert block_h2.header.validators_hash == target.hash() == block_h2.header.next_validators_hash
    record = validator_record(chain)
    assert record.active == target and record.pending is None


def test_validator_change_needs_a_quorum_of_admin_keys() -> None:
    chain = Chain.start()
    target = new_set(chain)
    assert chain.check(change(chain, target, [0])) == "insufficient-approvals"
    assert chain.check(change(chain, target, [0, 0])) == "duplicate-approval"
    prev = bytes.fromhex(validator_record(chain).version_hash)
    outsider = [approve(MALLORY, CHAIN_ID, prev, target, 1000), approve(chain.admin_keys[0], CHAIN_ID,
                                                                         prev, target, 1000)]
    env = validators_update(target, outsider, prev=prev, admin_key=chain.admin_keys[0], chain_id=CHAIN_ID,
                            valid_until_height=1000)
    assert chain.check(env) == "unauthorized-key"
    # approvals for another set cannot be reused for this one
    other = dataclasses.replace(target, quorum_mode="strict")
    reused = [approve(chain.admin_keys[i], CHAIN_ID, prev, other, 1000) for i in (0, 1)]
    env = validators_update(target, reused, prev=prev, admin_key=chain.admin_keys[0], chain_id=CHAIN_ID,
                            valid_until_height=1000)
    assert chain.check(env) == "bad-signature"
    # node keys are not admin keys
    env = validators_update(target, [approve(chain.admin_keys[i], CHAIN_ID, prev, target, 1000)
                                     for i in (0, 1)], prev=prev, admin_key=chain.node_keys[0],
                            chain_id=CHAIN_ID, valid_until_height=1000)
    assert chain.check(env) == "unauthorized-key"
    # an attacker signing the envelope in an admin's name
    body = {"validator_set": target.to_json(),
            "approvals": [approve(chain.admin_keys[i], CHAIN_ID, prev, target, 1000) for i in (0, 1)]}
    forged = chain.op("validators.update", "validators", body, MALLORY,
                      did_key_verification_method(chain.admin_keys[0].public_key), prev=prev)
    assert chain.check(forged) == "bad-signature"


def test_validator_change_replay_and_pending() -> None:
    chain = Chain.start()
    target = new_set(chain)
    env = change(chain, target, [1, 2])
    chain.accept(env)
    assert chain.check(env) == "prev-mismatch"
    again = dataclasses.replace(target, quorum_mode="strict")
    assert chain.check(change(chain, again, [0, 1])) == "validators-change-pending"
    chain.commit([])
    chain.commit([])
    # after activation the NEW set's admins (quorum 3 of 4) approve the next change
    chain.admin_keys.append(key("v-admin-3"))
    assert chain.check(change(chain, again, [0, 1])) == "insufficient-approvals"
    chain.accept(change(chain, again, [0, 1, 3]))


def test_validator_set_rules() -> None:
    chain = Chain.start()
    assert chain.check(change(chain, chain.validator_set, [0, 1])) == "invalid-validator-set"
    prev = bytes.fromhex(validator_record(chain).version_hash)
    body: dict[str, Any] = {"validator_set": {"quorum": "bft", "validators": []}, "approvals": []}
    env = chain.op("validators.update", "validators", body, chain.admin_keys[0],
                   did_key_verification_method(chain.admin_keys[0].public_key), prev=prev)
    assert chain.check(env) == "invalid-validator-set"
    env = chain.op("validators.update", "elsewhere", body, chain.admin_keys[0],
                   did_key_verification_method(chain.admin_keys[0].public_key), prev=prev)
    assert chain.check(env) == "invalid-target"


def test_unsafe_sets_need_force_signed_by_the_approvers() -> None:
    chain = Chain.start()
    prev = bytes.fromhex(validator_record(chain).version_hash)
    strict = dataclasses.replace(chain.validator_set, quorum_mode="strict")  # q = 3 of 3: no crash tolerance
    two = dataclasses.replace(chain.validator_set, validators=chain.validator_set.validators[:2])
    for target in (strict, two):
        assert chain.check(change(chain, target, [0, 1])) == "unsafe-validator-set"
    approvals = [approve(chain.admin_keys[i], CHAIN_ID, prev, strict, 1000) for i in (0, 1)]
    # force added by the submitter alone does not match what the approvers signed
    forced_later = validators_update(strict, approvals, prev=prev, admin_key=chain.admin_keys[0],
                                     chain_id=CHAIN_ID, valid_until_height=1000, force=True)
    assert chain.check(forced_later) == "bad-signature"
    approvals = [approve(chain.admin_keys[i], CHAIN_ID, prev, strict, 1000, force=True) for i in (0, 1)]
    chain.accept(validators_update(strict, approvals, prev=prev, admin_key=chain.admin_keys[0],
                                   chain_id=CHAIN_ID, valid_until_height=1000, force=True))
    assert validator_record(chain).pending == strict
