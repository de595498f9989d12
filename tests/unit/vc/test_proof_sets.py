"""Proof sets and proof chains (VC Data Integrity 1.0 §4.2) with the vc-di-eddsa ``proof-set-chain`` vectors.

``signedProofSet*`` are proof sets (each proof over the document without proofs). ``signedProofChain*``
add chained proofs: ``previousProof`` names earlier proofs, and the chained proof signs the document
carrying exactly those (``proofChainTempDoc*`` shows that intermediate document).
"""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from ledgr.crypto import PrivateKey
from ledgr.did.key import did_key_document
from ledgr.errors import InvalidDocument
from ledgr.vc.proofs import _previous_proofs, add_proof, verify_proofs
from ledgr.vc.suites import suite_for_proof
from tests.paths import EDDSA_VECTORS

FOLDER = EDDSA_VECTORS / "proof-set-chain"
PAIRS = json.loads((FOLDER / "multiKeyPairs.json").read_text())
KEYS = [PrivateKey.from_multikey(PAIRS[f"keyPair{i}"]["privateKeyMultibase"]) for i in range(1, 5)]
SET_IDS = ["urn:uuid:26329423-bec9-4b2e-88cb-a7c7d9dc4544", "urn:uuid:8cc9022b-6b14-4cf3-8571-74972c5feb54"]
CHAIN_ID = "urn:uuid:d94f792a-c546-4d06-b38a-da070ab56c23"


def load(name: str) -> dict[str, Any]:
    return json.loads((FOLDER / name).read_text())  # type: ignore[no-any-return]


def method(key: PrivateKey) -> str:
    multikey = key.public_key.multikey
    return f"did:key:{multikey}#{multikey}"


def resolve(method_id: str) -> dict[str, Any]:
    return did_key_document(method_id.split("#", 1)[0])


def test_key_pairs() -> None:
    for index, key in enumerate(KEYS, start=1):
        assert key.public_key.multikey == PAIRS[f"keyPair{index}"]["publicKeyMultibase"]


@pytest.mark.parametrize("name", ["signedProofSet1.json", "signedProofSet2.json",
                                  "signedProofChain1.json", "signedProofChain2.json"])
def test_vectors_verify_every_proof(name: str) -> None:
    document = load(name)
    checks = verify_proofs(document, resolve_controller=resolve)
    proofs = document["proof"] if isinstance(document["proof"], list) else [document["proof"]]
    assert len(checks) == len(proofs)
    assert all(c.verified for c in checks), [c.error for c in checks]
    assert [c.verification_method for c in checks] == [p["verificationMethod"] for p in proofs]


def _options(config: dict[str, Any]) -> dict[str, Any]:
    return {"created": config["created"], "proof_id": config.get("id"),
            "previous_proof": config.get("previousProof")}


def test_add_proof_builds_the_proof_set_and_chain_byte_for_byte() -> None:
    document = load("unsigned.json")
    expected = ["signedProofSet1.json", "signedProofSet2.json", "signedProofChain1.json",
                "signedProofChain2.json"]
    configs = ["proofSetConfig1.json", "proofSetConfig2.json", "proofChainConfig1.json",
               "proofChainConfig2.json"]
    for key, config_name, expected_name in zip(KEYS, configs, expected, strict=True):
        config = load(config_name)
        document = add_proof(document, private_key=key, suite="eddsa-rdfc-2022",
                             verification_method=method(key), **_options(config))
        assert document == load(expected_name), expected_name


@pytest.mark.parametrize(("temp_name", "config_name", "key"), [
    ("proofChainTempDoc1.json", "proofChainConfigSigned1.json", KEYS[2]),
    ("proofChainTempDoc2.json", "proofChainConfigSigned2.json", KEYS[3]),
])
def test_chained_proof_signs_the_documented_temporary_document(temp_name: str, config_name: str,
                                                               key: PrivateKey) -> None:
    temp = load(temp_name)
    proof = load(config_name)
    chain = load("signedProofChain2.json")
    # the proofs ledgr selects for previousProof are exactly the temporary document's
    assert _previous_proofs(chain["proof"], proof["previousProof"]) == temp["proof"]
    # and the chained proof is a signature over that temporary document
    suite = suite_for_proof(proof)
    assert suite.verify_proof(temp, proof, key.public_key)
    without_proofs = {k: v for k, v in temp.items() if k != "proof"}
    assert not suite.verify_proof(without_proofs, proof, key.public_key)


def test_add_proof_does_not_mutate_input() -> None:
    document = load("signedProofSet1.json")
    before = copy.deepcopy(document)
    result = add_proof(document, private_key=KEYS[1], suite="eddsa-rdfc-2022",
                       verification_method=method(KEYS[1]))
    assert document == before
    assert isinstance(result["proof"], list) and len(result["proof"]) == 2


def test_each_proof_in_a_set_is_checked_independently() -> None:
    document = load("signedProofSet2.json")
    document["proof"][1]["created"] = "2024-01-01T00:00:00Z"
    checks = verify_proofs(document, resolve_controller=resolve)
    assert [c.verified for c in checks] == [True, False]


def test_chained_proof_fails_when_its_previous_proof_is_missing() -> None:
    document = load("signedProofChain2.json")
    del document["proof"][2]
    checks = verify_proofs(document, resolve_controller=resolve)
    assert [c.verified for c in checks] == [True, True, False]
    assert checks[2].error is not None and CHAIN_ID in checks[2].error.detail


def test_chained_proof_fails_when_a_previous_proof_changes() -> None:
    document = load("signedProofChain1.json")
    document["proof"][0]["created"] = "2023-02-24T23:36:39Z"
    checks = verify_proofs(document, resolve_controller=resolve)
    assert [c.verified for c in checks] == [False, True, False]


def test_removing_a_proof_from_a_set_leaves_the_others_valid() -> None:
    document = load("signedProofSet2.json")
    document["proof"] = document["proof"][1]
    checks = verify_proofs(document, resolve_controller=resolve)
    assert [c.verified for c in checks] == [True]


def test_mixed_suite_proof_set() -> None:
    document = load("unsigned.json")
    for key, suite in zip(KEYS, ["eddsa-rdfc-2022", "eddsa-jcs-2022"], strict=False):
        document = add_proof(document, private_key=key, suite=suite, verification_method=method(key),
                             created="2024-05-01T10:00:00Z")
    checks = verify_proofs(document, resolve_controller=resolve)
    assert [(c.suite, c.verified) for c in checks] == [("eddsa-rdfc-2022", True), ("eddsa-jcs-2022", True)]


def test_ed25519_2020_cannot_join_a_set_when_it_must_change_the_context() -> None:
    document = load("signedProofSet1.json")
    with pytest.raises(InvalidDocument, match="context"):
        add_proof(document, private_key=KEYS[1], suite="Ed25519Signature2020",
                  verification_method=method(KEYS[1]))


def test_document_without_proof_is_not_verified() -> None:
    checks = verify_proofs(load("unsigned.json"), resolve_controller=resolve)
    assert len(checks) == 1 and not checks[0].verified


def test_add_proof_refuses_a_malformed_existing_proof() -> None:
    document = {**load("unsigned.json"), "proof": "not a proof"}
    with pytest.raises(InvalidDocument, match="existing 'proof'"):
        add_proof(document, private_key=KEYS[0], suite="eddsa-jcs-2022", verification_method=method(KEYS[0]))
