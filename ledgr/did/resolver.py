"""DID resolution (W3C DID Resolution; DID Core §7.1) for ``did:ledgr`` (from ledger state) and ``did:key``.

Results carry ``didDocument``, ``didResolutionMetadata`` and ``didDocumentMetadata`` (``created``,
``updated``, ``versionId``, ``nextVersionId``, ``nextUpdate``, ``deactivated``; DID Core §7.1.3).
Options ``versionId`` (the version number, ``"1"``, ``"2"``, …) and ``versionTime`` (the document as it
was at that instant) select a historical version.

Key compromise (docs/did-method.md §"Key compromise"): a controller can declare keys compromised; from
then on the resolver removes verification methods with those keys from EVERY version it returns, current
or historical, and lists them in the ledgr extension ``didDocumentMetadata.compromisedKeys``. Resolving at
a proof's ``created`` time therefore never yields a compromised key, whatever date the proof claims.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from ledgr.did.document import RELATIONSHIPS, parse_document
from ledgr.did.key import did_key_document
from ledgr.did.ledgr_method import is_ledgr_did
from ledgr.did.records import DidHead, DidRecordReader, DidVersion
from ledgr.did.syntax import parse_did
from ledgr.errors import InvalidDid, InvalidDocument, UnsupportedDidMethod

RESOLUTION_CONTEXT = "https://w3id.org/did-resolution/v1"
DID_LD_JSON = "application/did+ld+json"
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def iso_time(ms: int) -> str:
    """XML Datetime in UTC without sub-second precision (DID Core §7.1.3 ``created``)."""
    return (_EPOCH + timedelta(milliseconds=ms)).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_time_ms(text: str) -> int:
    """Milliseconds since the epoch of an RFC 3339 / XML Schema dateTime (naive means UTC)."""
    if not isinstance(text, str) or len(text) > 64:
        raise ValueError("not a dateTime")
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    delta = moment - _EPOCH
    return delta.days * 86_400_000 + delta.seconds * 1000 + delta.microseconds // 1000


@dataclass(frozen=True, slots=True)
class ResolutionResult:
    did_document: dict[str, Any] | None
    resolution_metadata: dict[str, Any]
    document_metadata: dict[str, Any] = field(default_factory=dict)

    @property
    def error(self) -> str | None:
        error = self.resolution_metadata.get("error")
        return None if error is None else str(error)

    def to_json(self) -> dict[str, Any]:
        return {"@context": RESOLUTION_CONTEXT, "didDocument": self.did_document,
                "didResolutionMetadata": self.resolution_metadata,
                "didDocumentMetadata": self.document_metadata}


def error_result(error: str, message: str) -> ResolutionResult:
    return ResolutionResult(None, {"error": error, "errorMessage": message})


def strip_compromised(document: dict[str, Any], compromised: frozenset[str]) -> dict[str, Any]:
    """A copy of ``document`` without the verification methods whose key is in ``compromised``."""
    if not compromised:
        return document
    try:
        parsed = parse_document(document, str(document.get("id")))
    except InvalidDocument:
        return document
    banned = {vm_id for vm_id, vm in parsed.methods.items() if vm.multikey in compromised}
    if not banned:
        return document
    did = parsed.id
    out = copy.deepcopy(document)

    def keep(entry: Any) -> bool:
        ref = entry.get("id") if isinstance(entry, dict) else entry
        absolute = f"{did}{ref}" if isinstance(ref, str) and ref.startswith("#") else ref
        return absolute not in banned

    for name in ("verificationMethod", *RELATIONSHIPS):
        if name in out:
            kept = [entry for entry in out[name] if keep(entry)]
            if kept:
                out[name] = kept
            else:
                del out[name]
    return out


def _version_at(reader: DidRecordReader, head: DidHead, at_ms: int) -> DidVersion | None:
    """The latest version whose time is at or before ``at_ms`` (binary search over version numbers)."""
    lo, hi, found = 1, head.seq, None
    while lo <= hi:
        mid = (lo + hi) // 2
        version = reader.did_version(head.did, mid)
        if version is None:
            return None
        if version.time_ms <= at_ms:
            found, lo = version, mid + 1
        else:
            hi = mid - 1
    return found


def _resolve_ledgr(did: str, reader: DidRecordReader, version_id: str | None,
                   version_time: str | None) -> ResolutionResult:
    head = reader.did_head(did)
    if head is None:
        return error_result("notFound", f"{did} is not on this ledger")
    if version_id is not None:
        if not version_id.isdecimal() or len(version_id) > 10:
            return error_result("invalidOptions", "versionId is a version number (1, 2, …)")
        version = reader.did_version(did, int(version_id))
    elif version_time is not None:
        try:
            at_ms = parse_time_ms(version_time)
        except ValueError:
            return error_result("invalidOptions", "versionTime must be an XML Schema dateTime")
        version = _version_at(reader, head, at_ms)
    else:
        version = reader.did_version(did, head.seq)
    if version is None:
        return error_result("notFound", f"{did} has no such version")
    compromised = frozenset(c.public_key_multibase for c in head.compromised)
    metadata: dict[str, Any] = {"created": iso_time(head.created_ms), "versionId": str(version.seq),
                                "versionHash": version.version_hash}
    if version.seq > 1:
        metadata["updated"] = iso_time(version.time_ms)
    if version.seq < head.seq:
        following = reader.did_version(did, version.seq + 1)
        metadata["nextVersionId"] = str(version.seq + 1)
        if following is not None:
            metadata["nextUpdate"] = iso_time(following.time_ms)
    if head.deactivated:
        metadata["deactivated"] = True
    if head.compromised:
        metadata["compromisedKeys"] = [{"publicKeyMultibase": c.public_key_multibase,
                                        "since": iso_time(c.since_ms)} for c in head.compromised]
    document = strip_compromised(version.document, compromised)
    return ResolutionResult(document, {"contentType": DID_LD_JSON}, metadata)


def resolve(did: str, reader: DidRecordReader | None = None, *, version_id: str | None = None,
            version_time: str | None = None) -> ResolutionResult:
    """Resolve ``did``; errors come back as results (``didResolutionMetadata.error``), never raised."""
    try:
        method, _msi = parse_did(did)
    except InvalidDid as exc:
        return error_result("invalidDid", exc.detail)
    if version_id is not None and version_time is not None:
        return error_result("invalidOptions", "use versionId or versionTime, not both")
    if method == "key":
        if version_id not in (None, "1"):
            return error_result("notFound", "a did:key has a single version, 1")
        try:
            document = did_key_document(did)
        except InvalidDid as exc:
            return error_result("invalidDid", exc.detail)
        return ResolutionResult(document, {"contentType": DID_LD_JSON}, {"versionId": "1"})
    if method == "ledgr":
        if not is_ledgr_did(did):
            return error_result("invalidDid", "a did:ledgr is 'did:ledgr:' + base58btc of 16 bytes")
        if reader is None:
            return error_result("methodNotSupported", "did:ledgr needs ledger state to resolve")
        return _resolve_ledgr(did, reader, version_id, version_time)
    return error_result("methodNotSupported", f"did:{method} is not supported by this resolver")


def did_resolver(reader: DidRecordReader | None, *,
                 version_time: str | None = None) -> Callable[[str], dict[str, Any]]:
    """A ``DID -> DID Resolution result`` function for ``ledgr.vc.verify(resolver=...)``.

    ``version_time`` pins every resolution to one instant (pass a proof's ``created`` to check that
    proof against the documents in force when it was made). Compromised keys are stripped either way.
    Raises LookupError for unknown DIDs (``ledgr.vc`` reports it as ``DidNotFound``) and
    InvalidDid/UnsupportedDidMethod for the other resolution errors.
    """
    def resolve_did(did: str) -> dict[str, Any]:
        result = resolve(did, reader, version_time=version_time)
        if result.error == "notFound":
            raise LookupError(f"{did}: {result.resolution_metadata.get('errorMessage')}")
        if result.error == "methodNotSupported":
            raise UnsupportedDidMethod(str(result.resolution_metadata.get("errorMessage")))
        if result.error is not None:
            raise InvalidDid(f"{did}: {result.resolution_metadata.get('errorMessage')}")
        return result.to_json()

    return resolve_did
