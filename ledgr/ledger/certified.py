"""Single-node reads a verifier can trust: ``{value, smt_proof, header, qc}`` (consensus.md §2.2).

The serving node answers with the value of a state key, its sparse-Merkle proof against the header's
``app_root``, the header and the header's commit QC. A verifier holding the validator set checks, in
order: the QC (quorum of valid precommits by the set the header names), the proof (inclusion of
``sha256(value)`` under ``sha256(key)``, or absence when the value is None), and freshness (the header's
time against the verifier's clock). A node can always serve an old but valid state; only the age tells.
"""

from __future__ import annotations

from dataclasses import dataclass

from ledgr.crypto import sha256
from ledgr.errors import InvalidInput, VerificationFailed
from ledgr.ledger.formats import Block, Header, QuorumCertificate, operation_hash, verify_qc
from ledgr.ledger.merkle import inclusion_proof, verify_inclusion
from ledgr.ledger.records import ValidatorRecord, decode
from ledgr.ledger.smt import SmtProof, prove, verify_proof
from ledgr.ledger.state import VALIDATORS_KEY, StateReader, is_meta_key, read_tip
from ledgr.ledger.validators import ValidatorSet

DEFAULT_CLOCK_SKEW_MS = 60_000


@dataclass(frozen=True, slots=True)
class CertifiedRead:
    """A verified read: the value (None = provably absent) as of ``height``, ``age_ms`` old at ``now``."""

    key: bytes
    value: bytes | None
    height: int
    time_ms: int
    age_ms: int


def prove_key(reader: StateReader, key: bytes) -> tuple[bytes | None, SmtProof]:
    """Serving side: the committed value of ``key`` and its proof against the tip's ``app_root``."""
    if is_meta_key(key):
        raise InvalidInput("meta keys are not part of the state tree")
    tip = read_tip(reader)
    return reader.get(key), prove(reader.get_node, tip.app_root, sha256(key))


def verify_certified_read(*, key: bytes, value: bytes | None, smt_proof: SmtProof, header: Header,
                          qc: QuorumCertificate, validator_set: ValidatorSet, now_ms: int,
                          max_age_ms: int | None = None,
                          max_clock_skew_ms: int = DEFAULT_CLOCK_SKEW_MS) -> CertifiedRead:
    """Decide whether a read is certified; raise VerificationFailed (``check`` names the step) if not."""
    verify_qc(qc, header, validator_set)
    value_hash = None if value is None else sha256(value)
    if not verify_proof(header.app_root, sha256(key), value_hash, smt_proof):
        raise VerificationFailed("the state proof does not link the value to the header's app_root",
                                 check="state-proof")
    age_ms = now_ms - header.time_ms
    if age_ms < -max_clock_skew_ms:
        raise VerificationFailed("the header's time is in the future", check="freshness")
    age_ms = max(age_ms, 0)
    if max_age_ms is not None and age_ms > max_age_ms:
        raise VerificationFailed(f"the certified state is {age_ms} ms old (limit {max_age_ms} ms)",
                                 check="freshness")
    return CertifiedRead(key=key, value=value, height=header.height, time_ms=header.time_ms, age_ms=age_ms)


def operation_proof(block: Block, index: int) -> list[bytes]:
    """RFC 9162 inclusion proof of operation ``index`` of ``block`` under its ``tx_root``."""
    return inclusion_proof([operation_hash(op) for op in block.operations], index)


def verify_operation_included(envelope: bytes, index: int, tree_size: int, proof: list[bytes],
                              header: Header) -> None:
    """Check that ``envelope`` is operation ``index`` of the block ``header`` describes.

    Combined with :func:`ledgr.ledger.formats.verify_qc` on the header, this proves an operation was
    committed (the ``GET /v1/ops/{hash}`` answer of consensus.md §1.4).
    """
    if not verify_inclusion(operation_hash(envelope), index, tree_size, proof, header.tx_root):
        raise VerificationFailed("the operation is not in this block's tx_root", check="tx-inclusion")


def validator_record_from_read(read: CertifiedRead) -> ValidatorRecord:
    """The validator record a certified read of the ``validators`` key proves.

    How a verifier follows membership changes (consensus.md §3 item 4): holding the set that signs
    height h, it asks any node for a certified read of ``validators`` at a height its set still signs;
    the record names the pending set and its activation height, which it then trusts for later
    headers. Changes are rare, so the chain of such reads is short.
    """
    if read.key != VALIDATORS_KEY or read.value is None:
        raise VerificationFailed("not a certified read of the validator record", check="validators")
    return ValidatorRecord.from_json(decode(read.value))
