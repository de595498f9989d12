"""did:key (Ed25519) creation and resolution, including the derived X25519 keyAgreement key."""

from __future__ import annotations

import pytest

from ledgr.crypto import PrivateKey
from ledgr.did.key import did_key_document, did_key_from_public_key, public_key_of_did_key
from ledgr.did.syntax import parse_did_url
from ledgr.errors import InvalidDid

# Ed25519 did:key with its derived X25519 key (the pair used across did:key implementations' test data)
DID = "did:key:z6MkmjY8GnV5i9YTDtPETC2uUAW6ejw3nk5mXF5yci5ab7th"
X25519 = "z6LShpNhGwSupbB7zjuivH156vhLJBDDzmQtA4BY9S94pe1K"


def test_vector_document() -> None:
    doc = did_key_document(DID)
    vm_id = f"{DID}#z6MkmjY8GnV5i9YTDtPETC2uUAW6ejw3nk5mXF5yci5ab7th"
    assert doc["id"] == DID
    assert doc["assertionMethod"] == [vm_id]
    assert doc["authentication"] == [vm_id]
    assert doc["keyAgreement"] == [f"{DID}#{X25519}"]
    assert doc["verificationMethod"][1]["publicKeyMultibase"] == X25519


def test_round_trip_generated() -> None:
    key = PrivateKey.from_seed(b"\x07" * 32)
    did = did_key_from_public_key(key.public_key)
    assert public_key_of_did_key(did) == key.public_key


@pytest.mark.parametrize("bad", ["did:key:", "did:key:zQ3s", "did:web:example.com", "did:key:z6Mk!!"])
def test_bad_did_key(bad: str) -> None:
    with pytest.raises(InvalidDid):
        public_key_of_did_key(bad)


def test_did_url_parse() -> None:
    url = parse_did_url("did:ledgr:abc/resources/schema-1?versionId=3#key-1")
    assert (url.did, url.path, url.fragment) == ("did:ledgr:abc", "/resources/schema-1", "key-1")
    assert url.query_value("versionId") == "3"
