"""Accountable Tendermint as a pure, sans-IO state machine (consensus.md §1; issue 4).

The node drives one :class:`Core` per process in the shape of etcd raft's ``RawNode``::

    core = Core(CoreConfig(chain_id="ledgr-pilot"), Ed25519Signer(consensus_key),
                state=load_persisted_state_or_None())
    effects = core.step(Start(height, validators, prev_time_ms), now_ms)
    ...
    effects = core.step(received(decode_message(data), sender=peer_key), now_ms)

For every step, execute the effects **in order**:

- :class:`Persist` ``state`` (bytes of :func:`encode_state`) durably. It is always first, so it is on
  disk before any message of the step leaves the node.
- :class:`Broadcast` / :class:`SendTo`: send :func:`encode_message` bytes to all validators / one peer
  (peers are named by their raw 32-byte consensus public key).
- :class:`ScheduleTimeout`: after ``duration_ms`` feed back :class:`TimeoutElapsed`.
- :class:`RequestValue`: build a block for ``(height, round)`` whose header time is ``time_ms``;
  answer :class:`ValueReady` with its 32-byte hash as ``value_id``.
- :class:`ValidateBlock`: check ``hash(block) == value_id`` and the header time, re-execute the block
  and check ``app_root``; answer :class:`BlockValidated`.
- :class:`Decide`: store block + :class:`QuorumCertificate`, apply it, then ``step(Start(height+1, …))``
  with that height's validator set (membership changes at H+2 are the caller's business).
- :class:`ReportEvidence`: keep the :class:`Evidence` (verifiable by anyone with :func:`verify_evidence`).

Blocks learned by block sync are announced with :class:`SyncedCommit`. After a restart, pass the last
persisted state to :class:`Core` and ``Start`` the height after the stored chain; a validator whose
consensus state was lost starts from :func:`wiped_state` (after syncing at least to the height it had
reached), which keeps it from signing in the height it may already have signed in. The core reads no clock and
draws no randomness: ``now_ms`` comes with every step. Signing is pluggable (:class:`Signer`,
:class:`Verifier`); :class:`Ed25519Signer`/:class:`Ed25519Verifier` sign the version-1 sign-bytes of
:mod:`ledgr.consensus.signbytes` (:func:`precommit_sign_bytes` is what a QC signature covers).

Encodings are deterministic and versioned: messages (:func:`encode_message`/:func:`decode_message`),
QCs (:func:`encode_qc`/:func:`decode_qc`), evidence and the durable state. Garbage raises
``ledgr.errors.InvalidEncoding`` / ``TooLarge``.
"""

from ledgr.consensus.codec import (
    DEFAULT_MAX_BLOCK_BYTES,
    decode_message,
    decode_qc,
    encode_message,
    encode_qc,
    max_message_bytes,
)
from ledgr.consensus.config import CoreConfig, TimeoutConfig
from ledgr.consensus.core import Core
from ledgr.consensus.events import (
    BlockValidated,
    Broadcast,
    CommitReceived,
    Decide,
    Effect,
    Input,
    PeerId,
    Persist,
    ProposalReceived,
    ReportEvidence,
    RequestValue,
    ScheduleTimeout,
    SendTo,
    Start,
    SyncedCommit,
    TimeoutElapsed,
    TimeoutKind,
    ValidateBlock,
    ValueReady,
    VoteReceived,
    received,
)
from ledgr.consensus.evidence import (
    Evidence,
    EvidenceKind,
    decode_evidence,
    detect_evidence,
    encode_evidence,
    verify_evidence,
)
from ledgr.consensus.messages import (
    NIL_ROUND,
    SIGNATURE_BYTES,
    VALUE_ID_BYTES,
    Commit,
    Message,
    Proposal,
    QuorumCertificate,
    Vote,
    VoteType,
)
from ledgr.consensus.qc import build_qc, verify_qc
from ledgr.consensus.signbytes import (
    SIGN_BYTES_DOMAIN,
    precommit_sign_bytes,
    proposal_sign_bytes,
    vote_sign_bytes,
)
from ledgr.consensus.signing import Ed25519Signer, Ed25519Verifier, Signer, Verifier
from ledgr.consensus.state import DurableState, Step, decode_state, encode_state, wiped_state
from ledgr.consensus.validators import ValidatorSet, default_quorum, strict_quorum

__all__ = [
    "DEFAULT_MAX_BLOCK_BYTES",
    "NIL_ROUND",
    "SIGNATURE_BYTES",
    "SIGN_BYTES_DOMAIN",
    "VALUE_ID_BYTES",
    "BlockValidated",
    "Broadcast",
    "Commit",
    "CommitReceived",
    "Core",
    "CoreConfig",
    "Decide",
    "DurableState",
    "Ed25519Signer",
    "Ed25519Verifier",
    "Effect",
    "Evidence",
    "EvidenceKind",
    "Input",
    "Message",
    "PeerId",
    "Persist",
    "Proposal",
    "ProposalReceived",
    "QuorumCertificate",
    "ReportEvidence",
    "RequestValue",
    "ScheduleTimeout",
    "SendTo",
    "Signer",
    "Start",
    "Step",
    "SyncedCommit",
    "TimeoutConfig",
    "TimeoutElapsed",
    "TimeoutKind",
    "ValidateBlock",
    "ValidatorSet",
    "ValueReady",
    "Verifier",
    "Vote",
    "VoteReceived",
    "VoteType",
    "build_qc",
    "decode_evidence",
    "decode_message",
    "decode_qc",
    "decode_state",
    "default_quorum",
    "detect_evidence",
    "encode_evidence",
    "encode_message",
    "encode_qc",
    "encode_state",
    "max_message_bytes",
    "precommit_sign_bytes",
    "proposal_sign_bytes",
    "received",
    "strict_quorum",
    "verify_evidence",
    "verify_qc",
    "vote_sign_bytes",
    "wiped_state",
]
