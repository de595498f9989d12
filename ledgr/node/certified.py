"""Checking a certified read from ONE node (consensus.md §2.2): QC, SMT path, freshness.

The answer of ``GET /v1/state/{kind}/{id}?proof=true`` carries, for each state entry, the exact value
bytes and an SMT proof, plus the encoded header and QC of the block whose ``app_root`` the proofs
reach. :func:`verify_state_answer` checks, in order: the header decodes and its QC holds a quorum of
valid precommits of the trusted validator set (whose hash the header must name); every entry's proof
links ``sha256(key) → sha256(value)`` (or proves absence) to ``header.app_root``; and, if asked, the
header is no older than ``max_age_ms``. Any failure raises :class:`~ledgr.errors.VerificationFailed`.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from typing import Any

from ledgr.crypto import sha256
from ledgr.errors import LedgrError, VerificationFailed
from ledgr.ledger.formats import Header, QuorumCertificate, verify_qc
from ledgr.ledger.smt import SmtProof, verify_proof
from ledgr.ledger.validators import ValidatorSet


@dataclass(frozen=True)
class CertifiedState:
    height: int
    time_ms: int
    app_root: bytes
    values: dict[str, bytes | None]


def _hex(value: Any, what: str) -> bytes:
    try:
        return bytes.fromhex(str(value))
    except ValueError as exc:
        raise VerificationFailed(f"{what} is not hex", check="encoding") from exc


def _b64(value: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
    except (binascii.Error, ValueError) as exc:
        raise VerificationFailed("value_b64 is not base64url", check="encoding") from exc


def verify_state_answer(answer: dict[str, Any], validators: ValidatorSet, now_ms: int | None = None,
                        max_age_ms: int | None = None) -> CertifiedState:
    try:
        header = Header.decode(_hex(answer["header"]["encoded"], "header"))
        qc = QuorumCertificate.decode(_hex(answer["qc"]["encoded"], "qc"))
        entries = answer["entries"]
    except (KeyError, TypeError) as exc:
        raise VerificationFailed("the answer holds no header, QC and entries (ask with ?proof=true)",
                                 check="shape") from exc
    except VerificationFailed:
        raise
    except LedgrError as exc:
        raise VerificationFailed(f"header or QC does not decode: {exc.detail}", check="encoding") from exc
    verify_qc(qc, header, validators)
    values: dict[str, bytes | None] = {}
    for name, entry in entries.items():
        key = _hex(entry["key"], "key")
        value = None if entry.get("value_b64") is None else _b64(entry["value_b64"])
        try:
            proof = SmtProof.decode(_hex(entry["smt_proof"]["encoded"], "proof"))
        except (KeyError, TypeError, LedgrError) as exc:
            raise VerificationFailed(f"entry {name} has no valid SMT proof", check="smt") from exc
        if not verify_proof(header.app_root, sha256(key), None if value is None else sha256(value), proof):
            raise VerificationFailed(f"the SMT proof of entry {name} does not reach the header's app_root",
                                     check="smt")
        values[name] = value
    if max_age_ms is not None and now_ms is not None and now_ms - header.time_ms > max_age_ms:
        raise VerificationFailed(f"the certified state is {now_ms - header.time_ms} ms old "
                                 f"(more than {max_age_ms} ms)", check="freshness")
    return CertifiedState(header.height, header.time_ms, header.app_root, values)
