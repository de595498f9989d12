"""Quorum certificates: building one from precommits and verifying one against a validator set.

A QC for ``(h, r, id)`` is valid when at least ``q`` *distinct members* of the validator set of
height ``h`` signed ``precommit_sign_bytes(chain_id, h, r, id)`` (consensus.md §2.1). Any ``q``
such precommits form a valid QC, so different nodes may hold different signer subsets.
"""

from __future__ import annotations

from collections.abc import Iterable

from ledgr.consensus.messages import QuorumCertificate, Vote, VoteType
from ledgr.consensus.signing import Ed25519Verifier, Verifier
from ledgr.consensus.validators import ValidatorSet
from ledgr.errors import InvalidInput, VerificationFailed

_DEFAULT_VERIFIER = Ed25519Verifier()


def build_qc(votes: Iterable[Vote]) -> QuorumCertificate:
    """A certificate from signed precommits that all name the same ``(height, round, value_id)``."""
    chosen: dict[int, Vote] = {}
    for vote in votes:
        chosen.setdefault(vote.validator, vote)
    if not chosen:
        raise InvalidInput("a QC needs at least one precommit")
    first = next(iter(chosen.values()))
    if first.value_id is None:
        raise InvalidInput("a QC certifies a value, not nil")
    for vote in chosen.values():
        if (vote.type, vote.height, vote.round, vote.value_id) != (
                VoteType.PRECOMMIT, first.height, first.round, first.value_id):
            raise InvalidInput("a QC's precommits must all name the same height, round and value")
    ordered = sorted(chosen.values(), key=lambda v: v.validator)
    return QuorumCertificate(first.height, first.round, first.value_id,
                             tuple(v.validator for v in ordered), tuple(v.signature for v in ordered))


def verify_qc(qc: QuorumCertificate, validators: ValidatorSet, chain_id: str,
              verifier: Verifier | None = None) -> None:
    """Raise :class:`VerificationFailed` unless ``qc`` holds ``q`` valid precommits of ``validators``.

    ``validators`` must be the set of ``qc.height`` (the caller tracks set changes at H+2).
    """
    check = verifier or _DEFAULT_VERIFIER
    if len(qc.signers) < validators.q:
        raise VerificationFailed(f"QC has {len(qc.signers)} signatures; the quorum is {validators.q}",
                                 height=qc.height)
    for vote in qc.votes():
        if vote.validator >= validators.n:
            raise VerificationFailed(f"QC names validator {vote.validator}, but the set has {validators.n}",
                                     height=qc.height)
        if not check.verify_vote(chain_id, vote, validators.key(vote.validator)):
            raise VerificationFailed(f"QC signature of validator {vote.validator} does not verify",
                                     height=qc.height)
