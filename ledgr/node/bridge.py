"""Glue between the consensus core and the ledger formats (the node is the layer that sees both).

The core treats blocks as opaque bytes and defines its own message sign-bytes; the ledger defines
the block, header and QC formats, and its precommit (and prevote) sign-bytes are a byte-for-byte
mirror of the core's (``ledgr.ledger.formats``; a test pins both to the same vectors). So the node
signs and verifies consensus messages with the core's own :class:`Ed25519Signer` /
:class:`Ed25519Verifier`, and only QCs, validator sets and evidence are converted here.
"""

from __future__ import annotations

from ledgr.consensus.evidence import Evidence, EvidenceKind
from ledgr.consensus.messages import QuorumCertificate as CoreQC
from ledgr.consensus.messages import VoteType
from ledgr.consensus.validators import ValidatorSet as CoreValidatorSet
from ledgr.crypto import PrivateKey, PublicKey
from ledgr.ledger import author
from ledgr.ledger.formats import QuorumCertificate as LedgerQC
from ledgr.ledger.rules_evidence import SignedVote
from ledgr.ledger.validators import ValidatorSet as LedgerValidatorSet

VOTE_NAMES = {VoteType.PREVOTE: "prevote", VoteType.PRECOMMIT: "precommit"}


def core_validators(validators: LedgerValidatorSet) -> CoreValidatorSet:
    """The consensus view of a ledger validator set: node keys in order, same quorum mode."""
    return CoreValidatorSet([v.node_key for v in validators.validators],
                            strict=validators.quorum_mode == "strict")


def ledger_qc(qc: CoreQC, validator_count: int) -> LedgerQC:
    return LedgerQC.from_votes(qc.height, qc.round, qc.value_id, validator_count,
                               dict(zip(qc.signers, qc.signatures, strict=True)))


def core_qc(qc: LedgerQC) -> CoreQC:
    return CoreQC(qc.height, qc.round, qc.block_hash, tuple(qc.signer_indexes()), qc.signatures)


def ledger_votes(evidence: Evidence) -> list[SignedVote]:
    """The two votes of core evidence in the ledger's ``evidence.submit`` form (same signatures)."""
    return [SignedVote(VOTE_NAMES[vote.type], vote.height, vote.round, vote.value_id, vote.valid_round,
                       vote.signature) for vote in (evidence.first, evidence.second)]


def submittable(evidence: Evidence) -> bool:
    """Whether the ledger takes this evidence: amnesia, or equivocation for two different values.
    Prevote pairs that differ only in ``valid_round`` stay in the node's own log."""
    return (evidence.kind is EvidenceKind.AMNESIA
            or evidence.first.value_id != evidence.second.value_id)


def evidence_operation(evidence: Evidence, node_key: PrivateKey, valid_until_height: int) -> bytes:
    """The ``evidence.submit`` envelope for ``evidence``, signed by this validator's node key."""
    return author.evidence_submit(PublicKey(evidence.validator_key), ledger_votes(evidence),
                                  node_key=node_key, chain_id=evidence.chain_id,
                                  valid_until_height=valid_until_height)
