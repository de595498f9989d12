"""Checking a certified state answer from ONE node (consensus.md §2.2): QC, SMT paths, freshness.

``GET /v1/state/{kind}/{id}?proof=true`` answers with, per state entry, the exact value bytes and
an SMT proof, plus the encoded header and QC of the block whose ``app_root`` the proofs reach. This
decodes that JSON and runs ``ledgr.ledger.certified.verify_certified_read`` on every entry against a
trusted validator set; any failure raises :class:`~ledgr.errors.VerificationFailed`.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from typing import Any

from ledgr.errors import LedgrError, VerificationFailed
from ledgr.ledger.certified import verify_certified_read
from ledgr.ledger.formats import Header, QuorumCertificate
from ledgr.ledger.smt import SmtProof
from ledgr.ledger.validators import ValidatorSet


@dataclass(frozen=True)
class CertifiedState:
    height: int
    time_ms: int
    app_root: bytes
    age_ms: int
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
        entries = dict(answer["entries"])
    except (KeyError, TypeError, ValueError) as exc:
        raise VerificationFailed("the answer holds no header, QC and entries (ask with ?proof=true)",
                                 check="shape") from exc
    except VerificationFailed:
        raise
    except LedgrError as exc:
        raise VerificationFailed(f"header or QC does not decode: {exc.detail}", check="encoding") from exc
    now = header.time_ms if now_ms is None else now_ms
    values: dict[str, bytes | None] = {}
    age_ms = 0
    for name, entry in entries.items():
        try:
            key = _hex(entry["key"], "key")
            value = None if entry.get("value_b64") is None else _b64(entry["value_b64"])
            proof = SmtProof.decode(_hex(entry["smt_proof"]["encoded"], "proof"))
        except (KeyError, TypeError) as exc:
            raise VerificationFailed(f"entry {name} has no SMT proof", check="shape") from exc
        except VerificationFailed:
            raise
        except LedgrError as exc:
            raise VerificationFailed(f"entry {name}: {exc.detail}", check="encoding") from exc
        read = verify_certified_read(key=key, value=value, smt_proof=proof, header=header, qc=qc,
                                     validator_set=validators, now_ms=now, max_age_ms=max_age_ms)
        values[name] = read.value
        age_ms = read.age_ms
    return CertifiedState(header.height, header.time_ms, header.app_root, age_ms, values)
