"""Author side of DID operations: build and sign ``did.create`` / ``did.update`` / ``did.deactivate``.

Used by ``ledgr did …``, the demo, the cluster benchmark and the tests. The author canonicalizes the
payload once and signs it (``ledgr.ledger.operations.sign_operation``); the node never re-encodes.
A new ``did:ledgr`` is derived from its creating document written with the placeholder DID
(``ledgr.did.ledgr_method``), so the identifier is known before the operation is submitted.
"""

from __future__ import annotations

from typing import Any

from ledgr.crypto import PrivateKey
from ledgr.did.ledgr_method import PLACEHOLDER_DID, derive_did, substitute
from ledgr.ledger.operations import sign_operation

DID_CONTEXT = "https://www.w3.org/ns/did/v1"
MULTIKEY_CONTEXT = "https://w3id.org/security/multikey/v1"
VALIDITY_HEIGHTS = 1000


def did_template(key: PrivateKey, services: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """A placeholder document with ``key`` as ``#key-1`` under every verification relationship."""
    vm = f"{PLACEHOLDER_DID}#key-1"
    doc: dict[str, Any] = {
        "@context": [DID_CONTEXT, MULTIKEY_CONTEXT],
        "id": PLACEHOLDER_DID,
        "verificationMethod": [{"id": vm, "type": "Multikey", "controller": PLACEHOLDER_DID,
                                "publicKeyMultibase": key.public_key.multikey}],
        "authentication": [vm],
        "assertionMethod": [vm],
        "capabilityInvocation": [vm],
    }
    if services:
        doc["service"] = services
    return doc


def create_did(key: PrivateKey, chain_id: str, height: int,
               template: dict[str, Any] | None = None) -> tuple[str, bytes]:
    """The new DID and the signed ``did.create`` envelope (valid for the next 1000 heights)."""
    doc = template if template is not None else did_template(key)
    did = derive_did(doc)
    envelope = sign_operation("did.create", did, {"document": doc}, prev=None, chain_id=chain_id,
                              valid_until_height=height + VALIDITY_HEIGHTS,
                              verification_method=f"{did}#key-1", key=key)
    return did, envelope


def document_for(did: str, template: dict[str, Any]) -> dict[str, Any]:
    result: dict[str, Any] = substitute(template, did)
    return result


def update_did(key: PrivateKey, did: str, document: dict[str, Any], prev: bytes, chain_id: str, height: int,
               verification_method: str | None = None) -> bytes:
    return sign_operation("did.update", did, {"document": document}, prev=prev, chain_id=chain_id,
                          valid_until_height=height + VALIDITY_HEIGHTS,
                          verification_method=verification_method or f"{did}#key-1", key=key)


def deactivate_did(key: PrivateKey, did: str, prev: bytes, chain_id: str, height: int,
                   verification_method: str | None = None) -> bytes:
    return sign_operation("did.deactivate", did, {}, prev=prev, chain_id=chain_id,
                          valid_until_height=height + VALIDITY_HEIGHTS,
                          verification_method=verification_method or f"{did}#key-1", key=key)
