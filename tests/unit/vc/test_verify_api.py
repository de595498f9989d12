"""The public ``ledgr.vc.verify`` API: W3C vectors, check selection, time, resolvers, result shape."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from ledgr.errors import InvalidDocument, InvalidInput
from ledgr.vc import CHECKS, VerificationResult, issue, verify
from ledgr.vc.proofs import add_proof
from tests.paths import EDDSA_VECTORS
from tests.unit.vc.credential_factory import (
    CREATED,
    NOW,
    credential,
    credential_v11,
    did,
    key,
    signed,
    tampered,
)

VECTORS = {
    "eddsa-rdfc-2022": EDDSA_VECTORS / "eddsa-rdfc-2022" / "signedDataInt.json",
    "eddsa-jcs-2022": EDDSA_VECTORS / "eddsa-jcs-2022" / "signedJCS.json",
    "Ed25519Signature2020": EDDSA_VECTORS / "Ed25519Signature2020" / "signedEdSig.json",
    "proof-set": EDDSA_VECTORS / "proof-set-chain" / "signedProofSet2.json",
    "proof-chain": EDDSA_VECTORS / "proof-set-chain" / "signedProofChain2.json",
}
EMPLOY = EDDSA_VECTORS / "eddsa-rdfc-2022" / "employ" / "signedDataInt.json"
VECTOR_NOW = datetime.fromisoformat("2024-06-01T00:00:00+00:00")


def _load(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text())  # type: ignore[no-any-return]


@pytest.mark.parametrize("name", list(VECTORS))
def test_w3c_signed_vectors_verify(name: str) -> None:
    result = verify(_load(VECTORS[name]), now=VECTOR_NOW)
    assert result.verified, result.to_json()
    proof = result.check("proof")
    assert proof is not None and proof.verified
    # The vectors' issuer is https://vc.example/issuers/5678: not a DID, so binding is only warned about.
    assert result.check("issuer-binding") is None
    assert "issuer-binding-unchecked" in [w.code for w in result.warnings]


@pytest.mark.parametrize("name", list(VECTORS))
@pytest.mark.parametrize(("path", "value"), [
    (("credentialSubject", "alumniOf"), "The School of Forgeries"),
    (("validFrom",), "2023-01-02T00:00:00Z"),
    (("issuer",), "https://vc.example/issuers/9999"),
])
def test_w3c_vectors_tampered_fail(name: str, path: tuple[str, ...], value: str) -> None:
    result = verify(tampered(_load(VECTORS[name]), path, value), now=VECTOR_NOW)
    assert not result.verified
    proof = result.check("proof")
    assert proof is not None and not proof.verified


def test_employment_vector_proof_verifies_but_issuer_is_another_key() -> None:
    document = _load(EMPLOY)
    narrowed = verify(document, now=VECTOR_NOW, checks=["proof", "validity"])
    assert narrowed.verified
    full = verify(document, now=VECTOR_NOW)
    binding = full.check("issuer-binding")
    assert binding is not None and not binding.verified
    assert binding.errors[0].extra["reason"] == "issuer-mismatch"
    assert not full.verified


def test_issuer_binding_named_for_a_non_did_issuer_fails() -> None:
    result = verify(_load(VECTORS["eddsa-rdfc-2022"]), now=VECTOR_NOW, checks=["issuer-binding"])
    assert not result.verified
    assert result.all_errors()[0].extra["reason"] == "not-a-did"


def test_issuer_binding_fails_when_the_issuer_is_not_the_signer() -> None:
    signer, claimed_issuer = key(21), key(22)
    document = add_proof(credential(did(claimed_issuer)), private_key=signer, suite="eddsa-rdfc-2022",
                         verification_method=f"{did(signer)}#{signer.public_key.multikey}", created=CREATED)
    result = verify(document, now=NOW)
    proof, binding = result.check("proof"), result.check("issuer-binding")
    assert proof is not None and proof.verified
    assert binding is not None and not binding.verified
    assert binding.errors[0].extra["reason"] == "issuer-mismatch"
    assert did(signer) in binding.errors[0].detail
    assert not result.verified


def test_check_selection() -> None:
    document = signed(key(23))
    only_proof = verify(document, checks=["proof"])
    assert [c.name for c in only_proof.checks] == ["proof"] and only_proof.verified
    everything = verify(document, now=NOW, checks=list(CHECKS))
    assert [c.name for c in everything.checks] == list(CHECKS)
    assert everything.verified
    assert {"schema-not-applicable", "status-not-applicable"} <= {w.code for w in everything.warnings}
    with pytest.raises(InvalidInput, match="unknown check"):
        verify(document, checks=["proof", "signature"])
    with pytest.raises(InvalidInput):
        verify(document, checks=[])


def test_validity_needs_now_and_fails_closed_without_it() -> None:
    document = signed(key(24))
    result = verify(document)
    validity = result.check("validity")
    assert validity is not None and not validity.verified
    assert validity.errors[0].extra["reason"] == "no-time"
    assert not result.verified
    with pytest.raises(InvalidDocument, match="timezone-aware"):
        verify(document, now=datetime(2026, 6, 1))
    undated = signed(key(24), validFrom=None, validUntil=None)
    assert verify(undated).verified


@pytest.mark.parametrize(("now", "reason"), [
    (datetime.fromisoformat("2025-12-31T23:59:59+00:00"), "not-yet-valid"),
    (datetime.fromisoformat("2027-01-01T00:00:01+00:00"), "expired"),
])
def test_outside_the_validity_period_fails(now: datetime, reason: str) -> None:
    result = verify(signed(key(25)), now=now)
    assert not result.verified
    validity = result.check("validity")
    assert validity is not None and validity.errors[0].extra["reason"] == reason
    proof = result.check("proof")
    assert proof is not None and proof.verified


def test_v11_credential_dates() -> None:
    issuer_key = key(26)
    document = issue(credential_v11(did(issuer_key), expirationDate="2026-03-01T00:00:00Z"),
                     secret_key=issuer_key.multikey, suite="Ed25519Signature2020", created=CREATED)
    assert verify(document, now=datetime.fromisoformat("2026-02-01T00:00:00+00:00")).verified
    late = verify(document, now=NOW)
    assert not late.verified and late.all_errors()[0].extra["property"] == "expirationDate"


def _ledgr_did_document(private_key: Any, did_value: str) -> dict[str, Any]:
    method = f"{did_value}#key-1"
    return {"@context": ["https://www.w3.org/ns/did/v1", "https://w3id.org/security/multikey/v1"],
            "id": did_value,
            "verificationMethod": [{"id": method, "type": "Multikey", "controller": did_value,
                                    "publicKeyMultibase": private_key.public_key.multikey}],
            "assertionMethod": [method], "authentication": [method]}


def test_did_ledgr_issuer_needs_a_resolver() -> None:
    issuer_key = key(27)
    issuer = "did:ledgr:4Zb9kW1mXcQm3pZ7vYt2Rr"
    document = issue(credential(issuer), secret_key=issuer_key.multikey, suite="eddsa-rdfc-2022",
                     verification_method=f"{issuer}#key-1", created=CREATED)
    no_resolver = verify(document, now=NOW)
    assert not no_resolver.verified
    proof = no_resolver.check("proof")
    assert proof is not None and proof.errors[0].code == "unsupported-did-method"
    assert "no DID resolver" in proof.errors[0].detail
    table = {issuer: _ledgr_did_document(issuer_key, issuer)}
    assert verify(document, now=NOW, resolver=table.__getitem__).verified
    resolution = {issuer: {"didDocument": table[issuer], "didResolutionMetadata": {}}}
    assert verify(document, now=NOW, resolver=resolution.__getitem__).verified
    deactivated = {issuer: {"didDocument": table[issuer], "didDocumentMetadata": {"deactivated": True}}}
    gone = verify(document, now=NOW, resolver=deactivated.__getitem__).check("proof")
    assert gone is not None and gone.errors[0].code == "did-deactivated"
    missing = verify(document, now=NOW, resolver={}.__getitem__).check("proof")
    assert missing is not None and missing.errors[0].code == "did-not-found"
    wrong_key = {issuer: _ledgr_did_document(key(28), issuer)}
    assert not verify(document, now=NOW, resolver=wrong_key.__getitem__).verified


def test_malformed_documents_are_failed_results() -> None:
    result = verify({"@context": ["https://www.w3.org/ns/credentials/v2"], "type": "VerifiableCredential"},
                    now=NOW)
    assert not result.verified
    assert result.errors[0].code == "invalid-document"
    assert result.to_json()["errors"][0]["property"] == "issuer"
    unsigned = verify(credential(did(key(29))), now=NOW)
    assert not unsigned.verified and "no proof" in unsigned.all_errors()[0].detail


def test_result_json_shape() -> None:
    result = verify(signed(key(30)), now=NOW)
    assert isinstance(result, VerificationResult)
    out = json.loads(json.dumps(result.to_json()))
    assert out["verified"] is True
    assert out["type"] == "VerifiableCredential"
    assert [c["check"] for c in out["checks"]] == ["proof", "validity", "issuer-binding"]
    assert out["checks"][0]["proofs"][0]["suite"] == "eddsa-rdfc-2022"
    assert out["errors"] == [] and out["warnings"] == []
    failed = verify(signed(key(30)), now=NOW + timedelta(days=3650)).to_json()
    assert failed["verified"] is False
    assert failed["errors"][0]["code"] == "verification-failed"
    assert failed["errors"][0]["type"] == "https://ledgr.dev/problems/verification-failed"
    assert failed["errors"][0]["title"] == "Verification failed"
    assert failed["errors"][0]["reason"] == "expired"
