"""Consensus message types: proposals, votes, quorum certificates and commit relays.

Shapes follow the Tendermint paper (arXiv 1807.04938, Algorithm 1) with the accountable-Tendermint
addition that every prevote carries the ``valid_round`` it relied on (consensus.md §1.1, §1.3):

- ``⟨PROPOSAL, h, r, v, validRound⟩`` is :class:`Proposal` (``pol_round`` is the paper's validRound;
  the proposer also proposes the block ``time_ms``, bound by the value id).
- ``⟨PREVOTE, h, r, id(v)|nil, validRound⟩`` and ``⟨PRECOMMIT, h, r, id(v)|nil⟩`` are :class:`Vote`.
- A :class:`QuorumCertificate` is ``q`` precommit signatures for one ``(h, r, id(v))`` plus the signer set.
- :class:`Commit` relays a decided block with its QC to a peer that is one height behind.

Blocks are opaque bytes; ``value_id`` is the 32-byte block hash the caller computed. Values are
immutable and checked for shape when built, so a decoded message is always well-formed (but its
signature and membership are checked by the core, not here).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

from ledgr.errors import InvalidInput

VALUE_ID_BYTES = 32
SIGNATURE_BYTES = 64
NIL_ROUND = -1
MAX_HEIGHT = 2**63 - 1
MAX_ROUND = 2**31 - 1
MAX_VALIDATOR_INDEX = 2**16 - 1


class VoteType(IntEnum):
    """The two vote kinds; the numbers are part of the sign-bytes and the wire format."""

    PREVOTE = 2
    PRECOMMIT = 3


def _check_height_round(height: int, round_: int, what: str) -> None:
    if not isinstance(height, int) or not 0 <= height <= MAX_HEIGHT:
        raise InvalidInput(f"{what}: height must be an integer in 0..{MAX_HEIGHT}")
    if not isinstance(round_, int) or not 0 <= round_ <= MAX_ROUND:
        raise InvalidInput(f"{what}: round must be an integer in 0..{MAX_ROUND}")


def _check_value_id(value_id: bytes | None, what: str, *, nil_ok: bool) -> None:
    if value_id is None:
        if not nil_ok:
            raise InvalidInput(f"{what}: value id is required")
        return
    if not isinstance(value_id, bytes) or len(value_id) != VALUE_ID_BYTES:
        raise InvalidInput(f"{what}: value id must be {VALUE_ID_BYTES} bytes")


def _is_earlier_round(candidate: int, round_: int) -> bool:
    return isinstance(candidate, int) and (candidate == NIL_ROUND or 0 <= candidate < round_)


def _check_signature(signature: bytes, what: str) -> None:
    if not isinstance(signature, bytes) or len(signature) not in (0, SIGNATURE_BYTES):
        raise InvalidInput(f"{what}: signature must be {SIGNATURE_BYTES} bytes (or empty before signing)")


def _check_index(index: int, what: str) -> None:
    if not isinstance(index, int) or not 0 <= index <= MAX_VALIDATOR_INDEX:
        raise InvalidInput(f"{what}: validator index must be in 0..{MAX_VALIDATOR_INDEX}")


@dataclass(frozen=True, slots=True)
class Vote:
    """A signed prevote or precommit by validator ``validator`` (its index in the height's set).

    ``value_id`` is ``None`` for a nil vote. ``valid_round`` is the round of the polka (``q``
    prevotes) a prevote relied on, or -1; precommits always carry -1. An empty ``signature`` marks
    a vote that is about to be signed.
    """

    type: VoteType
    height: int
    round: int
    value_id: bytes | None
    valid_round: int
    validator: int
    signature: bytes = b""

    def __post_init__(self) -> None:
        if not isinstance(self.type, VoteType):
            raise InvalidInput("vote type must be PREVOTE or PRECOMMIT")
        _check_height_round(self.height, self.round, "vote")
        _check_value_id(self.value_id, "vote", nil_ok=True)
        _check_index(self.validator, "vote")
        _check_signature(self.signature, "vote")
        if self.type is VoteType.PRECOMMIT and self.valid_round != NIL_ROUND:
            raise InvalidInput("a precommit carries no valid round (-1)")
        if not _is_earlier_round(self.valid_round, self.round):
            raise InvalidInput("a prevote's valid round must be -1 or below its round")

    def signed(self, signature: bytes) -> Vote:
        return Vote(self.type, self.height, self.round, self.value_id, self.valid_round, self.validator,
                    signature)

    def unsigned(self) -> Vote:
        return self.signed(b"")


@dataclass(frozen=True, slots=True)
class Proposal:
    """A signed proposal of ``block`` (with id ``value_id`` and time ``time_ms``) for ``(height, round)``.

    ``pol_round`` is the paper's validRound: -1 for a fresh value, else the earlier round in which
    the proposer saw ``q`` prevotes for this value (paper line 16 and 28).
    """

    height: int
    round: int
    value_id: bytes
    block: bytes
    time_ms: int
    pol_round: int
    proposer: int
    signature: bytes = b""

    def __post_init__(self) -> None:
        _check_height_round(self.height, self.round, "proposal")
        _check_value_id(self.value_id, "proposal", nil_ok=False)
        if not isinstance(self.block, bytes):
            raise InvalidInput("proposal: block must be bytes")
        if not isinstance(self.time_ms, int) or not 0 <= self.time_ms <= MAX_HEIGHT:
            raise InvalidInput("proposal: time_ms must be a non-negative integer")
        if not _is_earlier_round(self.pol_round, self.round):
            raise InvalidInput("proposal: pol_round must be -1 or below the proposal's round")
        _check_index(self.proposer, "proposal")
        _check_signature(self.signature, "proposal")

    def signed(self, signature: bytes) -> Proposal:
        return Proposal(self.height, self.round, self.value_id, self.block, self.time_ms, self.pol_round,
                        self.proposer, signature)

    def unsigned(self) -> Proposal:
        return self.signed(b"")


@dataclass(frozen=True, slots=True)
class QuorumCertificate:
    """Precommit signatures of validators ``signers`` (ascending indices) for ``(height, round, value_id)``.

    ``signatures[i]`` belongs to ``signers[i]``. Verify with :func:`ledgr.consensus.verify_qc`.
    """

    height: int
    round: int
    value_id: bytes
    signers: tuple[int, ...]
    signatures: tuple[bytes, ...]

    def __post_init__(self) -> None:
        _check_height_round(self.height, self.round, "QC")
        _check_value_id(self.value_id, "QC", nil_ok=False)
        if len(self.signers) != len(self.signatures):
            raise InvalidInput("QC: one signature per signer is required")
        if list(self.signers) != sorted(set(self.signers)):
            raise InvalidInput("QC: signers must be distinct and ascending")
        for index in self.signers:
            _check_index(index, "QC")
        for sig in self.signatures:
            if not isinstance(sig, bytes) or len(sig) != SIGNATURE_BYTES:
                raise InvalidInput(f"QC: every signature is {SIGNATURE_BYTES} bytes")

    def votes(self) -> tuple[Vote, ...]:
        """The precommits this certificate consists of."""
        return tuple(Vote(VoteType.PRECOMMIT, self.height, self.round, self.value_id, NIL_ROUND, index, sig)
                     for index, sig in zip(self.signers, self.signatures, strict=True))

    def signer_bitmap(self, n: int) -> bytes:
        """Signer set as a bitmap of ``⌈n/8⌉`` bytes, validator 0 in the most significant bit."""
        bits = bytearray((n + 7) // 8)
        for index in self.signers:
            bits[index // 8] |= 0x80 >> (index % 8)
        return bytes(bits)


@dataclass(frozen=True, slots=True)
class Commit:
    """A decided block with its certificate, relayed to a peer that is still working on that height."""

    block: bytes
    time_ms: int
    qc: QuorumCertificate

    def __post_init__(self) -> None:
        if not isinstance(self.block, bytes):
            raise InvalidInput("commit: block must be bytes")
        if not isinstance(self.time_ms, int) or not 0 <= self.time_ms <= MAX_HEIGHT:
            raise InvalidInput("commit: time_ms must be a non-negative integer")

    @property
    def height(self) -> int:
        return self.qc.height


Message = Proposal | Vote | Commit
