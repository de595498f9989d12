"""The one place where the ledger checks an issuer-signed ``BitstringStatusListCredential``.

Bitstring Status List v1.0 §2.2: the credential's subject is a ``BitstringStatusList`` with a
``statusPurpose`` and an ``encodedList`` (multibase base64url of the GZIP-compressed bitstring, at least
131,072 bits, §2.2 and §3.1). The ledger also requires that the credential is issued by the list's
owner and carries a Data Integrity proof made with one of the owner's ``assertionMethod`` keys that
was not declared compromised.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from typing import Any

from ledgr.crypto import multibase
from ledgr.errors import InvalidEncoding
from ledgr.ledger.authorize import ISSUER_RELATIONSHIPS, DidState
from ledgr.ledger.context import reject

PURPOSES = ("revocation", "suspension")
MIN_BITS = 131_072
MAX_BITS = 8 * 1024 * 1024
_MAX_ENCODED_CHARS = 400_000


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


def decode_bitstring_length(encoded: Any) -> int:
    """Number of bits in ``encodedList`` after a bounded GZIP decompression."""
    if not isinstance(encoded, str) or not encoded.startswith("u") or len(encoded) > _MAX_ENCODED_CHARS:
        raise reject("encodedList must be multibase base64url ('u…') within the size limit",
                     "invalid-status-credential")
    try:
        compressed = multibase.decode(encoded)
    except InvalidEncoding as exc:
        raise reject(f"encodedList: {exc.detail}", "invalid-status-credential") from exc
    inflater = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
    try:
        raw = inflater.decompress(compressed, MAX_BITS // 8 + 1)
    except zlib.error as exc:
        raise reject("encodedList is not GZIP data", "invalid-status-credential") from exc
    if len(raw) > MAX_BITS // 8 or not inflater.eof or inflater.unused_data:
        raise reject(f"encodedList must inflate to one GZIP member of at most {MAX_BITS} bits",
                     "invalid-status-credential")
    return len(raw) * 8


def check_status_list_credential(credential: Any, issuer: DidState) -> StatusListFacts:
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
    size_bits = decode_bitstring_length(subject.get("encodedList"))
    if size_bits < MIN_BITS:
        raise reject(f"a status list has at least {MIN_BITS} entries", "invalid-status-credential")
    _check_issuer_proof(credential, issuer)
    return StatusListFacts(list_id=list_id, issuer=issuer.document.id, purpose=str(purpose),
                           size_bits=size_bits)


def _check_issuer_proof(credential: dict[str, Any], issuer: DidState) -> None:
    proofs = credential.get("proof")
    proof_list: list[Any] = proofs if isinstance(proofs, list) else [proofs]
    if not proof_list or not all(isinstance(p, dict) for p in proof_list):
        raise reject("the status list credential must carry the issuer's proof",
                     "invalid-status-credential")
    for proof in proof_list:
        if not isinstance(proof, dict):
            continue
        vm_id = proof.get("verificationMethod")
        method = issuer.document.method_for(vm_id, ISSUER_RELATIONSHIPS) if isinstance(vm_id, str) \
            else None
        if proof.get("proofPurpose") != "assertionMethod" or method is None:
            raise reject("the credential proof must use an assertionMethod key of the issuer",
                         "unauthorized-key")
        if method.multikey in issuer.compromised:
            raise reject(f"{vm_id} was declared compromised", "compromised-key")
