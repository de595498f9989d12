"""Who may sign what: looking up the signer's key in the right document and relationship.

* DID update/deactivate and resource creation: a current controller's ``capabilityInvocation`` or
  ``authentication`` key (DID Core §5.1.2 ``controller``; §5.3.4 capabilityInvocation).
* Status lists: the issuer's ``assertionMethod`` key (VC DM 2.0 §4.7 issuer, via the proof purpose).
Keys the controller declared compromised never authorize anything. Signature checks come last, after
the cheap lookups, since they dominate the cost of an operation.
"""

from __future__ import annotations

from dataclasses import dataclass

from ledgr.crypto.keys import PublicKey
from ledgr.did.document import DidDocument, parse_document
from ledgr.did.key import did_key_document
from ledgr.did.ledgr_method import is_ledgr_did
from ledgr.did.records import DidHead
from ledgr.errors import InvalidDid, InvalidDocument
from ledgr.ledger.context import reject
from ledgr.ledger.memo import Memo
from ledgr.ledger.operations import Operation
from ledgr.ledger.records import decode, head_from_json, version_from_json
from ledgr.ledger.state import Overlay, did_head_key, did_version_key

CONTROLLER_RELATIONSHIPS = ("capabilityInvocation", "authentication")
ISSUER_RELATIONSHIPS = ("assertionMethod",)


@dataclass(frozen=True, slots=True)
class DidState:
    """A DID's head record and its current parsed document (None for did:key, which has no head)."""

    head: DidHead | None
    document: DidDocument

    @property
    def compromised(self) -> frozenset[str]:
        if self.head is None:
            return frozenset()
        return frozenset(c.public_key_multibase for c in self.head.compromised)


def load_head(state: Overlay, did: str) -> DidHead | None:
    raw = state.get(did_head_key(did))
    return None if raw is None else head_from_json(did, decode(raw))


_DOCUMENT_CACHE_SIZE = 8192
_DOCUMENT_CACHE: Memo[tuple[str, str], DidDocument] = Memo(_DOCUMENT_CACHE_SIZE)


def remember_document(did: str, version_hash: str, document: DidDocument) -> None:
    """Keep the parsed document of a version (a version hash names exactly one document).

    First-in-first-out eviction with single atomic steps (:class:`ledgr.ledger.memo.Memo`), so
    concurrent mempool checks and block execution never see an error, at worst a miss.
    """
    _DOCUMENT_CACHE.remember((did, version_hash), document)


def _current_document(state: Overlay, head: DidHead) -> DidDocument | None:
    cached = _DOCUMENT_CACHE.get((head.did, head.version_hash))
    if cached is not None:
        return cached
    raw = state.get(did_version_key(head.did, head.seq))
    if raw is None:
        return None
    document = parse_document(version_from_json(decode(raw)).document, head.did)
    remember_document(head.did, head.version_hash, document)
    return document


def load_live_did(state: Overlay, did: str, what: str) -> DidState:
    """The current state of a DID that exists and is not deactivated (did:ledgr or did:key)."""
    if is_ledgr_did(did):
        head = load_head(state, did)
        if head is None:
            raise reject(f"{what} {did} does not exist on this ledger", "did-not-found")
        if head.deactivated:
            raise reject(f"{what} {did} is deactivated", "did-deactivated")
        document = _current_document(state, head)
        if document is None:
            raise reject(f"{what} {did} has no current version", "did-not-found")
        return DidState(head=head, document=document)
    if did.startswith("did:key:"):
        try:
            return DidState(head=None, document=parse_document(did_key_document(did), did))
        except (InvalidDid, InvalidDocument) as exc:
            raise reject(f"{what} {did}: {exc.detail}", "unsupported-did") from exc
    raise reject(f"{what} {did} must be a did:ledgr or an Ed25519 did:key", "unsupported-did")


def check_signer(op: Operation, owner: DidState, relationships: tuple[str, ...], role: str) -> PublicKey:
    """The key behind ``op.verification_method`` in ``owner``'s document, with a valid signature."""
    method = owner.document.method_for(op.verification_method, relationships)
    if method is None or method.ed25519_key() is None:
        raise reject(f"{op.verification_method} is not a {' or '.join(relationships)} key of the "
                     f"{role} {owner.document.id}", "unauthorized-key")
    if method.multikey in owner.compromised:
        raise reject(f"{op.verification_method} was declared compromised", "compromised-key")
    key = method.ed25519_key()
    if key is None or not op.signature_valid(key):
        raise reject("the operation signature does not verify", "bad-signature")
    return key


def authorize_controller(state: Overlay, op: Operation, subject: DidState) -> PublicKey:
    """Check that ``op`` is signed by a current controller of ``subject`` (capabilityInvocation/auth)."""
    controller = op.verification_method.split("#", 1)[0]
    if controller not in subject.document.controllers:
        raise reject(f"{controller} is not a controller of {subject.document.id}", "unauthorized-key")
    owner = subject if controller == subject.document.id else load_live_did(state, controller,
                                                                              "controller")
    return check_signer(op, owner, CONTROLLER_RELATIONSHIPS, "controller")


def authorize_issuer(op: Operation, issuer: DidState) -> PublicKey:
    """Check that ``op`` is signed by an ``assertionMethod`` key of the status list's issuer."""
    if op.verification_method.split("#", 1)[0] != issuer.document.id:
        raise reject(f"{op.verification_method} is not a key of the issuer {issuer.document.id}",
                     "unauthorized-key")
    return check_signer(op, issuer, ISSUER_RELATIONSHIPS, "issuer")
