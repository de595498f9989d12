"""Author-side helpers: build and sign each operation type (used by the CLI, the node and tests).

Each returns the envelope wire bytes, ready for ``POST /v1/ops``. ``prev`` is the current version hash
of the object being changed (``didDocumentMetadata.versionHash`` for a DID, ``version_hash`` of a status
list or of the validator record); ``valid_until_height`` bounds how long the operation may wait.
"""

from __future__ import annotations

from typing import Any

from ledgr.crypto.keys import PrivateKey, PublicKey
from ledgr.did.key import did_key_verification_method
from ledgr.did.ledgr_method import derive_did
from ledgr.errors import InvalidInput
from ledgr.ledger.operations import sign_operation
from ledgr.ledger.rules_evidence import SignedVote, offence_id
from ledgr.ledger.rules_validators import TARGET as VALIDATORS_TARGET
from ledgr.ledger.validators import ValidatorSet


def did_create(template: dict[str, Any], key: PrivateKey, key_fragment: str, *, chain_id: str,
               valid_until_height: int) -> tuple[str, bytes]:
    """Create a did:ledgr from a placeholder document (``did:ledgr:{SCID}`` where it names itself).

    ``key`` must be the key of ``#key_fragment``, listed under capabilityInvocation or authentication.
    Returns the derived DID and the envelope.
    """
    did = derive_did(template)
    envelope = sign_operation("did.create", did, {"document": template}, prev=None, chain_id=chain_id,
                              valid_until_height=valid_until_height,
                              verification_method=f"{did}#{key_fragment}", key=key)
    return did, envelope


def did_update(did: str, document: dict[str, Any], *, prev: bytes, verification_method: str,
               key: PrivateKey, chain_id: str, valid_until_height: int,
               compromised_keys: list[str] | None = None) -> bytes:
    body: dict[str, Any] = {"document": document}
    if compromised_keys:
        body["compromisedKeys"] = compromised_keys
    return sign_operation("did.update", did, body, prev=prev, chain_id=chain_id,
                          valid_until_height=valid_until_height, verification_method=verification_method,
                          key=key)


def did_deactivate(did: str, *, prev: bytes, verification_method: str, key: PrivateKey, chain_id: str,
                   valid_until_height: int, compromised_keys: list[str] | None = None) -> bytes:
    body: dict[str, Any] = {"compromisedKeys": compromised_keys} if compromised_keys else {}
    return sign_operation("did.deactivate", did, body, prev=prev, chain_id=chain_id,
                          valid_until_height=valid_until_height, verification_method=verification_method,
                          key=key)


def statuslist_publish(credential: dict[str, Any], *, prev: bytes | None, verification_method: str,
                       key: PrivateKey, chain_id: str, valid_until_height: int) -> bytes:
    """``statuslist.create`` (prev None) or ``statuslist.update`` for an issuer-signed list credential."""
    op_type = "statuslist.create" if prev is None else "statuslist.update"
    return sign_operation(op_type, str(credential["id"]), {"credential": credential}, prev=prev,
                          chain_id=chain_id, valid_until_height=valid_until_height,
                          verification_method=verification_method, key=key)


def resource_create(did: str, resource_id: str, *, name: str, media_type: str, content: Any,
                    verification_method: str, key: PrivateKey, chain_id: str,
                    valid_until_height: int) -> bytes:
    body = {"name": name, "mediaType": media_type, "content": content}
    return sign_operation("resource.create", f"{did}/resources/{resource_id}", body, prev=None,
                          chain_id=chain_id, valid_until_height=valid_until_height,
                          verification_method=verification_method, key=key)


def validators_update(validator_set: ValidatorSet, approvals: list[dict[str, str]], *, prev: bytes,
                      admin_key: PrivateKey, chain_id: str, valid_until_height: int,
                      force: bool = False) -> bytes:
    """Submit a new validator set with approvals from ``rules_validators.approve`` (same ``force``)."""
    body: dict[str, Any] = {"validator_set": validator_set.to_json(), "approvals": approvals}
    if force:
        body["force"] = True
    return sign_operation("validators.update", VALIDATORS_TARGET, body, prev=prev, chain_id=chain_id,
                          valid_until_height=valid_until_height,
                          verification_method=did_key_verification_method(admin_key.public_key),
                          key=admin_key)


def evidence_submit(accused: PublicKey, votes: list[SignedVote], *, node_key: PrivateKey, chain_id: str,
                    valid_until_height: int) -> bytes:
    """Put two conflicting votes of ``accused`` on the ledger, signed by a validator's ``node_key``."""
    if len(votes) != 2:
        raise InvalidInput("evidence is exactly two votes")
    target = offence_id(accused, votes[0], votes[1]).hex()
    body = {"validator": accused.multikey, "votes": [v.to_json() for v in votes]}
    return sign_operation("evidence.submit", target, body, prev=None, chain_id=chain_id,
                          valid_until_height=valid_until_height,
                          verification_method=did_key_verification_method(node_key.public_key),
                          key=node_key)
