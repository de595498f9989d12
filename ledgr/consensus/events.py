"""What goes into :meth:`Core.step` (inputs) and what comes out (effects): the etcd-raft Ready contract.

The caller runs, for every input::

    effects = core.step(input, now_ms)
    for e in effects: handle(e)       # in list order

and must make each :class:`Persist` durable before sending any :class:`Broadcast`/:class:`SendTo`
that follows it (the core always puts the one ``Persist`` of a step first). Timers, block building,
block execution and storage are the caller's; results come back as inputs.

Peers are named by their raw 32-byte consensus public key (:data:`PeerId`).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

from ledgr.consensus.evidence import Evidence
from ledgr.consensus.messages import Commit, Message, Proposal, QuorumCertificate, Vote
from ledgr.consensus.validators import ValidatorSet

PeerId = bytes


class TimeoutKind(IntEnum):
    """Timers of the paper (lines 57, 61, 65) plus the rebroadcast timer that provides gossip."""

    PROPOSE = 1
    PREVOTE = 2
    PRECOMMIT = 3
    REBROADCAST = 4


# ---- inputs -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Start:
    """Begin (or, after a restart at the same height, resume) consensus on ``height``.

    ``validators`` is the set of ``height``; ``prev_time_ms`` the time of block ``height−1`` (block
    times must increase strictly). ``next_validators`` (the set of ``height+1``, known under the H+2
    rule) lets the core keep only members' early messages for the next height.
    """

    height: int
    validators: ValidatorSet
    prev_time_ms: int
    next_validators: ValidatorSet | None = None


@dataclass(frozen=True, slots=True)
class ProposalReceived:
    proposal: Proposal
    sender: PeerId | None = None


@dataclass(frozen=True, slots=True)
class VoteReceived:
    vote: Vote
    sender: PeerId | None = None


@dataclass(frozen=True, slots=True)
class CommitReceived:
    commit: Commit
    sender: PeerId | None = None


@dataclass(frozen=True, slots=True)
class TimeoutElapsed:
    kind: TimeoutKind
    height: int
    round: int


@dataclass(frozen=True, slots=True)
class ValueReady:
    """The block the caller built for a :class:`RequestValue`; ``value_id`` is its hash."""

    height: int
    round: int
    value_id: bytes
    block: bytes


@dataclass(frozen=True, slots=True)
class BlockValidated:
    """The caller's verdict on a :class:`ValidateBlock`: it re-executed the block (hash, time, app_root)."""

    height: int
    value_id: bytes
    valid: bool


@dataclass(frozen=True, slots=True)
class SyncedCommit:
    """A decision the caller learned (and already stored) through block sync.

    The core stops working on heights up to ``commit.height`` without a :class:`Decide`, keeps the
    commit to help peers that are one height behind, and waits for :class:`Start` of the next height.
    """

    commit: Commit


Input = (Start | ProposalReceived | VoteReceived | CommitReceived | TimeoutElapsed | ValueReady
         | BlockValidated | SyncedCommit)


def received(message: Message, sender: PeerId | None = None) -> Input:
    """Wrap a decoded message (from :func:`decode_message`) as the matching input."""
    if isinstance(message, Proposal):
        return ProposalReceived(message, sender)
    if isinstance(message, Vote):
        return VoteReceived(message, sender)
    return CommitReceived(message, sender)


# ---- effects ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Persist:
    """Durably store ``state`` (see :func:`encode_state`) before sending any later message."""

    state: bytes


@dataclass(frozen=True, slots=True)
class Broadcast:
    """Send ``message`` (encode it with :func:`encode_message`) to every validator."""

    message: Message


@dataclass(frozen=True, slots=True)
class SendTo:
    peer: PeerId
    message: Message


@dataclass(frozen=True, slots=True)
class ScheduleTimeout:
    """Call back with :class:`TimeoutElapsed` after ``duration_ms`` (earlier timers stay armed)."""

    kind: TimeoutKind
    height: int
    round: int
    duration_ms: int


@dataclass(frozen=True, slots=True)
class RequestValue:
    """Build a block for ``(height, round)`` with header time ``time_ms``; answer with :class:`ValueReady`."""

    height: int
    round: int
    time_ms: int


@dataclass(frozen=True, slots=True)
class ValidateBlock:
    """Check ``hash(block) == value_id`` and ``block.time == time_ms``, re-execute it and check its
    ``app_root``; answer with :class:`BlockValidated`."""

    height: int
    value_id: bytes
    block: bytes
    time_ms: int


@dataclass(frozen=True, slots=True)
class Decide:
    """``block`` is final at ``height``; store it with ``qc`` and then :class:`Start` the next height."""

    height: int
    round: int
    value_id: bytes
    block: bytes
    time_ms: int
    qc: QuorumCertificate


@dataclass(frozen=True, slots=True)
class ReportEvidence:
    """Signed proof that a validator misbehaved (store it; operators decide what follows)."""

    evidence: Evidence


Effect = (Persist | Broadcast | SendTo | ScheduleTimeout | RequestValue | ValidateBlock | Decide
          | ReportEvidence)
