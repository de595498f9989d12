"""Deterministic, versioned wire encoding of consensus messages (version 1).

``encode_message`` / ``decode_message`` are exact inverses; one message has exactly one encoding, so
equal messages are equal bytes. Layout (big-endian)::

    u8 version (=1) ‖ u8 kind ‖ body
    kind 1 proposal:  u64 height ‖ i64 round ‖ value_id[32] ‖ u32 len ‖ block ‖ u64 time_ms
                      ‖ i64 pol_round ‖ u16 proposer ‖ signature[64]
    kind 2 vote:      u8 type (2 prevote, 3 precommit) ‖ u64 height ‖ i64 round ‖ u8 has_value
                      ‖ value_id[32] if has_value ‖ i64 valid_round ‖ u16 validator ‖ signature[64]
    kind 3 commit:    u32 len ‖ block ‖ u64 time_ms ‖ qc
    qc:               u64 height ‖ i64 round ‖ value_id[32] ‖ u8 bitmap_len ‖ bitmap
                      ‖ signature[64] per set bit, in ascending validator order

Limits: a block is at most ``max_block_bytes`` (default 1 MiB) and a whole message at most that plus
4 KiB. Garbage raises :class:`ledgr.errors.InvalidEncoding`, oversize input :class:`ledgr.errors.TooLarge`.
"""

from __future__ import annotations

from ledgr.consensus._wire import Reader, Writer
from ledgr.consensus.messages import (
    SIGNATURE_BYTES,
    VALUE_ID_BYTES,
    Commit,
    Message,
    Proposal,
    QuorumCertificate,
    Vote,
    VoteType,
)
from ledgr.errors import InvalidEncoding, InvalidInput, TooLarge

WIRE_VERSION = 1
KIND_PROPOSAL = 1
KIND_VOTE = 2
KIND_COMMIT = 3
DEFAULT_MAX_BLOCK_BYTES = 1 << 20
MESSAGE_OVERHEAD_BYTES = 4096
MAX_BITMAP_BYTES = 8


def max_message_bytes(max_block_bytes: int = DEFAULT_MAX_BLOCK_BYTES) -> int:
    return max_block_bytes + MESSAGE_OVERHEAD_BYTES


def _need_signature(signature: bytes, what: str) -> bytes:
    if len(signature) != SIGNATURE_BYTES:
        raise InvalidInput(f"only signed {what}s can be encoded")
    return signature


def _write_qc(out: Writer, qc: QuorumCertificate) -> None:
    n_bits = (max(qc.signers) + 1) if qc.signers else 0
    bitmap = qc.signer_bitmap(n_bits)
    if len(bitmap) > MAX_BITMAP_BYTES:
        raise InvalidInput(f"a QC bitmap is at most {MAX_BITMAP_BYTES} bytes")
    out.u64(qc.height).i64(qc.round).raw(qc.value_id).u8(len(bitmap)).raw(bitmap)
    for sig in qc.signatures:
        out.raw(sig)


def _read_qc(data: Reader) -> QuorumCertificate:
    height, round_, value_id = data.u64(), data.i64(), data.raw(VALUE_ID_BYTES)
    bitmap_len = data.u8()
    if bitmap_len > MAX_BITMAP_BYTES:
        raise InvalidEncoding(f"a QC bitmap is at most {MAX_BITMAP_BYTES} bytes")
    bitmap = data.raw(bitmap_len)
    if bitmap_len and bitmap[-1] == 0:
        raise InvalidEncoding("a QC bitmap must not end with a zero byte")
    signers = tuple(i for i in range(bitmap_len * 8) if bitmap[i // 8] & (0x80 >> (i % 8)))
    signatures = tuple(data.raw(SIGNATURE_BYTES) for _ in signers)
    return QuorumCertificate(height, round_, value_id, signers, signatures)


def encode_qc(qc: QuorumCertificate) -> bytes:
    """The version-1 encoding of a QC on its own (for storing it next to a block)."""
    out = Writer().u8(WIRE_VERSION)
    _write_qc(out, qc)
    return out.bytes()


def decode_qc(data: bytes) -> QuorumCertificate:
    reader = Reader(data, "quorum certificate")
    if len(data) > MESSAGE_OVERHEAD_BYTES:
        raise TooLarge("quorum certificate is too large", limit=MESSAGE_OVERHEAD_BYTES)
    try:
        if reader.u8() != WIRE_VERSION:
            raise InvalidEncoding("unknown quorum certificate encoding version")
        qc = _read_qc(reader)
        reader.done()
    except InvalidEncoding:
        raise
    except InvalidInput as exc:
        raise InvalidEncoding(f"malformed quorum certificate: {exc.detail}") from exc
    return qc


def encode_message(msg: Message) -> bytes:
    """The unique version-1 bytes of a signed proposal, vote or commit."""
    out = Writer().u8(WIRE_VERSION)
    if isinstance(msg, Proposal):
        out.u8(KIND_PROPOSAL).u64(msg.height).i64(msg.round).raw(msg.value_id).blob(msg.block)
        out.u64(msg.time_ms).i64(msg.pol_round).u16(msg.proposer)
        out.raw(_need_signature(msg.signature, "proposal"))
    elif isinstance(msg, Vote):
        out.u8(KIND_VOTE).u8(int(msg.type)).u64(msg.height).i64(msg.round)
        if msg.value_id is None:
            out.u8(0)
        else:
            out.u8(1).raw(msg.value_id)
        out.i64(msg.valid_round).u16(msg.validator).raw(_need_signature(msg.signature, "vote"))
    elif isinstance(msg, Commit):
        out.u8(KIND_COMMIT).blob(msg.block).u64(msg.time_ms)
        _write_qc(out, msg.qc)
    else:
        raise InvalidInput(f"not a consensus message: {type(msg).__name__}")
    return out.bytes()


def decode_message(data: bytes, max_block_bytes: int = DEFAULT_MAX_BLOCK_BYTES) -> Message:
    """Parse bytes from a peer; raises ``InvalidEncoding``/``TooLarge`` on anything malformed."""
    if isinstance(data, bytes | bytearray) and len(data) > max_message_bytes(max_block_bytes):
        raise TooLarge(f"consensus message of {len(data)} bytes exceeds the limit",
                       limit=max_message_bytes(max_block_bytes))
    reader = Reader(data, "consensus message")
    try:
        if reader.u8() != WIRE_VERSION:
            raise InvalidEncoding("unknown consensus message version")
        kind = reader.u8()
        msg: Message
        if kind == KIND_PROPOSAL:
            msg = Proposal(height=reader.u64(), round=reader.i64(), value_id=reader.raw(VALUE_ID_BYTES),
                           block=reader.blob(max_block_bytes), time_ms=reader.u64(), pol_round=reader.i64(),
                           proposer=reader.u16(), signature=reader.raw(SIGNATURE_BYTES))
        elif kind == KIND_VOTE:
            msg = _read_vote(reader)
        elif kind == KIND_COMMIT:
            msg = Commit(block=reader.blob(max_block_bytes), time_ms=reader.u64(), qc=_read_qc(reader))
        else:
            raise InvalidEncoding(f"unknown consensus message kind {kind}")
        reader.done()
    except (InvalidEncoding, TooLarge):
        raise
    except InvalidInput as exc:
        raise InvalidEncoding(f"malformed consensus message: {exc.detail}") from exc
    return msg


def _read_vote(reader: Reader) -> Vote:
    type_code = reader.u8()
    try:
        vote_type = VoteType(type_code)
    except ValueError as exc:
        raise InvalidEncoding(f"unknown vote type {type_code}") from exc
    height, round_ = reader.u64(), reader.i64()
    has_value = reader.u8()
    if has_value not in (0, 1):
        raise InvalidEncoding("vote value flag must be 0 or 1")
    value_id = reader.raw(VALUE_ID_BYTES) if has_value else None
    return Vote(vote_type, height, round_, value_id, valid_round=reader.i64(), validator=reader.u16(),
                signature=reader.raw(SIGNATURE_BYTES))
