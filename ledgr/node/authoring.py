"""Client conveniences over the ledger's author helpers (``ledgr.ledger.author``): a default DID
document template with one key, and operations valid for the next ``VALIDITY_HEIGHTS`` heights.

Used by ``ledgr did …``, the demo, the cluster benchmark and the tests. A new ``did:ledgr`` is derived
from its creating document written with the placeholder DID (``ledgr.did.ledgr_method``), so the
identifier is known before the operation is submitted.
"""

from __future__ import annotations

from typing import Any

from ledgr.crypto import PrivateKey
from ledgr.did.ledgr_method import PLACEHOLDER_DID, substitute
from ledgr.ledger import author

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
    return author.did_create(doc, key, "key-1", chain_id=chain_id,
                             valid_until_height=height + VALIDITY_HEIGHTS)


def document_for(did: str, template: dict[str, Any]) -> dict[str, Any]:
    result: dict[str, Any] = substitute(template, did)
    return result


def update_did(key: PrivateKey, did: str, document: dict[str, Any], prev: bytes, chain_id: str, height: int,
               verification_method: str | None = None) -> bytes:
    method = verification_method or f"{did}#key-1"
    return author.did_update(did, document, prev=prev, verification_method=method, key=key,
                             chain_id=chain_id, valid_until_height=height + VALIDITY_HEIGHTS)


def deactivate_did(key: PrivateKey, did: str, prev: bytes, chain_id: str, height: int,
                   verification_method: str | None = None) -> bytes:
    method = verification_method or f"{did}#key-1"
    return author.did_deactivate(did, prev=prev, verification_method=method, key=key, chain_id=chain_id,
                                 valid_until_height=height + VALIDITY_HEIGHTS)
