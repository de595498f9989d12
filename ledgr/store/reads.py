"""Typed reads the node and API need, over one :class:`StoreView` snapshot.

``certified_read`` returns ``{value, smt_proof, header, qc}`` from ONE snapshot, so the proof is
against the same ``app_root`` the header carries and the QC signs (consensus.md §2.2): a verifier
holding the validator set can trust a single node's answer. Absence is proved the same way.
"""

from __future__ import annotations

from dataclasses import dataclass

from ledgr.errors import IntegrityError, LedgrError, NotFound
from ledgr.ledger.certified import operation_proof, prove_key
from ledgr.ledger.formats import Block, QuorumCertificate
from ledgr.ledger.smt import SmtProof
from ledgr.store.view import OpLocation, StoreView


@dataclass(frozen=True)
class CommittedBlock:
    block: Block
    qc: QuorumCertificate


@dataclass(frozen=True)
class ServedRead:
    """A state value (or its absence) with the proof, block header and QC that certify it.

    The verifier side is ``ledgr.ledger.certified.verify_certified_read``.
    """

    key: bytes
    value: bytes | None
    proof: SmtProof
    block: Block
    qc: QuorumCertificate


@dataclass(frozen=True)
class CommittedOperation:
    """A committed operation with its block, QC and RFC 6962 inclusion proof under ``tx_root``."""

    location: OpLocation
    envelope: bytes
    block: Block
    qc: QuorumCertificate
    tx_proof: list[bytes]


def load_block(view: StoreView, height: int) -> CommittedBlock | None:
    """Block ``height`` with its commit QC, or ``None`` if not (yet) committed."""
    raw_block = view.block_bytes(height)
    raw_qc = view.qc_bytes(height)
    if raw_block is None or raw_qc is None:
        return None
    try:
        return CommittedBlock(Block.decode(raw_block), QuorumCertificate.decode(raw_qc))
    except LedgrError as exc:
        raise IntegrityError(f"stored block or QC at height {height} does not decode: {exc.detail}") from exc


def latest_block(view: StoreView) -> CommittedBlock | None:
    """The tip block with its QC; ``None`` while only genesis is committed."""
    tip = view.tip()
    if tip is None or tip.height == 0:
        return None
    found = load_block(view, tip.height)
    if found is None:
        raise IntegrityError(f"the tip block {tip.height} is missing")
    return found


def certified_read(view: StoreView, key: bytes) -> ServedRead:
    """The latest value of state ``key`` with an SMT proof against the tip block's ``app_root``."""
    latest = latest_block(view)
    if latest is None:
        raise NotFound("no block is committed yet, so no state can be certified")
    value, proof = prove_key(view, key)
    return ServedRead(key, value, proof, latest.block, latest.qc)


def find_operation(view: StoreView, op_hash: bytes) -> CommittedOperation | None:
    """The committed operation with hash ``op_hash``, its block and QC, or ``None``."""
    location = view.op_location(op_hash)
    if location is None:
        return None
    found = load_block(view, location.height)
    if found is None or location.index >= len(found.block.operations):
        raise IntegrityError(f"the operation index points at a missing block entry {location}")
    return CommittedOperation(location, found.block.operations[location.index], found.block, found.qc,
                              operation_proof(found.block, location.index))
