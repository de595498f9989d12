"""Verifiable Presentations: holder proofs with challenge/domain, replay, holder binding, embedded VCs."""

from __future__ import annotations

from typing import Any

import pytest

from ledgr.errors import InvalidDocument, InvalidInput, InvalidKey
from ledgr.vc import create_presentation, issue, sign_presentation, verify
from ledgr.vc.presentation import validate_presentation
from ledgr.vc.proofs import add_proof
from tests.unit.vc.credential_factory import (
    CREATED,
    DATA_INTEGRITY,
    NOW,
    V1,
    V2,
    credential_v11,
    did,
    key,
    signed,
    tampered,
)

ISSUER = key(11)
HOLDER = key(12)
CHALLENGE = "4a9c1f2e-verifier-nonce-1"
DOMAIN = "https://verifier.example"


def _presentation(credentials: list[dict[str, Any]] | None = None, *, holder_key: Any = HOLDER,
                  challenge: str = CHALLENGE, domain: str | None = DOMAIN,
                  suite: str = "eddsa-rdfc-2022") -> dict[str, Any]:
    unsigned = create_presentation(credentials if credentials is not None else [signed(ISSUER)],
                                   holder=did(holder_key))
    return sign_presentation(unsigned, secret_key=holder_key.multikey, suite=suite, challenge=challenge,
                             domain=domain, created=CREATED)


@pytest.mark.parametrize("suite", ["eddsa-rdfc-2022", "eddsa-jcs-2022", "Ed25519Signature2020"])
def test_signed_presentation_verifies_with_its_credentials(suite: str) -> None:
    presentation = _presentation(suite=suite)
    assert presentation["proof"]["proofPurpose"] == "authentication"
    assert presentation["proof"]["challenge"] == CHALLENGE
    result = verify(presentation, now=NOW, challenge=CHALLENGE, domain=DOMAIN)
    assert result.verified, result.to_json()
    assert result.document_type == "VerifiablePresentation"
    assert [c.name for c in result.checks] == ["proof", "issuer-binding"]
    assert len(result.credential_results) == 1 and result.credential_results[0].verified
    assert result.to_json()["credentialResults"][0]["verified"] is True
    assert [w.code for w in result.warnings] == ["holder-not-subject"]  # subject is did:example:alice


def test_holder_who_is_the_subject_gets_no_warning() -> None:
    own = signed(ISSUER, credentialSubject={"id": did(HOLDER), "degree": {"name": "BSc"}})
    result = verify(_presentation([own]), now=NOW, challenge=CHALLENGE, domain=DOMAIN)
    assert result.verified and result.warnings == ()


def test_replay_with_a_new_challenge_fails() -> None:
    presentation = _presentation()
    result = verify(presentation, now=NOW, challenge="a-fresh-nonce-for-session-2", domain=DOMAIN)
    assert not result.verified
    proof = result.check("proof")
    assert proof is not None and "challenge" in proof.errors[0].detail


def test_domain_mismatch_fails() -> None:
    result = verify(_presentation(), now=NOW, challenge=CHALLENGE, domain="https://evil.example")
    assert not result.verified
    assert "domain" in result.all_errors()[0].detail


def test_tampered_challenge_in_proof_fails() -> None:
    presentation = tampered(_presentation(), ("proof", "challenge"), "attacker-nonce")
    assert not verify(presentation, now=NOW, challenge="attacker-nonce", domain=DOMAIN).verified


def test_without_expected_challenge_it_warns() -> None:
    result = verify(_presentation(), now=NOW)
    assert result.verified
    assert "challenge-not-checked" in [w.code for w in result.warnings]


def test_signing_requires_a_challenge_and_a_bound_holder() -> None:
    unsigned = create_presentation([signed(ISSUER)], holder=did(HOLDER))
    with pytest.raises(InvalidInput, match="challenge"):
        sign_presentation(unsigned, secret_key=HOLDER.multikey, suite="eddsa-rdfc-2022", challenge="")
    with pytest.raises(InvalidKey, match="holder"):
        sign_presentation(unsigned, secret_key=key(13).multikey, suite="eddsa-rdfc-2022", challenge=CHALLENGE)


def test_holder_binding_fails_when_someone_else_signs() -> None:
    unsigned = create_presentation([signed(ISSUER)], holder=did(HOLDER))
    intruder = key(14)
    forged = add_proof(unsigned, private_key=intruder, suite="eddsa-rdfc-2022",
                       verification_method=f"{did(intruder)}#{intruder.public_key.multikey}",
                       proof_purpose="authentication", challenge=CHALLENGE, created=CREATED)
    result = verify(forged, now=NOW, challenge=CHALLENGE)
    proof, binding = result.check("proof"), result.check("issuer-binding")
    assert proof is not None and proof.verified
    assert binding is not None and not binding.verified
    assert binding.errors[0].extra["reason"] == "holder-mismatch"
    assert not result.verified


def test_presentation_signed_for_assertion_fails_the_proof_check() -> None:
    unsigned = create_presentation([signed(ISSUER)], holder=did(HOLDER))
    wrong_purpose = add_proof(unsigned, private_key=HOLDER, suite="eddsa-jcs-2022",
                              verification_method=f"{did(HOLDER)}#{HOLDER.public_key.multikey}",
                              challenge=CHALLENGE, created=CREATED)
    result = verify(wrong_purpose, now=NOW, challenge=CHALLENGE)
    assert not result.verified
    assert "proofPurpose" in result.all_errors()[0].detail


def test_every_embedded_credential_is_verified() -> None:
    good = signed(ISSUER)
    forged = tampered(signed(ISSUER), ("credentialSubject", "degree", "name"), "Doctor of Everything")
    expired = signed(ISSUER, validUntil="2026-03-01T00:00:00Z")
    result = verify(_presentation([good, forged, expired]), now=NOW, challenge=CHALLENGE, domain=DOMAIN)
    assert not result.verified
    assert [r.verified for r in result.credential_results] == [True, False, False]
    forged_proof = result.credential_results[1].check("proof")
    assert forged_proof is not None and not forged_proof.verified
    validity = result.credential_results[2].check("validity")
    assert validity is not None and validity.errors[0].extra["reason"] == "expired"
    proof = result.check("proof")
    assert proof is not None and proof.verified


def test_tampering_with_the_presentation_breaks_its_proof() -> None:
    presentation = _presentation([signed(ISSUER), signed(ISSUER)])
    presentation["verifiableCredential"] = presentation["verifiableCredential"][:1]
    result = verify(presentation, now=NOW, challenge=CHALLENGE, domain=DOMAIN)
    assert result.credential_results[0].verified
    assert not result.verified


def test_no_holder_and_no_credentials_warn() -> None:
    unsigned = create_presentation([])
    presentation = sign_presentation(unsigned, secret_key=HOLDER.multikey, suite="eddsa-jcs-2022",
                                     challenge=CHALLENGE, created=CREATED)
    result = verify(presentation, now=NOW, challenge=CHALLENGE)
    assert {"no-holder", "no-credentials"} <= {w.code for w in result.warnings}
    assert result.verified


def test_enveloped_credentials_are_refused_clearly() -> None:
    enveloped = {"@context": V2, "type": "EnvelopedVerifiableCredential", "id": "data:application/vc+jwt,eyJ"}
    presentation = {"@context": [V2], "type": ["VerifiablePresentation"], "verifiableCredential": [enveloped]}
    result = verify(presentation, now=NOW, checks=["validity"])
    assert not result.verified
    assert "enveloped" in result.credential_results[0].errors[0].detail


def test_presentation_validation() -> None:
    with pytest.raises(InvalidDocument, match="VerifiablePresentation"):
        validate_presentation({"@context": [V2], "type": ["VerifiableCredential"]})
    with pytest.raises(InvalidDocument, match="holder"):
        validate_presentation({"@context": [V2], "type": "VerifiablePresentation", "holder": 7})
    with pytest.raises(InvalidDocument, match="at most"):
        validate_presentation({"@context": [V2], "type": "VerifiablePresentation",
                               "verifiableCredential": [{}] * 33})
    assert create_presentation([], holder="did:example:h")["@context"] == [V2]


def test_v11_credentials_get_a_v11_presentation() -> None:
    vc11 = issue(credential_v11(did(ISSUER)), secret_key=ISSUER.multikey, suite="eddsa-rdfc-2022",
                 created=CREATED)
    presentation = create_presentation([vc11], holder=did(HOLDER))
    assert presentation["@context"] == [V1, DATA_INTEGRITY]
    signed_vp = sign_presentation(presentation, secret_key=HOLDER.multikey, suite="eddsa-rdfc-2022",
                                  challenge=CHALLENGE, created=CREATED)
    result = verify(signed_vp, now=NOW, challenge=CHALLENGE)
    assert result.verified, result.to_json()
    assert result.credential_results[0].check("validity") is not None
