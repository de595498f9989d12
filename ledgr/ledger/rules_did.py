"""``did.create``, ``did.update`` and ``did.deactivate`` (docs/did-method.md "CRUD operations").

Each handler checks everything first and writes last, into the operation's own overlay.
"""

from __future__ import annotations

import json
from typing import Any

from ledgr.crypto import canonicalize
from ledgr.crypto.keys import PublicKey
from ledgr.crypto.multibase import X25519_PUB
from ledgr.crypto.multibase import decode as multibase_decode
from ledgr.did.document import DID_CONTEXTS, DidDocument, parse_document
from ledgr.did.ledgr_method import (
    PREFIX,
    is_ledgr_did,
    placeholder_in_keys,
    scid_of_canonical,
    substitute_canonical,
)
from ledgr.did.records import CompromisedKey, DidHead
from ledgr.errors import InvalidDocument, InvalidEncoding, InvalidKey
from ledgr.ledger import limits
from ledgr.ledger.authorize import (
    CONTROLLER_RELATIONSHIPS,
    DidState,
    authorize_controller,
    load_head,
    load_live_did,
    remember_document,
)
from ledgr.ledger.context import ExecContext, reject, require_members, sized_json
from ledgr.ledger.memo import Memo
from ledgr.ledger.operations import Operation
from ledgr.ledger.records import encode_head, encode_version
from ledgr.ledger.state import Overlay, did_head_key, did_version_key


def _parse(value: Any, did: str) -> DidDocument:
    try:
        return parse_document(value, did)
    except InvalidDocument as exc:
        raise reject(exc.detail, "invalid-document") from exc


def _write(state: Overlay, head: DidHead, document_jcs: bytes) -> None:
    """Write the head and the new version; the document is stored as its RFC 8785 bytes."""
    state.put(did_head_key(head.did), encode_head(head))
    state.put(did_version_key(head.did, head.seq),
              encode_version(head.seq, head.version_hash, head.updated_ms, head.deactivated, document_jcs))


def _target_did(op: Operation) -> str:
    if not is_ledgr_did(op.target):
        raise reject("target must be a did:ledgr identifier", "invalid-target")
    return op.target


CREATE_PLANS: Memo[bytes, tuple[str, bytes, DidDocument, PublicKey | None]] = Memo(16384)
"""Operation hash → the state-independent part of its ``did.create`` (see ``ledgr.ledger.memo``)."""


def _create_plan(op: Operation) -> tuple[str, bytes, DidDocument, PublicKey | None]:
    """Everything ``did.create`` checks without state: the self-certifying identifier, the
    substituted document's RFC 8785 bytes, the parsed document and the signer's key in it (None if
    the method is not a controller key). Pure in the envelope bytes."""
    did = _target_did(op)
    require_members(op.body, {"document"})
    if op.prev is not None:
        raise reject("did.create must have prev null", "prev-mismatch")
    template = op.body["document"]
    template_jcs = sized_json(template, limits.MAX_DOCUMENT_BYTES, "DID document")
    if not isinstance(template, dict) or PREFIX + scid_of_canonical(template_jcs) != did:
        raise reject("target is not the identifier derived from the document (did:ledgr is "
                     "self-certifying)", "did-not-self-certifying")
    if placeholder_in_keys(template):
        raise reject("the placeholder DID may appear in values only, not in member names",
                     "invalid-document")
    document_jcs = substitute_canonical(template_jcs, did)
    if len(document_jcs) > limits.MAX_DOCUMENT_BYTES:
        raise reject(f"DID document exceeds {limits.MAX_DOCUMENT_BYTES} bytes", "size-limit")
    document = _parse(json.loads(document_jcs), did)
    return did, document_jcs, document, document.key_for(op.verification_method, CONTROLLER_RELATIONSHIPS)


def apply_did_create(state: Overlay, op: Operation, ctx: ExecContext) -> None:
    plan = CREATE_PLANS.get(op.hash)
    if plan is None:
        plan = CREATE_PLANS.remember(op.hash, _create_plan(op))
    did, document_jcs, document, key = plan
    if load_head(state, did) is not None:
        raise reject(f"{did} already exists", "did-exists")
    if key is None:
        raise reject("did.create must be signed by a capabilityInvocation or authentication key "
                     "of the new document", "unauthorized-key")
    if not op.signature_valid(key):
        raise reject("the operation signature does not verify", "bad-signature")
    version_hash = op.hash.hex()
    head = DidHead(did=did, seq=1, version_hash=version_hash, created_ms=ctx.time_ms,
                   updated_ms=ctx.time_ms, deactivated=False, compromised=())
    _write(state, head, document_jcs)
    remember_document(did, version_hash, document)


def _compromised(value: Any, head: DidHead, ctx: ExecContext) -> tuple[CompromisedKey, ...]:
    if not isinstance(value, list) or len(value) > limits.MAX_COMPROMISED_PER_OP:
        raise reject(f"compromisedKeys must be a list of at most {limits.MAX_COMPROMISED_PER_OP} "
                     "publicKeyMultibase values", "size-limit")
    known = {c.public_key_multibase for c in head.compromised}
    added: list[CompromisedKey] = []
    for item in value:
        if not isinstance(item, str) or len(item) > 128:
            raise reject("compromisedKeys entries are publicKeyMultibase strings", "malformed")
        try:
            if multibase_decode(item)[:2] != X25519_PUB:
                PublicKey.from_multikey(item)
        except (InvalidEncoding, InvalidKey) as exc:
            raise reject(f"compromisedKeys entry {item[:24]} is not a Multikey", "malformed") from exc
        if item not in known:
            known.add(item)
            added.append(CompromisedKey(item, ctx.time_ms))
    total = (*head.compromised, *added)
    if len(total) > limits.MAX_COMPROMISED_PER_DID:
        raise reject(f"a DID records at most {limits.MAX_COMPROMISED_PER_DID} compromised keys",
                     "size-limit")
    return total


def _live_subject(state: Overlay, op: Operation) -> tuple[DidState, DidHead]:
    did = _target_did(op)
    subject = load_live_did(state, did, "DID")
    head = subject.head
    if head is None:
        raise reject("did:key documents cannot be changed", "unsupported-did")
    if op.prev != bytes.fromhex(head.version_hash):
        raise reject(f"prev does not match the current version of {did} (stale or replayed)",
                     "prev-mismatch")
    if head.seq >= limits.MAX_VERSIONS_PER_DID:
        raise reject(f"{did} reached {limits.MAX_VERSIONS_PER_DID} versions", "size-limit")
    return subject, head


def _next(state: Overlay, op: Operation, ctx: ExecContext, subject: tuple[DidState, DidHead],
          document_jcs: bytes, compromised: tuple[CompromisedKey, ...], parsed: DidDocument | None) -> None:
    current, head = subject
    authorize_controller(state, op, current)
    signer_vm = current.document.methods.get(op.verification_method)
    if signer_vm is not None and signer_vm.multikey in {c.public_key_multibase for c in compromised}:
        raise reject("the signing key is being declared compromised; sign with another key",
                     "compromised-key")
    seq = head.seq + 1
    version_hash = op.hash.hex()
    new_head = DidHead(did=head.did, seq=seq, version_hash=version_hash, created_ms=head.created_ms,
                       updated_ms=ctx.time_ms, deactivated=parsed is None, compromised=compromised)
    _write(state, new_head, document_jcs)
    if parsed is not None:
        remember_document(head.did, version_hash, parsed)


def apply_did_update(state: Overlay, op: Operation, ctx: ExecContext) -> None:
    require_members(op.body, {"document"}, frozenset({"compromisedKeys"}))
    subject = _live_subject(state, op)
    document_jcs = sized_json(op.body["document"], limits.MAX_DOCUMENT_BYTES, "DID document")
    document = _parse(op.body["document"], subject[0].document.id)
    compromised = _compromised(op.body.get("compromisedKeys", []), subject[1], ctx)
    banned = {c.public_key_multibase for c in compromised}
    for method in document.methods.values():
        if method.multikey in banned:
            raise reject(f"{method.id} uses a key declared compromised", "compromised-key")
    _next(state, op, ctx, subject, document_jcs, compromised, parsed=document)


def apply_did_deactivate(state: Overlay, op: Operation, ctx: ExecContext) -> None:
    require_members(op.body, set(), frozenset({"compromisedKeys"}))
    subject = _live_subject(state, op)
    compromised = _compromised(op.body.get("compromisedKeys", []), subject[1], ctx)
    final = canonicalize({"@context": DID_CONTEXTS[0], "id": subject[0].document.id})
    _next(state, op, ctx, subject, final, compromised, parsed=None)
