"""The durable consensus state and its versioned byte encoding (consensus.md §1.3 "Persistence rules").

A node persists ``{h, r, step, lockedValue, lockedRound, validValue, validRound, last_signed}`` before
any message it signed in that step leaves it (the :class:`Persist` effect is always first). On
restart the core resumes from it and never signs anything at or below the ``last_signed`` watermark,
so it cannot contradict what it signed before the crash. The polka (the ``q`` prevotes that set the
valid value) is kept too, so a restarted proposer can re-propose with a justification peers accept.

Encoding version 1 (big-endian)::

    u8 version ‖ u64 height ‖ i64 round ‖ u8 step ‖ i64 locked_round ‖ opt_id locked_value
    ‖ i64 valid_round ‖ opt_id valid_value ‖ u32 len ‖ valid_block ‖ u64 valid_time_ms
    ‖ u8 count ‖ (u32 len ‖ vote)* polka ‖ u64 signed_height ‖ i64 signed_round ‖ u8 signed_kind
    ‖ u8 count ‖ (u32 len ‖ message)* own signed messages of the current round
    opt_id = u8 0 | u8 1 ‖ id[32]
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import IntEnum

from ledgr.consensus._wire import Reader, Writer
from ledgr.consensus.codec import DEFAULT_MAX_BLOCK_BYTES, decode_message, encode_message, max_message_bytes
from ledgr.consensus.messages import NIL_ROUND, VALUE_ID_BYTES, Proposal, Vote
from ledgr.errors import InvalidEncoding, InvalidInput

STATE_VERSION = 1
MAX_LISTED = 255


class Step(IntEnum):
    PROPOSE = 0
    PREVOTE = 1
    PRECOMMIT = 2


class SignKind(IntEnum):
    """Order of signing inside one round; the watermark is ``(height, round, kind)``."""

    NONE = 0
    PROPOSAL = 1
    PREVOTE = 2
    PRECOMMIT = 3


@dataclass(frozen=True, slots=True)
class DurableState:
    height: int
    round: int = 0
    step: Step = Step.PROPOSE
    locked_round: int = NIL_ROUND
    locked_value_id: bytes | None = None
    valid_round: int = NIL_ROUND
    valid_value_id: bytes | None = None
    valid_block: bytes = b""
    valid_time_ms: int = 0
    polka: tuple[Vote, ...] = ()
    signed_height: int = 0
    signed_round: int = NIL_ROUND
    signed_kind: SignKind = SignKind.NONE
    own_messages: tuple[Proposal | Vote, ...] = field(default=())

    @property
    def watermark(self) -> tuple[int, int, int]:
        return (self.signed_height, self.signed_round, int(self.signed_kind))


def _opt_id(out: Writer, value_id: bytes | None) -> None:
    if value_id is None:
        out.u8(0)
    else:
        out.u8(1).raw(value_id)


def _read_opt_id(reader: Reader) -> bytes | None:
    flag = reader.u8()
    if flag not in (0, 1):
        raise InvalidEncoding("consensus state: bad optional value flag")
    return reader.raw(VALUE_ID_BYTES) if flag else None


def encode_state(state: DurableState) -> bytes:
    if len(state.polka) > MAX_LISTED or len(state.own_messages) > MAX_LISTED:
        raise InvalidInput("consensus state lists too many messages")
    out = Writer().u8(STATE_VERSION).u64(state.height).i64(state.round).u8(int(state.step))
    out.i64(state.locked_round)
    _opt_id(out, state.locked_value_id)
    out.i64(state.valid_round)
    _opt_id(out, state.valid_value_id)
    out.blob(state.valid_block).u64(state.valid_time_ms)
    out.u8(len(state.polka))
    for vote in state.polka:
        out.blob(encode_message(vote))
    out.u64(state.signed_height).i64(state.signed_round).u8(int(state.signed_kind))
    out.u8(len(state.own_messages))
    for msg in state.own_messages:
        out.blob(encode_message(msg))
    return out.bytes()


def decode_state(data: bytes, max_block_bytes: int = DEFAULT_MAX_BLOCK_BYTES) -> DurableState:
    """Parse what :func:`encode_state` wrote; a corrupt record raises ``InvalidEncoding``."""
    reader = Reader(data, "consensus state")
    limit = max_message_bytes(max_block_bytes)
    try:
        if reader.u8() != STATE_VERSION:
            raise InvalidEncoding("unknown consensus state version")
        height, round_, step = reader.u64(), reader.i64(), Step(reader.u8())
        locked_round, locked_value = reader.i64(), _read_opt_id(reader)
        valid_round, valid_value = reader.i64(), _read_opt_id(reader)
        valid_block, valid_time = reader.blob(max_block_bytes), reader.u64()
        polka = tuple(_expect_vote(decode_message(reader.blob(limit))) for _ in range(reader.u8()))
        signed_height, signed_round, signed_kind = reader.u64(), reader.i64(), SignKind(reader.u8())
        own: list[Proposal | Vote] = []
        for _ in range(reader.u8()):
            msg = decode_message(reader.blob(limit), max_block_bytes)
            if not isinstance(msg, Proposal | Vote):
                raise InvalidEncoding("consensus state: own messages are proposals or votes")
            own.append(msg)
        reader.done()
    except ValueError as exc:
        raise InvalidEncoding("consensus state: unknown step or sign kind") from exc
    if not (NIL_ROUND <= locked_round <= round_ and NIL_ROUND <= valid_round <= round_):
        raise InvalidEncoding("consensus state: lock or valid round beyond the current round")
    return DurableState(height, round_, step, locked_round, locked_value, valid_round, valid_value,
                        valid_block, valid_time, polka, signed_height, signed_round, signed_kind, tuple(own))


def _expect_vote(msg: object) -> Vote:
    if not isinstance(msg, Vote):
        raise InvalidEncoding("consensus state: the polka holds votes only")
    return msg


def wiped_state(tip_height: int) -> bytes:
    """State for a validator whose disk was wiped and that re-synced the chain up to ``tip_height``.

    It may have signed at ``tip_height + 1`` before the wipe, so it must not sign there again: the
    watermark covers that whole height (the node observes it and signs again from the next one).
    """
    height = tip_height + 1
    return encode_state(DurableState(height, signed_height=height, signed_round=2**31 - 1,
                                     signed_kind=SignKind.PRECOMMIT))
