"""The suites' algorithm steps (vc-di-eddsa v1.0 §3.2, §3.3) and interop with another implementation."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from ledgr.crypto import PrivateKey, canonicalize, sha256
from ledgr.did.key import did_key_document
from ledgr.errors import InvalidDocument, VerificationFailed
from ledgr.vc.canonical import canonical_nquads
from ledgr.vc.canonical_pyld import pyld_canonical_nquads
from ledgr.vc.proofs import add_proof, verify_proofs
from ledgr.vc.suites import SUITES, suite_by_name, suite_for_proof
from ledgr.vc.suites.base import decode_proof_value, parse_date_time_stamp
from tests.paths import EDDSA_VECTORS

UNSIGNED = json.loads((EDDSA_VECTORS / "unsigned.json").read_text())
KEY = PrivateKey.from_seed(bytes(range(32)))
# Issued by SpruceID didkit 0.3.3 (Python binding) with the key above: the suite context sits in the
# proof, not in the document (see ledgr/vc/suites/ed25519_signature_2020.py).
DIDKIT_FILE = Path(__file__).parent / "data" / "didkit-ed25519signature2020-vc11.json"
DIDKIT_SIGNED = json.loads(DIDKIT_FILE.read_text())


def resolve(method_id: str) -> dict[str, Any]:
    return did_key_document(method_id.split("#", 1)[0])


def options(suite: str) -> dict[str, Any]:
    cryptosuite = SUITES[suite]
    out: dict[str, Any] = {"type": cryptosuite.proof_type, "created": "2024-01-01T00:00:00Z",
                           "verificationMethod": "did:example:1#k", "proofPurpose": "assertionMethod"}
    if cryptosuite.cryptosuite:
        out["cryptosuite"] = cryptosuite.cryptosuite
    return out


@pytest.mark.parametrize("suite", list(SUITES))
def test_hashing_is_proof_config_hash_then_document_hash(suite: str) -> None:
    assert SUITES[suite].hashing(b"document", b"config") == sha256(b"config") + sha256(b"document")


@pytest.mark.parametrize("suite", list(SUITES))
@pytest.mark.parametrize(("member", "value"), [
    ("type", "Ed25519Signature2018"), ("cryptosuite", "ecdsa-rdfc-2019"), ("created", "yesterday")])
def test_wrong_options_are_refused(suite: str, member: str, value: str) -> None:
    cryptosuite = SUITES[suite]
    bad = {**options(suite), member: value}
    if member == "cryptosuite" and cryptosuite.cryptosuite is None:
        bad = {**options(suite), "cryptosuite": "eddsa-rdfc-2022"}
    with pytest.raises(InvalidDocument):
        cryptosuite.create_proof(UNSIGNED, bad, KEY)


def test_jcs_transformation_is_rfc8785() -> None:
    suite = suite_by_name("eddsa-jcs-2022")
    assert suite.transformation(UNSIGNED, options("eddsa-jcs-2022"), None) == canonicalize(UNSIGNED)
    config = json.loads(suite.proof_configuration(UNSIGNED, options("eddsa-jcs-2022"), None))
    assert config["@context"] == UNSIGNED["@context"]


def test_suite_for_proof() -> None:
    jcs = {"type": "DataIntegrityProof", "cryptosuite": "eddsa-jcs-2022"}
    assert suite_for_proof(jcs).name == "eddsa-jcs-2022"
    assert suite_for_proof({"type": "Ed25519Signature2020"}).name == "Ed25519Signature2020"


@pytest.mark.parametrize("value", ["2024-01-01T00:00:00Z", "2024-01-01T00:00:00.123+02:00"])
def test_date_time_stamps(value: str) -> None:
    assert parse_date_time_stamp(value, "created").tzinfo is not None


@pytest.mark.parametrize("value", ["2024-01-01T00:00:00", "2024-01-01", "2024-13-01T00:00:00Z", 5])
def test_not_date_time_stamps(value: object) -> None:
    with pytest.raises(InvalidDocument):
        parse_date_time_stamp(value, "created")


@pytest.mark.parametrize("value", ["uABC", "z0OIl", "", None])
def test_proof_value_must_be_base58btc(value: object) -> None:
    with pytest.raises(VerificationFailed):
        decode_proof_value(value)


def test_didkit_issued_ed25519_signature_2020_verifies() -> None:
    assert DIDKIT_SIGNED["issuer"] == "did:key:" + KEY.public_key.multikey
    checks = verify_proofs(DIDKIT_SIGNED, resolve_controller=resolve)
    assert [c.verified for c in checks] == [True], checks[0].error


def test_didkit_issued_credential_tampered_fails() -> None:
    tampered = json.loads(json.dumps(DIDKIT_SIGNED))
    tampered["credentialSubject"]["id"] = "did:example:y"
    assert not verify_proofs(tampered, resolve_controller=resolve)[0].verified
    tampered = json.loads(json.dumps(DIDKIT_SIGNED))
    del tampered["proof"]["@context"]
    check = verify_proofs(tampered, resolve_controller=resolve)[0]
    assert not check.verified and "ed25519-2020" in str(check.error)


V1_CREDENTIAL = {"@context": ["https://www.w3.org/2018/credentials/v1"], "id": "urn:uuid:1",
                 "type": ["VerifiableCredential"], "issuer": "did:key:" + KEY.public_key.multikey,
                 "issuanceDate": "2024-01-01T00:00:00Z", "credentialSubject": {"id": "did:example:x"}}
METHOD = f"did:key:{KEY.public_key.multikey}#{KEY.public_key.multikey}"


@pytest.mark.parametrize("suite", ["eddsa-rdfc-2022", "eddsa-jcs-2022"])
def test_vc11_credential_gets_the_data_integrity_context(suite: str) -> None:
    signed = add_proof(V1_CREDENTIAL, private_key=KEY, suite=suite, verification_method=METHOD)
    assert signed["@context"] == [*V1_CREDENTIAL["@context"], "https://w3id.org/security/data-integrity/v2"]
    assert verify_proofs(signed, resolve_controller=resolve)[0].verified
    config = {k: v for k, v in signed["proof"].items() if k != "proofValue"}
    config["@context"] = signed["@context"]
    assert canonical_nquads(config) == pyld_canonical_nquads(config)


def test_vc2_and_plain_json_documents_keep_their_context() -> None:
    assert add_proof(UNSIGNED, private_key=KEY, suite="eddsa-rdfc-2022",
                     verification_method=METHOD)["@context"] == UNSIGNED["@context"]
    plain = {"message": "hello"}
    signed = add_proof(plain, private_key=KEY, suite="eddsa-jcs-2022", verification_method=METHOD)
    assert "@context" not in signed
    assert verify_proofs(signed, resolve_controller=resolve)[0].verified


def test_vc11_rdfc_proof_without_the_context_fails_verification() -> None:
    signed = add_proof(V1_CREDENTIAL, private_key=KEY, suite="eddsa-rdfc-2022", verification_method=METHOD)
    signed["@context"] = V1_CREDENTIAL["@context"]
    check = verify_proofs(signed, resolve_controller=resolve)[0]
    assert not check.verified
