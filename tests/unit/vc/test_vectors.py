"""Every vc-di-eddsa test vector, reproduced step by step and byte for byte (vc-di-eddsa v1.0 App. A)."""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from ledgr.crypto import PrivateKey, multibase, sha256
from ledgr.did.key import did_key_document
from ledgr.vc.proofs import add_proof, verify_proofs
from ledgr.vc.suites import suite_by_name
from tests.paths import EDDSA_VECTORS


@dataclass(frozen=True)
class Vector:
    name: str
    folder: Path
    suffix: str
    unsigned: str
    suite: str

    def text(self, stem: str) -> str:
        return (self.folder / f"{stem}{self.suffix}.txt").read_text()

    def json(self, stem: str) -> Any:
        return json.loads((self.folder / f"{stem}{self.suffix}.json").read_text())


VECTORS = [
    Vector("rdfc", EDDSA_VECTORS / "eddsa-rdfc-2022", "DataInt", "unsigned.json", "eddsa-rdfc-2022"),
    Vector("rdfc-employ", EDDSA_VECTORS / "eddsa-rdfc-2022" / "employ", "DataInt", "employmentAuth.json",
           "eddsa-rdfc-2022"),
    Vector("jcs", EDDSA_VECTORS / "eddsa-jcs-2022", "JCS", "unsigned.json", "eddsa-jcs-2022"),
    Vector("ed25519-2020", EDDSA_VECTORS / "Ed25519Signature2020", "EdSig", "unsigned.json",
           "Ed25519Signature2020"),
]
IDS = [v.name for v in VECTORS]
KEYS = json.loads((EDDSA_VECTORS / "keyPair.json").read_text())
PRIVATE_KEY = PrivateKey.from_multikey(KEYS["privateKeyMultibase"])


def resolve(method_id: str) -> dict[str, Any]:
    return did_key_document(method_id.split("#", 1)[0])


def _unsigned(vector: Vector) -> dict[str, Any]:
    return json.loads((EDDSA_VECTORS / vector.unsigned).read_text())  # type: ignore[no-any-return]


def _steps(vector: Vector) -> tuple[bytes, bytes]:
    """(transformed document, canonical proof configuration) computed by ledgr's suite."""
    suite = suite_by_name(vector.suite)
    document = suite.prepare_document(_unsigned(vector))
    options = {k: v for k, v in vector.json("proofConfig").items() if k != "@context"}
    options = suite.prepare_options(document, options)
    return suite.transformation(document, options, None), suite.proof_configuration(document, options, None)


def test_key_pair_vector() -> None:
    assert PRIVATE_KEY.public_key.multikey == KEYS["publicKeyMultibase"]


@pytest.mark.parametrize("vector", VECTORS, ids=IDS)
def test_canonical_document(vector: Vector) -> None:
    transformed, _ = _steps(vector)
    assert transformed.decode("utf-8") == vector.text("canonDoc")


@pytest.mark.parametrize("vector", VECTORS, ids=IDS)
def test_canonical_proof_configuration(vector: Vector) -> None:
    _, config = _steps(vector)
    assert config.decode("utf-8") == vector.text("proofCanon")


@pytest.mark.parametrize("vector", VECTORS, ids=IDS)
def test_hashes(vector: Vector) -> None:
    transformed, config = _steps(vector)
    suite = suite_by_name(vector.suite)
    assert sha256(transformed).hex() == vector.text("docHash").strip()
    assert sha256(config).hex() == vector.text("proofHash").strip()
    assert suite.hashing(transformed, config).hex() == vector.text("combinedHash").strip()


@pytest.mark.parametrize("vector", VECTORS, ids=IDS)
def test_signature_and_proof_value(vector: Vector) -> None:
    transformed, config = _steps(vector)
    suite = suite_by_name(vector.suite)
    signature = suite.serialization(suite.hashing(transformed, config), PRIVATE_KEY)
    assert signature.hex() == vector.text("sigHex").strip()
    assert multibase.encode_base58btc(signature) == vector.text("sigBTC58").strip()


@pytest.mark.parametrize("vector", VECTORS, ids=IDS)
def test_add_proof_reproduces_signed_document(vector: Vector) -> None:
    signed = vector.json("signed")
    proof = signed["proof"]
    result = add_proof(_unsigned(vector), private_key=PRIVATE_KEY, suite=vector.suite,
                       verification_method=proof["verificationMethod"], created=proof["created"])
    assert result == signed
    assert result["proof"]["proofValue"] == vector.text("sigBTC58").strip()


@pytest.mark.parametrize("vector", VECTORS, ids=IDS)
def test_signed_vector_verifies(vector: Vector) -> None:
    checks = verify_proofs(vector.json("signed"), resolve_controller=resolve)
    assert len(checks) == 1
    check = checks[0]
    assert check.verified, check.error
    assert check.suite == vector.suite
    assert check.purpose == "assertionMethod"
    assert check.verification_method == vector.json("signed")["proof"]["verificationMethod"]


def _tampered_claims(document: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """One tampered copy per claim path (every string leaf outside the proof)."""
    out: list[tuple[str, dict[str, Any]]] = []

    def walk(value: Any, path: list[Any]) -> None:
        if isinstance(value, dict):
            for key, item in value.items():
                if path or key not in ("proof", "@context"):
                    walk(item, [*path, key])
        elif isinstance(value, list):
            for index, item in enumerate(value):
                walk(item, [*path, index])
        elif isinstance(value, str):
            copied = copy.deepcopy(document)
            target = copied
            for step in path[:-1]:
                target = target[step]
            target[path[-1]] = value + "x" if not value.endswith("Z") else value.replace("Z", "+01:00")
            out.append(("/".join(map(str, path)), copied))

    walk(document, [])
    return out


@pytest.mark.parametrize("vector", VECTORS, ids=IDS)
def test_tampering_any_claim_fails(vector: Vector) -> None:
    tampered = _tampered_claims(vector.json("signed"))
    assert len(tampered) >= 8
    for path, document in tampered:
        checks = verify_proofs(document, resolve_controller=resolve)
        assert not checks[0].verified, f"tampered {path} still verifies"


@pytest.mark.parametrize("vector", VECTORS, ids=IDS)
@pytest.mark.parametrize(("member", "value"), [
    ("created", "2023-02-24T23:36:39Z"),
    ("verificationMethod", "did:key:z6MkhWqdDBPojHA7cprTGTt5yHv5yUi1B8cnXn8ReLumkw6E"
                           "#z6MkhWqdDBPojHA7cprTGTt5yHv5yUi1B8cnXn8ReLumkw6E"),
    ("proofPurpose", "authentication"),
    ("expires", "2999-01-01T00:00:00Z"),
    ("challenge", "abc"),
    ("domain", "example.org"),
    ("proofValue", "z2YwC8z3ap7yx1nZYCg4L3j3ApHsF8kgPdSb5xoS1VR7vPG3F561B52hYnQF9"
                   "iseabecm3ijx4K1FBTQsCZahKZmf"),
])
def test_tampering_any_proof_option_fails(vector: Vector, member: str, value: str) -> None:
    signed = vector.json("signed")
    signed["proof"][member] = value
    checks = verify_proofs(signed, resolve_controller=resolve,
                           expected_purpose=signed["proof"]["proofPurpose"])
    assert not checks[0].verified


@pytest.mark.parametrize("vector", VECTORS, ids=IDS)
def test_other_key_fails(vector: Vector) -> None:
    other = PrivateKey.from_seed(bytes(range(32))).public_key.multikey
    signed = vector.json("signed")

    def resolve_other(method_id: str) -> dict[str, Any]:
        document = resolve(method_id)
        document["verificationMethod"][0]["publicKeyMultibase"] = other
        return document

    checks = verify_proofs(signed, resolve_controller=resolve_other)
    assert not checks[0].verified
    assert checks[0].error is not None and "does not verify" in checks[0].error.detail
