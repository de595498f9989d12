"""The ``did:key`` method for Ed25519 (W3C CCG did:key Method v0.9, §3.1 "Create" / "Read").

``did:key:<publicKeyMultibase>``: the identifier *is* the Multikey, so resolution needs no ledger.
The document lists the Ed25519 key under every verification relationship except ``keyAgreement``,
which gets the derived X25519 key (``enableEncryptionKeyDerivation``, did:key §3.1.2 step 6).
"""

from __future__ import annotations

from typing import Any

from ledgr.crypto.keys import PublicKey, x25519_multikey
from ledgr.did.syntax import parse_did
from ledgr.errors import InvalidDid, InvalidKey

DID_V1 = "https://www.w3.org/ns/did/v1"
MULTIKEY_V1 = "https://w3id.org/security/multikey/v1"

SIGNING_RELATIONSHIPS = ("authentication", "assertionMethod", "capabilityInvocation",
                         "capabilityDelegation")


def did_key_from_public_key(public_key: PublicKey) -> str:
    return "did:key:" + public_key.multikey


def did_key_verification_method(public_key: PublicKey) -> str:
    """The id of the Ed25519 verification method of a did:key (``did:key:z…#z…``)."""
    multikey = public_key.multikey
    return f"did:key:{multikey}#{multikey}"


def public_key_of_did_key(did: str) -> PublicKey:
    method, msi = parse_did(did)
    if method != "key":
        raise InvalidDid(f"not a did:key: {did}")
    if not msi.startswith("z6Mk"):
        raise InvalidDid("only Ed25519 did:key identifiers (z6Mk…) are supported")
    try:
        return PublicKey.from_multikey(msi)
    except InvalidKey as exc:
        raise InvalidDid(f"did:key does not hold a valid Ed25519 key: {exc.detail}") from exc


def did_key_document(did: str) -> dict[str, Any]:
    """The DID document of an Ed25519 did:key (did:key §3.1.2, Multikey representation)."""
    public_key = public_key_of_did_key(did)
    multikey = public_key.multikey
    vm_id = f"{did}#{multikey}"
    x_multikey = x25519_multikey(public_key.to_x25519())
    ka_id = f"{did}#{x_multikey}"
    document: dict[str, Any] = {
        "@context": [DID_V1, MULTIKEY_V1],
        "id": did,
        "verificationMethod": [
            {"id": vm_id, "type": "Multikey", "controller": did, "publicKeyMultibase": multikey},
            {"id": ka_id, "type": "Multikey", "controller": did, "publicKeyMultibase": x_multikey},
        ],
    }
    for relationship in SIGNING_RELATIONSHIPS:
        document[relationship] = [vm_id]
    document["keyAgreement"] = [ka_id]
    return document
