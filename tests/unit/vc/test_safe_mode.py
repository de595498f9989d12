"""JSON-LD safe mode: anything JSON-LD would silently drop from what is signed is an error.

Plain JSON-LD drops properties whose term maps to no IRI, ``@type`` values that map to no absolute IRI
and relative node ids. A signed credential could then carry claims its signature does not cover. ledgr
refuses them when issuing and when verifying, and names the term.
"""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from ledgr.crypto import PrivateKey
from ledgr.did.key import did_key_document
from ledgr.errors import InvalidDocument, UnmappedTerm
from ledgr.vc.canonical import canonical_nquads
from ledgr.vc.canonical_pyld import pyld_canonical_nquads
from ledgr.vc.proofs import add_proof, verify_proofs
from tests.paths import EDDSA_VECTORS

V2 = "https://www.w3.org/ns/credentials/v2"
KEY = PrivateKey.from_seed(bytes(range(1, 33)))
METHOD = f"did:key:{KEY.public_key.multikey}#{KEY.public_key.multikey}"
EMPLOY = json.loads((EDDSA_VECTORS / "employmentAuth.json").read_text())


def resolve(method_id: str) -> dict[str, Any]:
    return did_key_document(method_id.split("#", 1)[0])


def credential(**subject: Any) -> dict[str, Any]:
    return {"@context": [V2], "id": "urn:uuid:1", "type": ["VerifiableCredential"],
            "issuer": "did:example:issuer", "credentialSubject": {"id": "did:example:subject", **subject}}


def test_undefined_claim_is_named() -> None:
    with pytest.raises(UnmappedTerm) as info:
        canonical_nquads(credential(alumniOf="Example University"))
    assert info.value.extra["term"] == "alumniOf"
    assert "alumniOf" in info.value.detail and info.value.code == "unmapped-term"


def test_undefined_type_is_named() -> None:
    document = credential()
    document["type"].append("AlumniCredential")
    with pytest.raises(UnmappedTerm) as info:
        canonical_nquads(document)
    assert info.value.extra["term"] == "AlumniCredential"


def test_term_defined_as_null_is_unmapped() -> None:
    document = credential(secret="x")
    document["@context"] = [V2, {"secret": None}]
    with pytest.raises(UnmappedTerm, match="secret"):
        canonical_nquads(document)


def test_keyword_like_key_is_unmapped() -> None:
    with pytest.raises(UnmappedTerm, match="@foo"):
        canonical_nquads(credential(**{"@foo": "bar"}))


def test_undefined_value_type_is_unmapped() -> None:
    document = credential()
    document["@context"] = [V2, {"age": "https://example.org/age"}]
    document["credentialSubject"]["age"] = {"@value": "42", "@type": "Integer"}
    with pytest.raises(UnmappedTerm, match="Integer"):
        canonical_nquads(document)


def test_relative_id_rejected() -> None:
    document = credential()
    document["id"] = "credential-1"
    with pytest.raises(InvalidDocument, match="credential-1"):
        canonical_nquads(document)


def test_undefined_term_in_a_nested_type_scoped_object() -> None:
    document = copy.deepcopy(EMPLOY)
    document["credentialSubject"]["employmentAuthorizationDocument"]["favouriteColour"] = "blue"
    with pytest.raises(UnmappedTerm, match="favouriteColour"):
        canonical_nquads(document)


def test_type_scoped_term_does_not_leak_into_nested_nodes() -> None:
    # 'lprNumber' is defined only by EmploymentAuthorizationDocument's type-scoped context.
    document = copy.deepcopy(EMPLOY)
    document["credentialSubject"]["lprNumber"] = "999"
    with pytest.raises(UnmappedTerm, match="lprNumber"):
        canonical_nquads(document)


def test_vocab_contexts_map_every_term() -> None:
    document = credential(alumniOf="Example University")
    document["@context"] = [V2, "https://www.w3.org/ns/credentials/undefined-terms/v2"]
    assert "undefined-term#alumniOf" in canonical_nquads(document)


def test_protected_term_cannot_be_redefined() -> None:
    document = credential()
    document["name"] = "Diploma"
    document["@context"] = [V2, {"name": "https://attacker.example/#name"}]
    with pytest.raises(InvalidDocument, match="protected"):
        canonical_nquads(document)


def test_type_scoped_protected_definition_wins_over_an_outer_one() -> None:
    document = credential()
    document["@context"] = [V2, {"issuer": "https://attacker.example/#issuer"}]
    nquads = canonical_nquads(document)
    assert "<https://www.w3.org/2018/credentials#issuer>" in nquads and "attacker" not in nquads
    assert nquads == pyld_canonical_nquads(document)


def test_issuing_refuses_an_unmapped_claim() -> None:
    with pytest.raises(UnmappedTerm, match="alumniOf"):
        add_proof(credential(alumniOf="x"), private_key=KEY, suite="eddsa-rdfc-2022",
                  verification_method=METHOD)


def test_unsigned_claim_added_after_signing_is_caught() -> None:
    signed = add_proof(credential(), private_key=KEY, suite="eddsa-rdfc-2022", verification_method=METHOD)
    forged = copy.deepcopy(signed)
    forged["credentialSubject"]["degree"] = "PhD"
    # Without safe mode the forged claim vanishes: pyld produces the very statements that were signed.
    plain = {k: v for k, v in signed.items() if k != "proof"}
    assert pyld_canonical_nquads({k: v for k, v in forged.items() if k != "proof"}) == \
        pyld_canonical_nquads(plain)
    check = verify_proofs(forged, resolve_controller=resolve)[0]
    assert not check.verified
    assert isinstance(check.error, UnmappedTerm) and check.error.extra["term"] == "degree"


def test_unmapped_proof_option_is_caught() -> None:
    signed = add_proof(credential(), private_key=KEY, suite="eddsa-rdfc-2022", verification_method=METHOD)
    signed["proof"]["note"] = "unsigned"
    check = verify_proofs(signed, resolve_controller=resolve)[0]
    assert not check.verified and isinstance(check.error, UnmappedTerm)


@pytest.mark.parametrize("document", [
    {"@context": {"@vocab": "https://example.org/#"}, "@id": "urn:a",
     "name": {"@value": "مرحبا", "@language": "ar", "@direction": "rtl"}},
    {"@context": {"@vocab": "https://example.org/#", "@direction": "rtl"}, "@id": "urn:a", "name": "x"},
    {"@context": {"@vocab": "https://example.org/#",
                  "name": {"@id": "https://example.org/#name", "@direction": "ltr"}},
     "@id": "urn:a", "name": "x"},
])
def test_base_direction_would_be_dropped_so_it_is_refused(document: dict[str, Any]) -> None:
    with pytest.raises(UnmappedTerm) as info:
        canonical_nquads(document)
    assert info.value.extra["term"] == "@direction"


def test_undefined_vocabulary_value_is_named() -> None:
    proof_config = {"@context": [V2], "type": "DataIntegrityProof", "cryptosuite": "eddsa-rdfc-2022",
                    "verificationMethod": METHOD, "proofPurpose": "assertionMethodX"}
    with pytest.raises(UnmappedTerm) as info:
        canonical_nquads(proof_config)
    assert info.value.extra["term"] == "assertionMethodX"
