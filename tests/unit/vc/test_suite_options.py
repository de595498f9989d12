"""Proof options and verification-method authorization.

VC Data Integrity 1.0 §4.4 (verify proof) and Controlled Identifiers 1.0 §3.3 (retrieve verification method).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from ledgr.crypto import PrivateKey
from ledgr.did.key import did_key_document
from ledgr.errors import InvalidDocument, TooLarge, UnsupportedSuite
from ledgr.vc.proofs import SUPPORTED_SUITES, ProofCheck, add_proof, verify_proofs
from tests.paths import EDDSA_VECTORS

KEY = PrivateKey.from_seed(bytes(range(32)))
DID = "did:key:" + KEY.public_key.multikey
METHOD = f"{DID}#{KEY.public_key.multikey}"
UNSIGNED = json.loads((EDDSA_VECTORS / "unsigned.json").read_text())
NOW = datetime(2025, 1, 1, tzinfo=UTC)


def resolve(method_id: str) -> dict[str, Any]:
    return did_key_document(method_id.split("#", 1)[0])


def sign(suite: str = "eddsa-rdfc-2022", **options: Any) -> dict[str, Any]:
    options.setdefault("created", "2024-06-01T12:00:00Z")
    return add_proof(UNSIGNED, private_key=KEY, suite=suite, verification_method=METHOD, **options)


def only(checks: list[ProofCheck]) -> ProofCheck:
    assert len(checks) == 1
    return checks[0]


def test_supported_suites() -> None:
    assert SUPPORTED_SUITES == ("eddsa-rdfc-2022", "eddsa-jcs-2022", "Ed25519Signature2020")


@pytest.mark.parametrize("suite", SUPPORTED_SUITES)
def test_round_trip_every_suite(suite: str) -> None:
    check = only(verify_proofs(sign(suite), resolve_controller=resolve, now=NOW))
    assert check.verified and check.suite == suite and check.error is None


def test_unknown_suite_rejected() -> None:
    with pytest.raises(UnsupportedSuite):
        sign("ecdsa-rdfc-2019")
    signed = sign()
    signed["proof"]["cryptosuite"] = "bbs-2023"
    check = only(verify_proofs(signed, resolve_controller=resolve))
    assert isinstance(check.error, UnsupportedSuite)


def test_invalid_created_rejected_when_issuing() -> None:
    with pytest.raises(InvalidDocument, match="dateTimeStamp"):
        sign(created="2024-06-01 12:00")


@pytest.mark.parametrize("suite", SUPPORTED_SUITES)
def test_authentication_purpose_with_challenge_and_domain(suite: str) -> None:
    signed = sign(suite, proof_purpose="authentication", challenge="c-123", domain="verifier.example")
    assert signed["proof"]["challenge"] == "c-123"
    ok = only(verify_proofs(signed, resolve_controller=resolve, expected_purpose="authentication",
                            challenge="c-123", domain="verifier.example"))
    assert ok.verified, ok.error
    for kwargs in ({"challenge": "other"}, {"domain": "other.example"}):
        bad = only(verify_proofs(signed, resolve_controller=resolve, expected_purpose="authentication",
                                 **kwargs))
        assert not bad.verified
    wrong_purpose = only(verify_proofs(signed, resolve_controller=resolve))
    assert not wrong_purpose.verified and "proofPurpose" in str(wrong_purpose.error)


def test_domain_list() -> None:
    signed = sign(domain=["a.example", "b.example"])
    assert only(verify_proofs(signed, resolve_controller=resolve, domain="b.example")).verified
    assert not only(verify_proofs(signed, resolve_controller=resolve, domain="c.example")).verified


def test_expires_checked_against_now() -> None:
    signed = sign(expires="2025-01-01T00:00:00Z")
    before = datetime(2024, 12, 31, 23, 59, tzinfo=UTC)
    assert only(verify_proofs(signed, resolve_controller=resolve, now=before)).verified
    expired = only(verify_proofs(signed, resolve_controller=resolve, now=NOW))
    assert not expired.verified and "expired" in str(expired.error)


def test_method_not_listed_under_purpose_fails() -> None:
    def resolve_without_assertion(method_id: str) -> dict[str, Any]:
        document = resolve(method_id)
        document["assertionMethod"] = []
        return document

    check = only(verify_proofs(sign(), resolve_controller=resolve_without_assertion))
    assert not check.verified and "not authorized" in str(check.error)


def test_method_listed_by_relative_reference_and_embedded() -> None:
    def relative(method_id: str) -> dict[str, Any]:
        document = resolve(method_id)
        document["assertionMethod"] = ["#" + method_id.split("#")[1]]
        return document

    def embedded(method_id: str) -> dict[str, Any]:
        document = resolve(method_id)
        document["assertionMethod"] = [document["verificationMethod"][0]]
        document["verificationMethod"] = []
        return document

    signed = sign()
    assert only(verify_proofs(signed, resolve_controller=relative)).verified
    assert only(verify_proofs(signed, resolve_controller=embedded)).verified


def test_method_with_other_controller_fails() -> None:
    def foreign(method_id: str) -> dict[str, Any]:
        document = resolve(method_id)
        document["verificationMethod"][0]["controller"] = "did:example:mallory"
        return document

    check = only(verify_proofs(sign(), resolve_controller=foreign))
    assert not check.verified and "controller" in str(check.error)


def test_controller_document_for_another_did_fails() -> None:
    other = PrivateKey.from_seed(bytes(32)).public_key.multikey

    def wrong(method_id: str) -> dict[str, Any]:
        return did_key_document("did:key:" + other)

    assert not only(verify_proofs(sign(), resolve_controller=wrong)).verified


def test_jwk_and_ed25519_2020_verification_methods() -> None:
    def as_jwk(method_id: str) -> dict[str, Any]:
        document = resolve(method_id)
        vm = document["verificationMethod"][0]
        vm["type"] = "JsonWebKey"
        vm["publicKeyJwk"] = KEY.public_key.to_jwk()
        del vm["publicKeyMultibase"]
        return document

    def as_2020(method_id: str) -> dict[str, Any]:
        document = resolve(method_id)
        document["verificationMethod"][0]["type"] = "Ed25519VerificationKey2020"
        return document

    signed = sign("Ed25519Signature2020")
    assert only(verify_proofs(signed, resolve_controller=as_jwk)).verified
    assert only(verify_proofs(signed, resolve_controller=as_2020)).verified


def test_unresolvable_controller_reported_not_raised() -> None:
    def unresolvable(method_id: str) -> dict[str, Any]:
        raise InvalidDocument(f"cannot resolve {method_id}")

    check = only(verify_proofs(sign(), resolve_controller=unresolvable))
    assert not check.verified and "cannot resolve" in str(check.error)


def test_malformed_proof_value() -> None:
    signed = sign()
    signed["proof"]["proofValue"] = "not-multibase"
    assert not only(verify_proofs(signed, resolve_controller=resolve)).verified


def test_proof_check_json() -> None:
    good = only(verify_proofs(sign(), resolve_controller=resolve)).to_json()
    assert good["verified"] is True and "error" not in good
    bad = only(verify_proofs(UNSIGNED, resolve_controller=resolve)).to_json()
    assert bad["verified"] is False and bad["error"]["code"] == "verification-failed"


def test_ed25519_2020_adds_its_context_once() -> None:
    signed = sign("Ed25519Signature2020")
    assert signed["@context"][-1] == "https://w3id.org/security/suites/ed25519-2020/v1"
    again = add_proof({k: v for k, v in signed.items() if k != "proof"}, private_key=KEY,
                      suite="Ed25519Signature2020", verification_method=METHOD)
    assert again["@context"] == signed["@context"]


def test_ed25519_2020_verification_requires_its_context() -> None:
    signed = sign("Ed25519Signature2020")
    signed["@context"] = signed["@context"][:-1]
    check = only(verify_proofs(signed, resolve_controller=resolve))
    assert not check.verified and "ed25519-2020" in str(check.error)


def test_jcs_proof_context_must_prefix_document_context() -> None:
    signed = sign("eddsa-jcs-2022")
    signed["proof"]["@context"] = ["https://www.w3.org/ns/credentials/examples/v2"]
    assert not only(verify_proofs(signed, resolve_controller=resolve)).verified


@pytest.mark.parametrize("suite", SUPPORTED_SUITES)
def test_hostile_nesting_is_refused_before_any_suite_runs(suite: str) -> None:
    deep: Any = "leaf"
    for _ in range(5000):
        deep = {"a": deep}
    document = {**UNSIGNED, "credentialSubject": {"id": "did:example:abcdefgh", "alumniOf": deep}}
    with pytest.raises(TooLarge):
        add_proof(document, private_key=KEY, suite=suite, verification_method=METHOD)
    with pytest.raises(TooLarge):
        verify_proofs({**document, "proof": sign(suite)["proof"]}, resolve_controller=resolve)
