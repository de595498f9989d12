"""DID resolution and DID URL dereferencing over HTTP(S) from the node's ledger (W3C DID Resolution §7).

One answer per request, read from one store snapshot: a resolution (or dereferencing) result in the
representation the client negotiated, with the HTTP status the DID Resolution HTTP(S) binding gives
its outcome. Errors keep the DID Resolution shape: the current spec's error *object*
(``{"type": "https://www.w3.org/ns/did#NOT_FOUND", "title", "detail"}``) for
``application/did-resolution``, and the older string code (``notFound``) with ``errorMessage`` for the
Universal Resolver profile ``application/ld+json;profile="https://w3id.org/did-resolution"``.
With ``proof``, ``didDocumentMetadata.proof`` holds the certified read (SMT proofs of the head and the
returned version, the header and its QC) so a client can check the answer without trusting this node.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from ledgr.did.dereference import dereference
from ledgr.did.ledgr_method import is_ledgr_did
from ledgr.did.resolver import RESOLUTION_CONTEXT, resolve
from ledgr.did.syntax import parse_did_url
from ledgr.errors import InvalidDid
from ledgr.ledger.records import LedgerDidReader
from ledgr.node.chain import Chain
from ledgr.store.view import StoreView

DID_RESOLUTION = "application/did-resolution"
LEGACY = 'application/ld+json;profile="https://w3id.org/did-resolution"'
DID_LD_JSON = "application/did+ld+json"
DID_JSON = "application/did+json"
PROBLEM_JSON = "application/problem+json"
DID_ERROR_BASE = "https://www.w3.org/ns/did#"

# legacy code -> (HTTP status, current error suffix, title)
ERRORS: dict[str, tuple[int, str, str]] = {
    "invalidDid": (400, "INVALID_DID", "Invalid DID"),
    "invalidDidUrl": (400, "INVALID_DID_URL", "Invalid DID URL"),
    "invalidOptions": (400, "INVALID_OPTIONS", "Invalid options"),
    "notFound": (404, "NOT_FOUND", "DID not found"),
    "representationNotSupported": (406, "REPRESENTATION_NOT_SUPPORTED", "Representation not supported"),
    "methodNotSupported": (501, "METHOD_NOT_SUPPORTED", "DID method not supported"),
    "internalError": (500, "INTERNAL_ERROR", "Internal error"),
}
SUPPORTED = (DID_RESOLUTION, LEGACY, DID_LD_JSON, DID_JSON)


@dataclass(frozen=True)
class Answer:
    status: int
    body: Any
    content_type: str
    problem: dict[str, Any] | None = None  # when the client asked for problem+json errors


def negotiate(accept: str | None) -> tuple[str | None, bool]:
    """(representation, errors as problem+json?) for an ``Accept`` header; None: nothing acceptable."""
    if not accept or not accept.strip():
        return DID_RESOLUTION, False
    wanted: list[tuple[float, int, str]] = []
    for position, item in enumerate(accept.split(",")[:32]):
        media, _, params = item.strip().partition(";")
        media = media.strip().lower()
        quality = 1.0
        profile = ""
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name.strip().lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
            elif name.strip().lower() == "profile":
                profile = value.strip().strip('"')
        if media == "application/ld+json" and profile == "https://w3id.org/did-resolution":
            media = LEGACY
        if quality > 0:
            wanted.append((-quality, position, media))
    problem = any(media == PROBLEM_JSON for _q, _p, media in wanted)
    for _q, _p, media in sorted(wanted):
        if media in SUPPORTED:
            return media, problem
        if media in ("*/*", "application/*", "application/json"):
            return DID_RESOLUTION, problem
        if media == PROBLEM_JSON:
            return DID_RESOLUTION, True
    return None, problem


def error_answer(code: str, message: str, representation: str, problem: bool,
                 dereferencing: bool = False) -> Answer:
    status, suffix, title = ERRORS.get(code, ERRORS["internalError"])
    current = {"type": DID_ERROR_BASE + suffix, "title": title, "detail": message}
    error: Any = {"error": code, "errorMessage": message} if representation == LEGACY else {"error": current}
    if dereferencing:
        body: dict[str, Any] = {"@context": RESOLUTION_CONTEXT, "content": None,
                                "dereferencingMetadata": error, "contentMetadata": {}}
    else:
        body = {"@context": RESOLUTION_CONTEXT, "didDocument": None, "didResolutionMetadata": error,
                "didDocumentMetadata": {}}
    content_type = LEGACY if representation == LEGACY else DID_RESOLUTION
    problem_body = None
    if problem:
        problem_body = {"type": DID_ERROR_BASE + suffix, "title": title, "status": status, "detail": message,
                        "code": code}
    return Answer(status, body, content_type, problem_body)


def end_of_second(moment: str) -> str | None:
    """A dateTime without a fraction as the last millisecond of its second (None if unparsable).

    Proof ``created`` values and the ``created``/``updated`` metadata are whole seconds while the
    ledger records block times in milliseconds: a proof made at 12:00:00.700 says ``12:00:00Z`` and
    must still see a version committed at 12:00:00.400, and a ``versionTime`` copied from
    ``created`` must find that version."""
    try:
        parsed = datetime.fromisoformat(moment)
    except (TypeError, ValueError):
        return None
    if parsed.tzinfo is None or parsed.microsecond:
        return moment
    return (parsed + timedelta(milliseconds=999)).isoformat()


def _is_url(text: str) -> bool:
    return any(ch in text for ch in "#/?")


def answer(chain: Chain, did_text: str, representation: str | None, problem: bool, *,
           version_id: str | None = None, version_time: str | None = None, proof: bool = False) -> Answer:
    if representation is None:
        return error_answer("representationNotSupported",
                            "supported: " + ", ".join(SUPPORTED), DID_RESOLUTION, problem)
    if version_time is not None:
        version_time = end_of_second(version_time) or version_time
    if _is_url(did_text):
        return _dereference(chain, did_text, representation, problem, version_id, version_time)

    def run(view: StoreView) -> Answer:
        result = resolve(did_text, LedgerDidReader(view), version_id=version_id, version_time=version_time)
        error = result.error
        if error is not None:
            return error_answer(error, str(result.resolution_metadata.get("errorMessage", "")),
                                representation, problem)
        body = result.to_json()
        status = 410 if result.document_metadata.get("deactivated") else 200
        return _success(body, body["didDocument"], representation, status)

    found = chain.store.read(run)
    if proof and found.status in (200, 410) and found.content_type in (DID_RESOLUTION, LEGACY) \
            and is_ledgr_did(did_text):
        metadata = found.body["didDocumentMetadata"]
        metadata["proof"] = _certified(chain, did_text, metadata.get("versionId"))
    return found


def _success(body: dict[str, Any], content: Any, representation: str, status: int) -> Answer:
    if representation == DID_LD_JSON:
        return Answer(status, content, DID_LD_JSON)
    if representation == DID_JSON:
        if isinstance(content, dict):
            content = {k: v for k, v in content.items() if k != "@context"}
        return Answer(status, content, DID_JSON)
    return Answer(status, body, representation)


def _certified(chain: Chain, did: str, version_id: Any) -> dict[str, Any]:
    head = chain.state_json("did", did, True)
    if isinstance(version_id, str) and version_id.isdecimal():
        version = chain.state_json("did-version", f"{did}@{version_id}", True)
        return {"head": head, "version": version, "header": version.get("header"), "qc": version.get("qc")}
    return {"head": head, "header": head.get("header"), "qc": head.get("qc")}


def _dereference(chain: Chain, url: str, representation: str, problem: bool, version_id: str | None,
                 version_time: str | None) -> Answer:
    try:
        parsed = parse_did_url(url)
    except InvalidDid as exc:
        return error_answer("invalidDidUrl", exc.detail, representation, problem, dereferencing=True)
    extra = [f"{name}={value}" for name, value in (("versionId", version_id), ("versionTime", version_time))
             if value is not None and parsed.query_value(name) is None]
    if extra:
        base, hash_mark, fragment = url.partition("#")
        joiner = "&" if parsed.query else "?"
        url = base + joiner + "&".join(extra) + hash_mark + fragment

    def run(view: StoreView) -> Answer:
        result = dereference(url, LedgerDidReader(view))
        if result.error is not None:
            return error_answer(result.error, str(result.dereferencing_metadata.get("errorMessage", "")),
                                representation, problem, dereferencing=True)
        body = {"@context": RESOLUTION_CONTEXT, "content": result.content,
                "dereferencingMetadata": result.dereferencing_metadata,
                "contentMetadata": result.content_metadata}
        return _success(body, result.content, representation, 200)

    return chain.store.read(run)
