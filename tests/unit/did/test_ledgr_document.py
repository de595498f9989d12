"""DID documents accepted on the ledger: shapes, limits, relationships, key types."""

from __future__ import annotations

from typing import Any

import pytest

from ledgr.crypto.keys import PrivateKey
from ledgr.did.document import parse_document
from ledgr.did.key import did_key_document
from ledgr.errors import InvalidDocument

DID = "did:ledgr:PPAkc5QjgV515svzvMcyqF"
KEY = PrivateKey.from_seed(b"\x01" * 32)
X_KEY = "z6LShpNhGwSupbB7zjuivH156vhLJBDDzmQtA4BY9S94pe1K"


def doc(**changes: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "@context": ["https://www.w3.org/ns/did/v1", "https://w3id.org/security/multikey/v1"],
        "id": DID,
        "verificationMethod": [
            {"id": f"{DID}#key-1", "type": "Multikey", "controller": DID,
             "publicKeyMultibase": KEY.public_key.multikey},
            {"id": "#enc", "type": "Multikey", "controller": DID, "publicKeyMultibase": X_KEY}],
        "authentication": ["#key-1"],
        "assertionMethod": [f"{DID}#key-1"],
        "keyAgreement": ["#enc"],
        "capabilityInvocation": [{"id": "#inv", "type": "JsonWebKey", "controller": DID,
                                  "publicKeyJwk": KEY.public_key.to_jwk()}],
        "service": [{"id": "#svc", "type": "LinkedDomains", "serviceEndpoint": "https://example.org"}],
    }
    base.update(changes)
    return {k: v for k, v in base.items() if v is not None}


def test_valid_document_parses() -> None:
    parsed = parse_document(doc(), DID)
    assert parsed.controllers == (DID,)
    assert parsed.key_for(f"{DID}#key-1", ("authentication",)) == KEY.public_key
    assert parsed.key_for(f"{DID}#inv", ("capabilityInvocation",)) == KEY.public_key
    assert parsed.key_for(f"{DID}#key-1", ("capabilityInvocation",)) is None
    assert parsed.method_for(f"{DID}#enc", ("keyAgreement",)) is not None
    assert parsed.key_for(f"{DID}#enc", ("keyAgreement",)) is None


def test_did_key_documents_parse() -> None:
    did = "did:key:" + KEY.public_key.multikey
    parsed = parse_document(did_key_document(did), did)
    assert parsed.key_for(f"{did}#{KEY.public_key.multikey}", ("assertionMethod",)) == KEY.public_key


@pytest.mark.parametrize("changes", [
    {"id": "did:ledgr:other"},
    {"@context": ["https://www.w3.org/2018/credentials/v1"]},
    {"@context": [{"@vocab": "https://example.org/"}]},
    {"name": "Jane Doe"},
    {"authentication": ["#missing"]},
    {"authentication": ["did:ledgr:Other11111111111111111#key-1"]},
    {"keyAgreement": ["#key-1"]},
    {"assertionMethod": ["#enc"]},
    {"verificationMethod": [{"id": "#k", "type": "EcdsaSecp256k1", "controller": DID,
                             "publicKeyMultibase": KEY.public_key.multikey}]},
    {"verificationMethod": [{"id": "#k", "type": "Multikey", "controller": DID,
                             "publicKeyMultibase": "zshort"}]},
    {"verificationMethod": [{"id": "#k", "type": "Multikey", "controller": "not-a-did",
                             "publicKeyMultibase": KEY.public_key.multikey}]},
    {"verificationMethod": [{"id": "#k", "type": "Multikey", "controller": DID,
                             "publicKeyMultibase": KEY.public_key.multikey, "privateKeyMultibase": "z"}]},
    {"verificationMethod": [{"id": "#k/../x", "type": "Multikey", "controller": DID,
                             "publicKeyMultibase": KEY.public_key.multikey}]},
    {"service": [{"id": "#svc", "type": "X", "serviceEndpoint": "https://a"},
                 {"id": "#svc", "type": "X", "serviceEndpoint": "https://b"}]},
    {"service": [{"id": "#s", "type": "X", "serviceEndpoint": {"x": "y" * 3000}}]},
    {"controller": [DID, DID]},
    {"controller": ["not a did"]},
    {"alsoKnownAs": []},
    {"verificationMethod": [{"id": f"#k{i}", "type": "Multikey", "controller": DID,
                             "publicKeyMultibase": KEY.public_key.multikey} for i in range(17)]},
])
def test_invalid_documents(changes: dict[str, Any]) -> None:
    with pytest.raises(InvalidDocument):
        parse_document(doc(**changes), DID)


def test_duplicate_method_ids_across_embedded_and_listed() -> None:
    embedded = {"id": "#key-1", "type": "Multikey", "controller": DID,
                "publicKeyMultibase": KEY.public_key.multikey}
    with pytest.raises(InvalidDocument, match="not unique"):
        parse_document(doc(capabilityInvocation=[embedded]), DID)
