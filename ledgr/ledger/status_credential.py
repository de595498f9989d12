"""The one place where the ledger checks an issuer-signed ``BitstringStatusListCredential``.

Bitstring Status List v1.0 §2.2: the credential's subject is a ``BitstringStatusList`` with a
``statusPurpose`` and an ``encodedList`` (multibase base64url of the GZIP-compressed bitstring, at least
131,072 entries). Decoding (bounded) and Data Integrity proof verification come from ``ledgr.vc``.
The ledger additionally requires that the credential is issued by the list's owner and that EVERY proof
on it verifies with one of the owner's current ``assertionMethod`` keys that was not declared
compromised. Proof ``expires`` is compared with the block time, so every node decides alike.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from ledgr.did.resolver import strip_compromised
from ledgr.errors import LedgrError
from ledgr.ledger.authorize import DidState
from ledgr.ledger.context import reject
from ledgr.vc.proofs import verify_proofs
from ledgr.vc.status_list import MIN_ENTRIES, StatusList

PURPOSES = ("revocation", "suspension")
MAX_BITS = 8 * 1024 * 1024
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class StatusListFacts:
    list_id: str
    issuer: str
    purpose: str
    size_bits: int


def credential_issuer(credential: Any) -> str:
    """The issuer id of a credential-shaped object (``issuer`` as a string or ``{id}``)."""
    issuer = credential.get("issuer") if isinstance(credential, dict) else None
    if isinstance(issuer, dict):
        issuer = issuer.get("id")
    if not isinstance(issuer, str):
        raise reject("the status list credential has no issuer id", "invalid-status-credential")
    return issuer


def _types(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _bitstring_bits(encoded: Any) -> int:
    try:
        bits = StatusList.decode(encoded).entries
    except LedgrError as exc:
        raise reject(f"encodedList: {exc.detail}", "invalid-status-credential") from exc
    if bits > MAX_BITS:
        raise reject(f"a status list on the ledger holds at most {MAX_BITS} entries", "size-limit")
    return bits


def check_status_list_credential(credential: Any, issuer: DidState, time_ms: int) -> StatusListFacts:
    """Check a status list credential against its owner; return the facts the ledger records."""
    if not isinstance(credential, dict):
        raise reject("credential must be a JSON object", "invalid-status-credential")
    if "BitstringStatusListCredential" not in _types(credential.get("type")):
        raise reject("credential type must include BitstringStatusListCredential",
                     "invalid-status-credential")
    list_id = credential.get("id")
    if not isinstance(list_id, str) or not list_id:
        raise reject("the status list credential needs an id", "invalid-status-credential")
    if credential_issuer(credential) != issuer.document.id:
        raise reject("the credential's issuer is not the list owner", "unauthorized-key")
    subject = credential.get("credentialSubject")
    if not isinstance(subject, dict) or "BitstringStatusList" not in _types(subject.get("type")):
        raise reject("credentialSubject must be a BitstringStatusList", "invalid-status-credential")
    purpose = subject.get("statusPurpose")
    if purpose not in PURPOSES:
        raise reject(f"statusPurpose must be one of {PURPOSES}", "invalid-status-credential")
    size_bits = _bitstring_bits(subject.get("encodedList"))
    if size_bits < MIN_ENTRIES:
        raise reject(f"a status list has at least {MIN_ENTRIES} entries", "invalid-status-credential")
    _check_issuer_proofs(credential, issuer, time_ms)
    return StatusListFacts(list_id=list_id, issuer=issuer.document.id, purpose=str(purpose),
                           size_bits=size_bits)


def _check_issuer_proofs(credential: dict[str, Any], issuer: DidState, time_ms: int) -> None:
    controller = strip_compromised(issuer.document.json, issuer.compromised)

    def resolve_controller(_method_id: str) -> dict[str, Any]:
        return controller

    try:
        checks = verify_proofs(credential, resolve_controller=resolve_controller,
                               expected_purpose="assertionMethod",
                               now=_EPOCH + timedelta(milliseconds=time_ms))
    except LedgrError as exc:
        raise reject(f"status list credential proof: {exc.detail}", "invalid-status-credential") from exc
    failed = [c for c in checks if not c.verified]
    if failed:
        reason = failed[0].error.detail if failed[0].error is not None else "proof does not verify"
        raise reject(f"the issuer's proof on the status list credential fails: {reason}",
                     "invalid-status-proof")
