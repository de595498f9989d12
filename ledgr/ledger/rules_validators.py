"""``validators.update``: membership change approved by a quorum of operator admin keys (consensus.md §3).

The body carries the complete new set and ``approvals``: Ed25519 signatures by current admin keys over
:func:`approval_bytes` (chain, prev, new set, expiry), collected off-ledger. The envelope itself is signed
by a current admin key as ``did:key:<admin multikey>#<admin multikey>``. A change committed in block H
appears as ``next_validators_hash`` at H+1 and signs from H+2; only one change may be pending. A set
with fewer than 3 members, or whose quorum needs every member (no crash tolerance, e.g. ``strict`` with
n=3), needs ``"force": true``, which the approvals sign too (consensus.md §3 item 3).
"""

from __future__ import annotations

from typing import Any

from ledgr.crypto import canonicalize
from ledgr.crypto.keys import PrivateKey, PublicKey
from ledgr.crypto.multibase import decode as multibase_decode
from ledgr.crypto.multibase import encode_base58btc
from ledgr.did.key import did_key_verification_method
from ledgr.errors import InvalidEncoding, InvalidInput, InvalidKey
from ledgr.ledger import limits
from ledgr.ledger.context import ExecContext, reject, require_members
from ledgr.ledger.operations import Operation
from ledgr.ledger.records import ValidatorRecord, encode, parse_validator_record
from ledgr.ledger.state import VALIDATORS_KEY, Overlay
from ledgr.ledger.validators import ValidatorSet

APPROVAL_DOMAIN = b"ledgr/validators-approval/v1\x00"
TARGET = "validators"
ACTIVATION_DELAY = 2
MIN_SAFE_VALIDATORS = 3


def approval_bytes(chain_id: str, prev: bytes, validator_set: dict[str, Any], valid_until_height: int,
                   force: bool = False) -> bytes:
    """What each approving operator signs with their admin key."""
    return APPROVAL_DOMAIN + canonicalize({
        "chain_id": chain_id, "prev": prev.hex(), "validator_set": validator_set,
        "valid_until_height": valid_until_height, "force": force,
    })


def approve(admin_key: PrivateKey, chain_id: str, prev: bytes, validator_set: ValidatorSet,
            valid_until_height: int, *, force: bool = False) -> dict[str, str]:
    """Operator side: one approval entry for the ``approvals`` list."""
    message = approval_bytes(chain_id, prev, validator_set.to_json(), valid_until_height, force)
    return {"admin_key": admin_key.public_key.multikey,
            "signature": encode_base58btc(admin_key.sign(message))}


def read_validator_record(state: Overlay) -> ValidatorRecord:
    raw = state.get(VALIDATORS_KEY)
    if raw is None:
        raise reject("the chain has no validator record (genesis missing)", "malformed")
    return parse_validator_record(raw)


def _approvers(body: dict[str, Any], message: bytes, admins: frozenset[PublicKey]) -> set[PublicKey]:
    approvals = body["approvals"]
    if not isinstance(approvals, list) or len(approvals) > limits.MAX_APPROVALS:
        raise reject(f"approvals must be a list of at most {limits.MAX_APPROVALS} entries", "size-limit")
    approvers: set[PublicKey] = set()
    for entry in approvals:
        if not isinstance(entry, dict) or set(entry) != {"admin_key", "signature"}:
            raise reject("each approval is {admin_key, signature}", "malformed")
        try:
            key = PublicKey.from_multikey(entry["admin_key"])
            signature = multibase_decode(entry["signature"])
        except (InvalidKey, InvalidEncoding, TypeError) as exc:
            raise reject("approval admin_key/signature are not decodable", "malformed") from exc
        if key not in admins:
            raise reject(f"{key.multikey} is not a current operator admin key", "unauthorized-key")
        if key in approvers:
            raise reject("an admin key approved twice", "duplicate-approval")
        if not key.verify(message, signature):
            raise reject(f"the approval by {key.multikey} does not verify", "bad-signature")
        approvers.add(key)
    return approvers


def apply_validators_update(state: Overlay, op: Operation, ctx: ExecContext) -> None:
    if op.target != TARGET:
        raise reject("validators.update targets 'validators'", "invalid-target")
    require_members(op.body, {"validator_set", "approvals"}, frozenset({"force"}))
    force = op.body.get("force", False)
    if not isinstance(force, bool):
        raise reject("force must be a boolean", "malformed")
    record = read_validator_record(state)
    if op.prev is None or op.prev.hex() != record.version_hash:
        raise reject("prev does not match the validator set's current version (stale or replayed)",
                     "prev-mismatch")
    if record.pending is not None:
        raise reject("a validator set change is already pending", "validators-change-pending")
    try:
        new_set = ValidatorSet.from_json(op.body["validator_set"])
    except InvalidInput as exc:
        raise reject(exc.detail, "invalid-validator-set") from exc
    current = record.active
    if new_set == current:
        raise reject("the new validator set equals the current one", "invalid-validator-set")
    if not force and (new_set.size < MIN_SAFE_VALIDATORS or new_set.quorum > new_set.size - 1):
        raise reject(f"a set of {new_set.size} with quorum {new_set.quorum} does not survive one validator "
                     "being down (or has fewer than 3 members); approve it with force if intended",
                     "unsafe-validator-set")
    admins = current.admin_keys()
    signer = next((k for k in admins if did_key_verification_method(k) == op.verification_method), None)
    if signer is None:
        raise reject("validators.update must be signed by a current operator admin key "
                     "(did:key:<multikey>#<multikey>)", "unauthorized-key")
    message = approval_bytes(ctx.chain.chain_id, op.prev, op.body["validator_set"], op.valid_until_height,
                             force)
    approvers = _approvers(op.body, message, admins)
    if len(approvers) < current.quorum:
        raise reject(f"{len(approvers)} approvals; a quorum of {current.quorum} current operator admin "
                     "keys is required", "insufficient-approvals")
    if not op.signature_valid(signer):
        raise reject("the operation signature does not verify", "bad-signature")
    updated = ValidatorRecord(active=current, pending=new_set, activates_at=ctx.height + ACTIVATION_DELAY,
                              version_hash=op.hash.hex())
    state.put(VALIDATORS_KEY, encode(updated.to_json()))
