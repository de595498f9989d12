"""From a verification method id to its controller document (DID Core §5.2, Controlled Identifiers §3.3).

``did:key`` is resolved locally (it *is* the key); every other DID goes through the ``resolver``
the caller passes (DID -> DID document, e.g. the node's ledger-backed resolver). Without a resolver
the lookup raises :class:`~ledgr.errors.UnsupportedDidMethod`, which the proof layer turns into a
failed proof check with a clear message. A resolver may also return a DID Resolution result
(``{"didDocument": …, "didDocumentMetadata": …}``, DID Resolution §4): its document is used, unless
the metadata says ``deactivated`` (DID Core §7.1.3), which fails with
:class:`~ledgr.errors.DidDeactivated`. Lookups are memoized per verification and bounded.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from typing import Any

from ledgr.did.key import did_key_document
from ledgr.did.syntax import is_did, parse_did_url
from ledgr.errors import (
    DidDeactivated,
    DidNotFound,
    InvalidDocument,
    LedgrError,
    TooLarge,
    UnsupportedDidMethod,
)
from ledgr.vc.credential import check_document_size

DidResolver = Callable[[str], dict[str, Any]]
MAX_RESOLUTIONS = 64


@lru_cache(maxsize=1024)
def _did_key_document(did: str) -> dict[str, Any]:
    """did:key documents are pure functions of the DID: cached across verifications (read-only)."""
    return did_key_document(did)


def did_of(reference: object) -> str | None:
    """The DID of a DID or DID URL (``did:…#key-1`` -> ``did:…``), or None if it is not one."""
    if not isinstance(reference, str) or not reference.startswith("did:"):
        return None
    try:
        return parse_did_url(reference).did
    except LedgrError:
        return None


def controller_id(value: object) -> str | None:
    """The id of an ``issuer``/``holder`` value (a string or an object with ``id``) if it is a DID."""
    if isinstance(value, dict):
        value = value.get("id")
    return value if isinstance(value, str) and is_did(value) else None


class ControllerResolver:
    """Callable for :func:`ledgr.vc.proofs.verify_proofs`'s ``resolve_controller``."""

    __slots__ = ("_cache", "_resolver")

    def __init__(self, resolver: DidResolver | None) -> None:
        self._resolver = resolver
        self._cache: dict[str, dict[str, Any]] = {}

    def __call__(self, reference: str) -> dict[str, Any]:
        did = did_of(reference)
        if did is None:
            raise UnsupportedDidMethod(f"verification method {reference!r} is not a DID URL; ledgr "
                                       "resolves only DIDs")
        cached = self._cache.get(did)
        if cached is not None:
            return cached
        if len(self._cache) >= MAX_RESOLUTIONS:
            raise TooLarge(f"verification needs more than {MAX_RESOLUTIONS} DID resolutions",
                           limit=MAX_RESOLUTIONS)
        document = self._resolve(did)
        self._cache[did] = document
        return document

    def _resolve(self, did: str) -> dict[str, Any]:
        if did.startswith("did:key:"):
            return _did_key_document(did)
        if self._resolver is None:
            method = did.split(":")[1]
            raise UnsupportedDidMethod(
                f"cannot resolve {did}: no DID resolver was given (only did:key resolves offline; "
                f"did:{method} needs a resolver, e.g. a ledgr node)", did=did)
        try:
            document = self._resolver(did)
        except LookupError as exc:
            raise DidNotFound(f"{did} was not found by the resolver", did=did) from exc
        if isinstance(document, dict) and "didDocument" in document:
            metadata = document.get("didDocumentMetadata")
            if isinstance(metadata, dict) and metadata.get("deactivated") is True:
                raise DidDeactivated(f"{did} is deactivated: its keys no longer verify anything", did=did)
            document = document["didDocument"]
        if not isinstance(document, dict):
            raise InvalidDocument(f"the resolver returned no DID document for {did}", did=did)
        check_document_size(document)
        return document
