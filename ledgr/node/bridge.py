"""Glue between the consensus core and the ledger formats (the node is the layer that sees both).

The core treats blocks as opaque bytes and defines its own message sign-bytes; the ledger defines
the block, header and QC formats, including the precommit sign-bytes a QC verifier checks
(``ledgr.ledger.formats``, "defined HERE and wired into consensus's pluggable signer by the node").
So the node's :class:`Signer`/:class:`Verifier` sign and check precommits with the ledger's bytes and
everything else with the core's, and QCs are converted between the two representations here.
"""

from __future__ import annotations

from ledgr.consensus.messages import Proposal, Vote, VoteType
from ledgr.consensus.messages import QuorumCertificate as CoreQC
from ledgr.consensus.signbytes import sign_bytes_of_proposal, sign_bytes_of_vote
from ledgr.consensus.validators import ValidatorSet as CoreValidatorSet
from ledgr.crypto import PrivateKey, PublicKey
from ledgr.ledger.formats import QuorumCertificate as LedgerQC
from ledgr.ledger.formats import precommit_sign_bytes
from ledgr.ledger.validators import ValidatorSet as LedgerValidatorSet


def vote_bytes(chain_id: str, vote: Vote) -> bytes:
    if vote.type is VoteType.PRECOMMIT:
        return precommit_sign_bytes(chain_id, vote.height, vote.round, vote.value_id)
    return sign_bytes_of_vote(chain_id, vote)


class NodeSigner:
    """The validator key signing consensus messages (precommits in the ledger's QC layout)."""

    __slots__ = ("_key",)

    def __init__(self, key: PrivateKey) -> None:
        self._key = key

    @property
    def public_key(self) -> PublicKey:
        return self._key.public_key

    def sign_vote(self, chain_id: str, vote: Vote) -> bytes:
        return self._key.sign(vote_bytes(chain_id, vote))

    def sign_proposal(self, chain_id: str, proposal: Proposal) -> bytes:
        return self._key.sign(sign_bytes_of_proposal(chain_id, proposal))


class NodeVerifier:
    """Checks consensus signatures with the same byte layouts as :class:`NodeSigner`."""

    __slots__ = ()

    def verify_vote(self, chain_id: str, vote: Vote, key: PublicKey) -> bool:
        return key.verify(vote_bytes(chain_id, vote), vote.signature)

    def verify_proposal(self, chain_id: str, proposal: Proposal, key: PublicKey) -> bool:
        return key.verify(sign_bytes_of_proposal(chain_id, proposal), proposal.signature)


def core_validators(validators: LedgerValidatorSet) -> CoreValidatorSet:
    """The consensus view of a ledger validator set: node keys in order, same quorum mode."""
    return CoreValidatorSet([v.node_key for v in validators.validators],
                            strict=validators.quorum_mode == "strict")


def ledger_qc(qc: CoreQC, validator_count: int) -> LedgerQC:
    return LedgerQC.from_votes(qc.height, qc.round, qc.value_id, validator_count,
                               dict(zip(qc.signers, qc.signatures, strict=True)))


def core_qc(qc: LedgerQC) -> CoreQC:
    return CoreQC(qc.height, qc.round, qc.block_hash, tuple(qc.signer_indexes()), qc.signatures)
