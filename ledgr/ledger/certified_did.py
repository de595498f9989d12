"""Certified DID resolution: resolve a ``did:ledgr`` through ONE untrusted node (consensus.md §2.2).

The node sends the DID's head record and its current version record, each with a sparse-Merkle proof
against the same header, plus that header's QC. The client checks the QC and both proofs with
:func:`ledgr.ledger.certified.verify_certified_read`, checks that the version is the one the head names,
and resolves locally from the verified records (:class:`VerifiedDidReader` is a
:class:`ledgr.did.records.DidRecordReader`), so the W3C resolution result it builds owes nothing to the
node but liveness. An unknown DID is proven absent the same way.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ledgr.crypto import sha256
from ledgr.did.records import DidHead, DidResource, DidVersion
from ledgr.did.resolver import ResolutionResult, resolve
from ledgr.errors import VerificationFailed
from ledgr.ledger.certified import CertifiedRead, prove_key, verify_certified_read
from ledgr.ledger.formats import Header, QuorumCertificate
from ledgr.ledger.records import decode, head_from_json, version_from_json
from ledgr.ledger.smt import SmtProof, verify_proof
from ledgr.ledger.state import StateReader, did_head_key, did_version_key
from ledgr.ledger.validators import ValidatorSet


@dataclass(frozen=True, slots=True)
class DidProof:
    """What a node sends: head value and proof, and (if the DID exists) the current version's."""

    did: str
    head: bytes | None
    head_proof: SmtProof
    version: bytes | None
    version_proof: SmtProof | None

    def to_json(self) -> dict[str, Any]:
        return {
            "did": self.did,
            "head": None if self.head is None else self.head.hex(),
            "headProof": self.head_proof.encode().hex(),
            "version": None if self.version is None else self.version.hex(),
            "versionProof": None if self.version_proof is None else self.version_proof.encode().hex(),
        }


def prove_did(reader: StateReader, did: str) -> DidProof:
    """Serving side: the records and proofs of ``did`` at the reader's tip."""
    head, head_proof = prove_key(reader, did_head_key(did))
    if head is None:
        return DidProof(did, None, head_proof, None, None)
    seq = int(decode(head)["seq"])
    version, version_proof = prove_key(reader, did_version_key(did, seq))
    return DidProof(did, head, head_proof, version, version_proof)


class VerifiedDidReader:
    """A :class:`~ledgr.did.records.DidRecordReader` over one DID's verified current records."""

    def __init__(self, head: DidHead | None, version: DidVersion | None) -> None:
        self.head = head
        self.version = version

    def did_head(self, did: str) -> DidHead | None:
        return self.head if self.head is not None and self.head.did == did else None

    def did_version(self, did: str, seq: int) -> DidVersion | None:
        if self.head is None or self.head.did != did or self.version is None or self.version.seq != seq:
            return None
        return self.version

    def did_resource(self, did: str, resource_id: str) -> DidResource | None:
        return None


@dataclass(frozen=True, slots=True)
class CertifiedResolution:
    result: ResolutionResult
    read: CertifiedRead


def verify_did_proof(proof: DidProof, *, header: Header, qc: QuorumCertificate,
                     validator_set: ValidatorSet, now_ms: int,
                     max_age_ms: int | None = None) -> CertifiedResolution:
    """Verify a :class:`DidProof` and resolve the DID from it (current version only)."""
    read = verify_certified_read(key=did_head_key(proof.did), value=proof.head, smt_proof=proof.head_proof,
                                 header=header, qc=qc, validator_set=validator_set, now_ms=now_ms,
                                 max_age_ms=max_age_ms)
    if proof.head is None:
        return CertifiedResolution(resolve(proof.did, VerifiedDidReader(None, None)), read)
    head = head_from_json(proof.did, decode(proof.head))
    if proof.version is None or proof.version_proof is None:
        raise VerificationFailed("the current DID document version is missing", check="state-proof")
    version_key = did_version_key(proof.did, head.seq)
    if not verify_proof(header.app_root, sha256(version_key), sha256(proof.version), proof.version_proof):
        raise VerificationFailed("the version proof does not link to the header's app_root",
                                 check="state-proof")
    version = version_from_json(decode(proof.version))
    if version.seq != head.seq or version.version_hash != head.version_hash:
        raise VerificationFailed("the version record is not the one the DID head names", check="state-proof")
    return CertifiedResolution(resolve(proof.did, VerifiedDidReader(head, version)), read)
