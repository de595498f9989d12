"""The public ``ledgr.vc.issue`` API: validation before signing, issuer/key binding, proof options."""

from __future__ import annotations

import copy
import json
from datetime import datetime
from typing import Any

import pytest

from ledgr.errors import InvalidDocument, InvalidInput, InvalidKey, UnsupportedSuite
from ledgr.vc import SUPPORTED_SUITES, issue, verify
from ledgr.vc.loader import DocumentLoader
from tests.paths import EDDSA_VECTORS
from tests.unit.vc.credential_factory import CREATED, NOW, V2, credential, credential_v11, did, key

ISSUER = key(41)


@pytest.mark.parametrize("suite", SUPPORTED_SUITES)
def test_issue_signs_a_copy_with_the_did_key_method(suite: str) -> None:
    document = credential(did(ISSUER))
    before = copy.deepcopy(document)
    signed = issue(document, secret_key=ISSUER.multikey, suite=suite, created=CREATED)
    assert document == before, "issue must not modify its input"
    assert signed["proof"]["verificationMethod"] == f"{did(ISSUER)}#{ISSUER.public_key.multikey}"
    assert signed["proof"]["proofPurpose"] == "assertionMethod"
    assert signed["proof"]["created"] == CREATED
    signed["credentialSubject"]["degree"]["name"] = "changed after signing"
    assert document["credentialSubject"]["degree"]["name"] == "Bachelor of Science"
    assert verify(issue(document, secret_key=ISSUER.multikey, suite=suite, created=CREATED), now=NOW).verified


def test_reproduces_the_w3c_rdfc_vector_signature() -> None:
    """issue() over the vector's key gives the spec's proofValue (Ed25519 is deterministic)."""
    pair = json.loads((EDDSA_VECTORS / "keyPair.json").read_text())
    expected = json.loads((EDDSA_VECTORS / "eddsa-rdfc-2022" / "signedDataInt.json").read_text())
    unsigned = {k: v for k, v in expected.items() if k != "proof"}
    unsigned["issuer"] = f"did:key:{pair['publicKeyMultibase']}"
    signed = issue(unsigned, secret_key=pair["privateKeyMultibase"], suite="eddsa-rdfc-2022",
                   created=expected["proof"]["created"])
    assert signed["proof"]["verificationMethod"] == expected["proof"]["verificationMethod"]
    assert verify(signed, now=NOW).verified


def test_issuer_must_be_bound_to_the_key() -> None:
    other = key(42)
    with pytest.raises(InvalidKey, match="not the did:key of this secret key"):
        issue(credential(did(other)), secret_key=ISSUER.multikey, suite="eddsa-rdfc-2022")
    with pytest.raises(InvalidKey, match="verification method"):
        issue(credential(did(ISSUER)), secret_key=ISSUER.multikey, suite="eddsa-rdfc-2022",
              verification_method=f"{did(other)}#{other.public_key.multikey}")
    with pytest.raises(InvalidDocument, match="must be a DID"):
        issue(credential("https://issuer.example"), secret_key=ISSUER.multikey, suite="eddsa-rdfc-2022")
    with pytest.raises(InvalidDocument, match="must be a DID"):
        issue(credential(did(ISSUER), issuer={"id": "urn:uuid:1234", "name": "x"}),
              secret_key=ISSUER.multikey, suite="eddsa-rdfc-2022")


def _did_document(did_value: str, public_multikey: str) -> dict[str, Any]:
    """A did:ledgr-style document using relative ids (``#key-1``), as DID Core §5.2 allows."""
    return {"id": did_value, "assertionMethod": ["#key-1"],
            "verificationMethod": [{"id": "#key-1", "type": "Multikey", "controller": did_value,
                                    "publicKeyMultibase": public_multikey}]}


def test_other_did_issuers_need_their_verification_method() -> None:
    issuer = "did:ledgr:7Hn2xQ9pVb4Lk1Wm8Rt5Zc"
    with pytest.raises(InvalidInput, match="verification"):
        issue(credential(issuer), secret_key=ISSUER.multikey, suite="eddsa-jcs-2022")
    with pytest.raises(InvalidKey, match="does not belong"):
        issue(credential(issuer), secret_key=ISSUER.multikey, suite="eddsa-jcs-2022",
              verification_method="did:ledgr:someoneElse123#key-1")
    signed = issue(credential(issuer), secret_key=ISSUER.multikey, suite="eddsa-jcs-2022",
                   verification_method=f"{issuer}#key-1", created=CREATED)
    assert signed["proof"]["verificationMethod"] == f"{issuer}#key-1"
    good = {issuer: _did_document(issuer, ISSUER.public_key.multikey)}
    issue(credential(issuer), secret_key=ISSUER.multikey, suite="eddsa-jcs-2022",
          verification_method=f"{issuer}#key-1", resolver=good.__getitem__)
    wrong = {issuer: _did_document(issuer, key(43).public_key.multikey)}
    with pytest.raises(InvalidKey, match="different key"):
        issue(credential(issuer), secret_key=ISSUER.multikey, suite="eddsa-jcs-2022",
              verification_method=f"{issuer}#key-1", resolver=wrong.__getitem__)
    with pytest.raises(InvalidKey, match="not listed"):
        issue(credential(issuer), secret_key=ISSUER.multikey, suite="eddsa-jcs-2022",
              verification_method=f"{issuer}#key-2", resolver=good.__getitem__)


def test_validates_before_signing() -> None:
    with pytest.raises(InvalidDocument, match="credentialSubject"):
        issue(credential(did(ISSUER), credentialSubject=None), secret_key=ISSUER.multikey,
              suite="eddsa-rdfc-2022")
    with pytest.raises(InvalidDocument, match="presentation"):
        issue({"@context": [V2], "type": ["VerifiablePresentation"]}, secret_key=ISSUER.multikey,
              suite="eddsa-rdfc-2022")
    with pytest.raises(InvalidDocument, match="created"):
        issue(credential(did(ISSUER)), secret_key=ISSUER.multikey, suite="eddsa-rdfc-2022",
              created="2026-01-01 10:00")


def test_bad_keys_suites_and_options() -> None:
    with pytest.raises(InvalidKey):
        issue(credential(did(ISSUER)), secret_key=ISSUER.public_key.multikey, suite="eddsa-rdfc-2022")
    with pytest.raises(InvalidKey):
        issue(credential(did(ISSUER)), secret_key="not-a-key", suite="eddsa-rdfc-2022")
    with pytest.raises(UnsupportedSuite):
        issue(credential(did(ISSUER)), secret_key=ISSUER.multikey, suite="RsaSignature2018")
    with pytest.raises(InvalidInput, match="unknown proof option"):
        issue(credential(did(ISSUER)), secret_key=ISSUER.multikey, suite="eddsa-rdfc-2022", nonce="x")


def test_proof_options_expires_and_purpose() -> None:
    signed = issue(credential(did(ISSUER)), secret_key=ISSUER.multikey, suite="eddsa-rdfc-2022",
                   created=CREATED, expires="2026-07-01T00:00:00Z")
    assert signed["proof"]["expires"] == "2026-07-01T00:00:00Z"
    assert verify(signed, now=NOW).verified
    late = verify(signed, now=datetime.fromisoformat("2026-08-01T00:00:00+00:00"), checks=["proof"])
    assert not late.verified and "expired" in late.all_errors()[0].detail
    auth = issue(credential(did(ISSUER)), secret_key=ISSUER.multikey, suite="eddsa-rdfc-2022",
                 created=CREATED, proof_purpose="authentication")
    assert not verify(auth, now=NOW).verified  # credentials are checked for assertionMethod


def test_issue_v11_and_custom_context() -> None:
    v11 = issue(credential_v11(did(ISSUER)), secret_key=ISSUER.multikey, suite="eddsa-jcs-2022",
                created=CREATED)
    assert verify(v11, now=NOW).verified
    url = "https://contexts.gemeente.example/permit/v1"
    loader = DocumentLoader({url: {"@context": {
        "PermitCredential": "https://vocab.gemeente.example#PermitCredential",
        "permitNumber": "https://vocab.gemeente.example#permitNumber"}}})
    document = credential(did(ISSUER), type=["VerifiableCredential", "PermitCredential"],
                          credentialSubject={"id": "did:example:a", "permitNumber": "P-1"})
    document["@context"] = [V2, url]
    with pytest.raises(InvalidDocument, match="permit/v1"):
        issue(document, secret_key=ISSUER.multikey, suite="eddsa-rdfc-2022", created=CREATED)
    signed = issue(document, secret_key=ISSUER.multikey, suite="eddsa-rdfc-2022", created=CREATED,
                   loader=loader)
    assert verify(signed, now=NOW, loader=loader).verified
    assert not verify(signed, now=NOW).verified  # without the context the verifier cannot check it


def test_expiring_proof_without_now_fails_closed() -> None:
    signed = issue(credential(did(ISSUER), validFrom=None, validUntil=None), secret_key=ISSUER.multikey,
                   suite="eddsa-jcs-2022", created=CREATED, expires="2026-07-01T00:00:00Z")
    result = verify(signed, checks=["proof"])
    assert not result.verified
    assert result.all_errors()[0].extra["reason"] == "no-time"
    assert verify(signed, checks=["proof"], now=NOW).verified
