"""DID URL dereferencing (W3C DID Resolution §"DID URL Dereferencing"; DID Core §7.2).

* ``did:…`` (optionally ``?versionId=`` / ``?versionTime=``): the DID document.
* ``did:…#fragment``: the verification method or service with that id in the (selected) document.
* ``did:ledgr:…/resources/{id}``: a DID-linked resource; the result's ``contentMetadata`` carries its
  name, media type, creation time and SHA-256 digest. A fragment after a resource path is left to the
  client, as RFC 3986 §3.5 leaves fragments to the media type of the primary resource.

:func:`verification_key` is the entry point for proof verification: it resolves the controller
document *as it was at the proof's ``created`` time*, requires the method under the proof purpose, and
can never return a key its controller declared compromised (see :mod:`ledgr.did.resolver`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ledgr.crypto.keys import PublicKey
from ledgr.did.document import VerificationMethod, parse_document
from ledgr.did.ledgr_method import is_ledgr_did
from ledgr.did.records import DidRecordReader
from ledgr.did.resolver import DID_LD_JSON, iso_time, resolve
from ledgr.did.syntax import parse_did_url
from ledgr.errors import DidDeactivated, DidNotFound, InvalidDid, InvalidDocument, VerificationFailed

RESOURCES_PREFIX = "/resources/"


@dataclass(frozen=True, slots=True)
class DereferencingResult:
    content: Any
    dereferencing_metadata: dict[str, Any]
    content_metadata: dict[str, Any] = field(default_factory=dict)

    @property
    def error(self) -> str | None:
        error = self.dereferencing_metadata.get("error")
        return None if error is None else str(error)

    def to_json(self) -> dict[str, Any]:
        return {"dereferencingMetadata": self.dereferencing_metadata, "contentStream": self.content,
                "contentMetadata": self.content_metadata}


def _error(error: str, message: str) -> DereferencingResult:
    return DereferencingResult(None, {"error": error, "errorMessage": message})


def _find_fragment(document: dict[str, Any], did: str, fragment: str) -> dict[str, Any] | None:
    wanted = f"{did}#{fragment}"
    candidates: list[Any] = []
    for name in ("verificationMethod", "service", "authentication", "assertionMethod", "keyAgreement",
                 "capabilityInvocation", "capabilityDelegation"):
        value = document.get(name)
        if isinstance(value, list):
            candidates.extend(value)
    for entry in candidates:
        if isinstance(entry, dict):
            entry_id = entry.get("id")
            if entry_id == wanted or entry_id == f"#{fragment}":
                return entry
    return None


def dereference(did_url: str, reader: DidRecordReader | None = None) -> DereferencingResult:
    """Dereference a DID URL; errors come back in ``dereferencingMetadata.error``."""
    try:
        url = parse_did_url(did_url)
    except InvalidDid as exc:
        return _error("invalidDidUrl", exc.detail)
    version_id, version_time = url.query_value("versionId"), url.query_value("versionTime")
    if url.path.startswith(RESOURCES_PREFIX):
        resource_id = url.path[len(RESOURCES_PREFIX):]
        if not is_ledgr_did(url.did) or reader is None:
            return _error("notFound", "DID-linked resources exist only for did:ledgr on this ledger")
        resource = reader.did_resource(url.did, resource_id)
        if resource is None:
            return _error("notFound", f"no resource {resource_id} under {url.did}")
        return DereferencingResult(resource.content, {"contentType": resource.media_type}, {
            "resourceId": resource.resource_id, "name": resource.name, "mediaType": resource.media_type,
            "created": iso_time(resource.created_ms), "digestSha256": resource.digest,
            "versionHash": resource.version_hash})
    if url.path:
        return _error("notFound", f"path {url.path} is not defined for {url.method} DIDs")
    result = resolve(url.did, reader, version_id=version_id, version_time=version_time)
    if result.error is not None or result.did_document is None:
        return _error(result.error or "notFound", str(result.resolution_metadata.get("errorMessage")))
    if url.fragment is None:
        return DereferencingResult(result.did_document, {"contentType": DID_LD_JSON},
                                   result.document_metadata)
    found = _find_fragment(result.did_document, url.did, url.fragment)
    if found is None:
        return _error("notFound", f"{url.did} has no #{url.fragment}")
    return DereferencingResult(found, {"contentType": DID_LD_JSON}, result.document_metadata)


@dataclass(frozen=True, slots=True)
class ResolvedKey:
    method: VerificationMethod
    public_key: PublicKey
    document_metadata: dict[str, Any]


def verification_key(vm_url: str, reader: DidRecordReader | None = None, *,
                     purpose: str = "assertionMethod", created: str | None = None,
                     allow_deactivated: bool = False) -> ResolvedKey:
    """The Ed25519 key of ``vm_url`` if its controller document authorizes it for ``purpose``.

    ``created`` (the proof's ``created``) selects the document version in force at that time; a key
    the controller declared compromised is never returned. Raises DidNotFound, DidDeactivated (unless
    ``allow_deactivated``) or VerificationFailed (``check="proof"``).
    """
    try:
        url = parse_did_url(vm_url)
    except InvalidDid as exc:
        raise VerificationFailed(f"verification method is not a DID URL: {exc.detail}", check="proof") \
            from exc
    if url.fragment is None or url.path or url.query:
        raise VerificationFailed("a verification method is a DID URL with a fragment", check="proof")
    result = resolve(url.did, reader, version_time=created)
    if result.error == "notFound" or result.did_document is None:
        raise DidNotFound(f"cannot resolve {url.did} at {created or 'now'}: "
                          f"{result.resolution_metadata.get('errorMessage')}")
    if result.document_metadata.get("deactivated") and not allow_deactivated:
        raise DidDeactivated(f"{url.did} is deactivated")
    try:
        document = parse_document(result.did_document, url.did)
    except InvalidDocument as exc:
        raise VerificationFailed(f"controller document is unusable: {exc.detail}", check="proof") from exc
    method = document.method_for(f"{url.did}#{url.fragment}", (purpose,))
    key = None if method is None else method.ed25519_key()
    if method is None or key is None:
        raise VerificationFailed(f"{vm_url} is not an Ed25519 {purpose} key of {url.did} "
                                 f"at {created or 'now'} (or was declared compromised)", check="proof")
    return ResolvedKey(method=method, public_key=key, document_metadata=result.document_metadata)
