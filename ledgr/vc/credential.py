"""Verifiable Credential data model checks: VC DM 2.0 (§4) and VC DM 1.1 (§4), without the proof.

:func:`validate_credential` checks the shape a conforming document must have and raises
:class:`~ledgr.errors.InvalidDocument` naming the first property that is wrong (a verifier cannot
meaningfully report "signature fine" on a document that is not a credential).
:func:`validity_errors` compares the validity period with a ``now`` the caller passes in: this
module never reads a clock. Proofs are checked by :mod:`ledgr.vc.proofs`; this module only checks
that ``proof`` has a usable shape.

Which data model applies is decided by the first ``@context`` entry (VC DM 2.0 §4.3, VC DM 1.1
§4.1): ``https://www.w3.org/ns/credentials/v2`` or ``https://www.w3.org/2018/credentials/v1``.
Mixing the two, or putting the base context anywhere but first, is an error. Dates of the other
model (``issuanceDate`` in a 2.0 credential, ``validFrom`` in a 1.1 credential) are rejected
rather than ignored, so a credential cannot carry an expiry that no verifier would check.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ledgr.errors import InvalidDocument, TooLarge, VerificationFailed
from ledgr.vc.dates import parse_date_time_stamp, require_aware

CREDENTIALS_V2 = "https://www.w3.org/ns/credentials/v2"
CREDENTIALS_V1 = "https://www.w3.org/2018/credentials/v1"
VC_TYPE = "VerifiableCredential"
VP_TYPE = "VerifiablePresentation"

MAX_URL_CHARS = 4096
MAX_CONTEXT_ENTRIES = 32
MAX_TYPES = 32
MAX_SUBJECTS = 64
MAX_ENTRIES = 32  # credentialStatus, credentialSchema, evidence, termsOfUse, … per credential

_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*:[^\s]+$")
_TYPED_OBJECT_PROPERTIES = ("credentialStatus", "credentialSchema", "evidence", "termsOfUse",
                            "refreshService")


@dataclass(frozen=True, slots=True)
class DocumentLimits:
    """Bounds on a JSON document's shape, checked before any other work (style.md "limit everything")."""

    max_nodes: int = 20_000
    max_depth: int = 32
    max_string_chars: int = 1_000_000
    max_total_chars: int = 4_000_000


CREDENTIAL_LIMITS = DocumentLimits()
PRESENTATION_LIMITS = DocumentLimits(max_nodes=100_000, max_total_chars=16_000_000)


def check_document_size(document: object, limits: DocumentLimits = CREDENTIAL_LIMITS) -> None:
    """Raise :class:`TooLarge` if ``document`` exceeds ``limits`` (iterative: no recursion bomb)."""
    nodes = 0
    total_chars = 0
    stack: list[tuple[object, int]] = [(document, 1)]
    while stack:
        value, depth = stack.pop()
        nodes += 1
        if nodes > limits.max_nodes:
            raise TooLarge(f"document has more than {limits.max_nodes} JSON values",
                           limit=limits.max_nodes)
        if depth > limits.max_depth:
            raise TooLarge(f"document nests deeper than {limits.max_depth} levels",
                           limit=limits.max_depth)
        if isinstance(value, dict):
            for key, item in value.items():
                total_chars += len(key) if isinstance(key, str) else 0
                stack.append((item, depth + 1))
        elif isinstance(value, list):
            stack.extend((item, depth + 1) for item in value)
        elif isinstance(value, str):
            if len(value) > limits.max_string_chars:
                raise TooLarge(f"document holds a string longer than {limits.max_string_chars} "
                               "characters", limit=limits.max_string_chars)
            total_chars += len(value)
        if total_chars > limits.max_total_chars:
            raise TooLarge(f"document holds more than {limits.max_total_chars} characters of text",
                           limit=limits.max_total_chars)


def is_url(value: object) -> bool:
    """A URL in the VC DM sense: an absolute IRI (scheme ``:`` rest), e.g. ``did:…``, ``urn:…``."""
    return isinstance(value, str) and len(value) <= MAX_URL_CHARS and _URL.match(value) is not None


def as_list(value: object) -> list[Any]:
    """JSON-LD sets: a single value or an array of values, as a list."""
    return value if isinstance(value, list) else [value]


def types_of(document: dict[str, Any], what: str = "document") -> list[str]:
    """The ``type`` values (VC DM 2.0 §4.5): a string or a non-empty array of strings."""
    raw = document.get("type")
    if raw is None:
        raise InvalidDocument(f"{what} has no 'type'", property="type")
    values = as_list(raw)
    if not values or len(values) > MAX_TYPES:
        raise InvalidDocument(f"{what} 'type' must hold 1 to {MAX_TYPES} values", property="type")
    if not all(isinstance(item, str) and item for item in values):
        raise InvalidDocument(f"{what} 'type' values must be non-empty strings", property="type")
    return values


def data_model_version(document: dict[str, Any], what: str = "credential") -> str:
    """``"2.0"`` or ``"1.1"`` from the first ``@context`` entry (VC DM 2.0 §4.3, 1.1 §4.1)."""
    if not isinstance(document, dict):
        raise InvalidDocument(f"a {what} must be a JSON object")
    if "@context" not in document:
        raise InvalidDocument(f"{what} has no '@context'", property="@context")
    contexts = as_list(document["@context"])
    if not contexts or len(contexts) > MAX_CONTEXT_ENTRIES:
        raise InvalidDocument(f"{what} '@context' must hold 1 to {MAX_CONTEXT_ENTRIES} entries",
                              property="@context")
    first = contexts[0]
    if first == CREDENTIALS_V2:
        version, other = "2.0", CREDENTIALS_V1
    elif first == CREDENTIALS_V1:
        version, other = "1.1", CREDENTIALS_V2
    else:
        raise InvalidDocument(
            f"{what} '@context' must start with {CREDENTIALS_V2!r} (VC 2.0) or {CREDENTIALS_V1!r} "
            f"(VC 1.1), not {_preview(first)}", property="@context")
    for entry in contexts[1:]:
        if entry in (first, other):
            raise InvalidDocument(f"{what} '@context' lists {entry!r} again after the first entry",
                                  property="@context")
        if not (is_url(entry) or isinstance(entry, dict)):
            raise InvalidDocument(f"{what} '@context' entries must be URLs or context objects, "
                                  f"not {_preview(entry)}", property="@context")
    return version


def issuer_id(document: dict[str, Any]) -> str:
    """The issuer (VC DM 2.0 §4.7): a URL, or an object whose ``id`` is a URL."""
    issuer = document.get("issuer")
    if issuer is None:
        raise InvalidDocument("credential has no 'issuer'", property="issuer")
    if isinstance(issuer, dict):
        issuer = issuer.get("id")
        if issuer is None:
            raise InvalidDocument("credential 'issuer' object has no 'id'", property="issuer")
    if not is_url(issuer):
        raise InvalidDocument(f"credential 'issuer' must be a URL, not {_preview(issuer)}",
                              property="issuer")
    return str(issuer)


@dataclass(frozen=True, slots=True)
class CredentialInfo:
    """What validation learned about a credential; dates are parsed, aware UTC."""

    version: str
    types: tuple[str, ...]
    issuer: str
    valid_from: datetime | None
    valid_until: datetime | None


def validate_credential(document: object, *, require_proof: bool = False,
                        limits: DocumentLimits = CREDENTIAL_LIMITS) -> CredentialInfo:
    """Check that ``document`` is a conforming VC DM 2.0 or 1.1 credential; raise on the first fault."""
    if not isinstance(document, dict):
        raise InvalidDocument("a credential must be a JSON object")
    check_document_size(document, limits)
    version = data_model_version(document)
    if "id" in document and not is_url(document["id"]):
        raise InvalidDocument("credential 'id' must be a URL", property="id")
    types = types_of(document, "credential")
    if VC_TYPE not in types:
        raise InvalidDocument(f"credential 'type' must include {VC_TYPE!r}", property="type")
    issuer = issuer_id(document)
    for holder_of_names, where in ((document, "credential"), (document.get("issuer"), "issuer")):
        if isinstance(holder_of_names, dict):
            _check_names(holder_of_names, where)
    _check_subjects(document.get("credentialSubject"))
    valid_from, valid_until = _dates(document, version)
    for name in _TYPED_OBJECT_PROPERTIES:
        if name in document:
            _check_typed_objects(document[name], name, need_id=name == "credentialSchema")
    if "relatedResource" in document:
        _check_related_resources(document["relatedResource"])
    _check_proof_shape(document, require_proof)
    return CredentialInfo(version, tuple(types), issuer, valid_from, valid_until)


def validity_errors(info: CredentialInfo, now: datetime) -> list[VerificationFailed]:
    """The validity period against ``now`` (VC DM 2.0 §4.9; 1.1 §4.6 and §4.7): empty when valid.

    A credential is valid from ``validFrom`` (inclusive) through ``validUntil`` (inclusive).
    """
    moment = require_aware(now)
    errors: list[VerificationFailed] = []
    start_name, end_name = (("validFrom", "validUntil") if info.version == "2.0"
                            else ("issuanceDate", "expirationDate"))
    if info.valid_from is not None and moment < info.valid_from:
        errors.append(VerificationFailed(
            f"credential is not valid yet: {start_name} is {_iso(info.valid_from)}, "
            f"now is {_iso(moment)}", reason="not-yet-valid", property=start_name))
    if info.valid_until is not None and moment > info.valid_until:
        errors.append(VerificationFailed(
            f"credential has expired: {end_name} was {_iso(info.valid_until)}, now is {_iso(moment)}",
            reason="expired", property=end_name))
    return errors


def _dates(document: dict[str, Any], version: str) -> tuple[datetime | None, datetime | None]:
    if version == "2.0":
        start_name, end_name, foreign = "validFrom", "validUntil", ("issuanceDate", "expirationDate")
    else:
        start_name, end_name, foreign = "issuanceDate", "expirationDate", ("validFrom", "validUntil")
    for name in foreign:
        if name in document:
            raise InvalidDocument(
                f"'{name}' belongs to the other data model: a VC {version} credential uses "
                f"'{start_name}' and '{end_name}'", property=name)
    if version == "1.1" and start_name not in document:
        raise InvalidDocument("a VC 1.1 credential needs 'issuanceDate'", property="issuanceDate")
    start = parse_date_time_stamp(document[start_name], start_name) if start_name in document else None
    end = parse_date_time_stamp(document[end_name], end_name) if end_name in document else None
    if start is not None and end is not None and end < start:
        raise InvalidDocument(f"'{end_name}' is before '{start_name}': the credential is never valid",
                              property=end_name)
    return start, end


def _check_names(document: dict[str, Any], where: str) -> None:
    """``name``/``description`` (VC DM 2.0 §4.6, §11.1): strings or language value objects."""
    for name in ("name", "description"):
        if name not in document:
            continue
        values = as_list(document[name])
        for value in values:
            if isinstance(value, str):
                continue
            if (isinstance(value, dict) and isinstance(value.get("@value"), str)
                    and set(value) <= {"@value", "@language", "@direction"}
                    and all(isinstance(value[key], str) for key in value)):
                continue
            raise InvalidDocument(f"{where} '{name}' must be a string or a language value object "
                                  "({'@value': …, '@language': …})", property=name)
        if not values:
            raise InvalidDocument(f"{where} '{name}' must not be empty", property=name)


def _check_subjects(value: object) -> None:
    """``credentialSubject`` (VC DM 2.0 §4.8): one or more objects, each with at least one claim."""
    if value is None:
        raise InvalidDocument("credential has no 'credentialSubject'", property="credentialSubject")
    subjects = as_list(value)
    if not subjects or len(subjects) > MAX_SUBJECTS:
        raise InvalidDocument(f"'credentialSubject' must hold 1 to {MAX_SUBJECTS} objects",
                              property="credentialSubject")
    for subject in subjects:
        if not isinstance(subject, dict) or not subject:
            raise InvalidDocument("each 'credentialSubject' must be a non-empty object",
                                  property="credentialSubject")
        if "id" in subject and not is_url(subject["id"]):
            raise InvalidDocument("'credentialSubject' 'id' must be a URL",
                                  property="credentialSubject")


def _check_typed_objects(value: object, name: str, *, need_id: bool) -> None:
    """Status, schema, evidence, terms of use and refresh entries each need a ``type`` (VC DM 2.0 §4)."""
    entries = as_list(value)
    if not entries or len(entries) > MAX_ENTRIES:
        raise InvalidDocument(f"'{name}' must hold 1 to {MAX_ENTRIES} objects", property=name)
    for entry in entries:
        if not isinstance(entry, dict):
            raise InvalidDocument(f"each '{name}' entry must be an object", property=name)
        types_of(entry, f"'{name}' entry")
        if "id" in entry and not is_url(entry["id"]):
            raise InvalidDocument(f"'{name}' 'id' must be a URL", property=name)
        if need_id and "id" not in entry:
            raise InvalidDocument(f"each '{name}' entry needs an 'id'", property=name)


def _check_related_resources(value: object) -> None:
    """``relatedResource`` (VC DM 2.0 §5.3): each has an ``id`` and a digest."""
    entries = as_list(value)
    if not entries or len(entries) > MAX_ENTRIES:
        raise InvalidDocument(f"'relatedResource' must hold 1 to {MAX_ENTRIES} objects",
                              property="relatedResource")
    seen: set[str] = set()
    for entry in entries:
        if not isinstance(entry, dict) or not is_url(entry.get("id")):
            raise InvalidDocument("each 'relatedResource' needs an 'id' URL", property="relatedResource")
        if "digestSRI" not in entry and "digestMultibase" not in entry:
            raise InvalidDocument("each 'relatedResource' needs 'digestSRI' or 'digestMultibase'",
                                  property="relatedResource")
        if entry["id"] in seen:
            raise InvalidDocument(f"'relatedResource' lists {entry['id']!r} twice",
                                  property="relatedResource")
        seen.add(entry["id"])


def _check_proof_shape(document: dict[str, Any], require_proof: bool) -> None:
    if "proof" not in document:
        if require_proof:
            raise InvalidDocument("document has no 'proof'", property="proof")
        return
    proofs = as_list(document["proof"])
    if not proofs or not all(isinstance(proof, dict) for proof in proofs):
        raise InvalidDocument("'proof' must be an object or an array of objects", property="proof")


def _iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def _preview(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 64 else text[:61] + "..."
