"""did:ledgr identifiers: self-certifying derivation and syntax."""

from __future__ import annotations

import hashlib
import json

import base58
import pytest

from ledgr.did.ledgr_method import PLACEHOLDER_DID, check_ledgr_did, derive_did, is_ledgr_did, substitute
from ledgr.errors import InvalidDid

TEMPLATE = {
    "@context": ["https://www.w3.org/ns/did/v1"],
    "id": PLACEHOLDER_DID,
    "verificationMethod": [{"id": f"{PLACEHOLDER_DID}#key-1", "type": "Multikey",
                            "controller": PLACEHOLDER_DID,
                            "publicKeyMultibase": "z6MkmjY8GnV5i9YTDtPETC2uUAW6ejw3nk5mXF5yci5ab7th"}],
    "authentication": [f"{PLACEHOLDER_DID}#key-1"],
}


def test_derivation_matches_the_method_specification() -> None:
    # RFC 8785 of this document equals sorted-key compact JSON (ASCII only, no numbers)
    jcs = json.dumps(TEMPLATE, sort_keys=True, separators=(",", ":")).encode()
    expected = "did:ledgr:" + base58.b58encode(hashlib.sha256(jcs).digest()[:16]).decode()
    assert derive_did(TEMPLATE) == expected
    assert is_ledgr_did(expected)


def test_any_change_changes_the_identifier() -> None:
    changed = json.loads(json.dumps(TEMPLATE))
    other_key = "z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK"
    changed["verificationMethod"][0]["publicKeyMultibase"] = other_key
    assert derive_did(changed) != derive_did(TEMPLATE)


def test_substitution_replaces_every_self_reference() -> None:
    did = derive_did(TEMPLATE)
    document = substitute(TEMPLATE, did)
    assert document["id"] == did
    assert document["authentication"] == [f"{did}#key-1"]
    assert document["verificationMethod"][0]["controller"] == did
    assert PLACEHOLDER_DID not in json.dumps(document)
    assert TEMPLATE["id"] == PLACEHOLDER_DID


@pytest.mark.parametrize("text", ["did:ledgr:", "did:ledgr:0OIl0OIl0OIl0OIl0OIl", "did:key:z6Mk",
                                  "did:ledgr:" + base58.b58encode(b"\x01" * 15).decode(),
                                  "did:ledgr:" + base58.b58encode(b"\x01" * 17).decode(), 42])
def test_invalid_identifiers(text: object) -> None:
    assert not is_ledgr_did(text)
    if isinstance(text, str):
        with pytest.raises(InvalidDid):
            check_ledgr_did(text)
