"""Verifiable Presentations (VC DM 2.0 §4.13, VC DM 1.1 §4.10): create, sign, validate.

A holder wraps credentials in a presentation and signs it with ``proofPurpose``
``authentication`` plus the verifier's ``challenge`` (and optionally ``domain``) (VC Data
Integrity §2.1, §4.2). The challenge is what makes a presentation single-use: a verifier that
passes the challenge it issued rejects a presentation replayed from another session. Signing
therefore *requires* a challenge. Verification of presentations lives in :mod:`ledgr.vc.verify`
(it verifies every embedded credential as well).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

from ledgr.errors import InvalidDocument, InvalidInput
from ledgr.vc.controllers import DidResolver
from ledgr.vc.credential import (
    CREDENTIALS_V1,
    CREDENTIALS_V2,
    PRESENTATION_LIMITS,
    VP_TYPE,
    as_list,
    check_document_size,
    data_model_version,
    is_url,
    types_of,
)
from ledgr.vc.dates import parse_date_time_stamp
from ledgr.vc.issue import bound_verification_method, private_key_from_multikey
from ledgr.vc.loader import DocumentLoader
from ledgr.vc.proofs import add_proof

DATA_INTEGRITY_V2 = "https://w3id.org/security/data-integrity/v2"
MAX_CREDENTIALS = 32
MAX_CHALLENGE_CHARS = 512


@dataclass(frozen=True, slots=True)
class PresentationInfo:
    version: str
    holder: str | None
    credentials: tuple[Any, ...]


def validate_presentation(document: object) -> PresentationInfo:
    """Check the presentation's own shape (VC DM 2.0 §4.13); credentials are checked one by one later."""
    if not isinstance(document, dict):
        raise InvalidDocument("a presentation must be a JSON object")
    check_document_size(document, PRESENTATION_LIMITS)
    version = data_model_version(document, "presentation")
    if VP_TYPE not in types_of(document, "presentation"):
        raise InvalidDocument(f"presentation 'type' must include {VP_TYPE!r}", property="type")
    if "id" in document and not is_url(document["id"]):
        raise InvalidDocument("presentation 'id' must be a URL", property="id")
    holder = document.get("holder")
    if isinstance(holder, dict):
        holder = holder.get("id")
    if holder is not None and not is_url(holder):
        raise InvalidDocument("presentation 'holder' must be a URL or an object with an 'id' URL",
                              property="holder")
    credentials = as_list(document.get("verifiableCredential", []))
    if len(credentials) > MAX_CREDENTIALS:
        raise InvalidDocument(f"a presentation may carry at most {MAX_CREDENTIALS} credentials",
                              property="verifiableCredential")
    return PresentationInfo(version, holder, tuple(credentials))


def create_presentation(credentials: list[dict[str, Any]], *, holder: str | None = None,
                        presentation_id: str | None = None) -> dict[str, Any]:
    """An unsigned presentation of ``credentials`` (VC 1.1 when every credential is 1.1, else 2.0).

    A 1.1 presentation also gets the Data Integrity context: the 1.1 base context does not define
    the ``DataIntegrityProof`` terms its proof will use.
    """
    if not isinstance(credentials, list) or len(credentials) > MAX_CREDENTIALS:
        raise InvalidInput(f"credentials must be a list of at most {MAX_CREDENTIALS} credentials")
    versions = {data_model_version(credential) for credential in credentials}
    contexts = [CREDENTIALS_V1, DATA_INTEGRITY_V2] if versions == {"1.1"} else [CREDENTIALS_V2]
    presentation: dict[str, Any] = {"@context": contexts, "type": [VP_TYPE]}
    if presentation_id is not None:
        presentation["id"] = presentation_id
    if holder is not None:
        presentation["holder"] = holder
    if credentials:
        presentation["verifiableCredential"] = credentials
    validate_presentation(presentation)
    return presentation


def sign_presentation(presentation: dict[str, Any], *, secret_key: str, suite: str, challenge: str,
                      domain: str | list[str] | None = None, verification_method: str | None = None,
                      created: str | None = None, expires: str | None = None,
                      loader: DocumentLoader | None = None,
                      resolver: DidResolver | None = None) -> dict[str, Any]:
    """Add the holder's ``authentication`` proof bound to ``challenge`` (and ``domain``).

    The ``holder`` must be a DID controlling ``secret_key`` (same rules as issuing); a
    presentation without ``holder`` is signed for the key's did:key.
    """
    info = validate_presentation(presentation)
    if not isinstance(challenge, str) or not challenge or len(challenge) > MAX_CHALLENGE_CHARS:
        raise InvalidInput(f"a presentation proof needs the verifier's challenge (1 to "
                           f"{MAX_CHALLENGE_CHARS} characters)")
    private_key = private_key_from_multikey(secret_key)
    holder: object = presentation.get("holder")
    if info.holder is None:
        holder = "did:key:" + private_key.public_key.multikey
    method = bound_verification_method(holder, "holder", private_key, verification_method, resolver,
                                       "authentication")
    for name, value in (("created", created), ("expires", expires)):
        if value is not None:
            parse_date_time_stamp(value, name)
    return add_proof(copy.deepcopy(presentation), private_key=private_key, suite=suite,
                     verification_method=method, proof_purpose="authentication", created=created,
                     expires=expires, challenge=challenge, domain=domain, loader=loader)
