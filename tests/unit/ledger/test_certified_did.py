"""Certified DID resolution through one untrusted node."""

from __future__ import annotations

import dataclasses

import pytest

from ledgr.errors import VerificationFailed
from ledgr.ledger.certified_did import prove_did, verify_did_proof
from ledgr.ledger.smt import SmtProof
from tests.unit.ledger.chain import Chain, document_for, key

ALICE, BOB = key("cert-alice"), key("cert-bob")


def setup() -> tuple[Chain, str]:
    chain = Chain.start()
    did, env = chain.create_did(ALICE)
    chain.accept(env)
    chain.accept(chain.op("did.update", did, {"document": document_for(did, BOB)}, ALICE, f"{did}#key-1",
                          prev=chain.prev(did)))
    return chain, did


def test_resolution_from_verified_records() -> None:
    chain, did = setup()
    block = chain.blocks[-1]
    proof = prove_did(chain.state, did)
    assert set(proof.to_json()) == {"did", "head", "headProof", "version", "versionProof"}
    certified = verify_did_proof(proof, header=block.header, qc=chain.qc(block),
                                 validator_set=chain.validator_set, now_ms=block.header.time_ms + 10)
    assert certified.result.did_document == document_for(did, BOB)
    assert certified.result.document_metadata["versionId"] == "2"
    assert certified.read.age_ms == 10


def test_absent_did_is_proven_absent() -> None:
    chain, _ = setup()
    block = chain.blocks[-1]
    missing = "did:ledgr:PPAkc5QjgV515svzvMcyqF"
    certified = verify_did_proof(prove_did(chain.state, missing), header=block.header, qc=chain.qc(block),
                                 validator_set=chain.validator_set, now_ms=block.header.time_ms)
    assert certified.result.error == "notFound"


def test_a_lying_node_is_caught() -> None:
    chain, did = setup()
    block = chain.blocks[-1]
    honest = prove_did(chain.state, did)
    args = dict(header=block.header, qc=chain.qc(block), validator_set=chain.validator_set,
                now_ms=block.header.time_ms)
    assert honest.version is not None and honest.head is not None
    # an old version passed off as current (its own proof is for another key)
    old = chain.state.get(b"v\x00" + did.encode() + b"\x00\x00\x00\x00\x01")
    assert old is not None
    for forged in (dataclasses.replace(honest, version=old),
                   dataclasses.replace(honest, version=None, version_proof=None),
                   dataclasses.replace(honest, head=None),
                   dataclasses.replace(honest, head_proof=SmtProof((), None))):
        with pytest.raises(VerificationFailed):
            verify_did_proof(forged, **args)  # type: ignore[arg-type]
    # a stale but genuine proof from before the update verifies, and shows its age
    stale_chain = Chain.start()
    did2, env = stale_chain.create_did(ALICE)
    stale_chain.accept(env)
    stale_block = stale_chain.blocks[-1]
    stale = prove_did(stale_chain.state, did2)
    later_ms = stale_block.header.time_ms + 90_000
    result = verify_did_proof(stale, header=stale_block.header, qc=stale_chain.qc(stale_block),
                              validator_set=stale_chain.validator_set, now_ms=later_ms)
    assert result.read.age_ms == 90_000
    with pytest.raises(VerificationFailed):
        verify_did_proof(stale, header=stale_block.header, qc=stale_chain.qc(stale_block),
                         validator_set=stale_chain.validator_set, now_ms=stale_block.header.time_ms + 90_000,
                         max_age_ms=60_000)
