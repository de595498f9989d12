"""Node-to-node frames besides consensus messages: status and block sync (consensus.md §1.5).

- STATUS (JSON, small): ``{"height": H, "vote": hex | null}`` — the sender's committed height, and the
  latest vote the sender has received *from the recipient* (its full signed encoding). The recipient
  checks its own signature on that vote; this is how the double-sign guard learns what this key
  signed before a restore or on a second machine, without trusting the peer.
- SYNC_REQUEST (binary): ``u64 from_height ‖ u16 count``.
- SYNC_RESPONSE (binary): ``u16 count ‖ count × (u64 height ‖ u32 len ‖ block ‖ u32 len ‖ qc)``;
  ``count = 0`` means the peer has no block at ``from_height``.

Decoders reject truncated or trailing bytes and oversize counts with :class:`PeerError`.
"""

from __future__ import annotations

import json
import struct
from dataclasses import dataclass

from ledgr.errors import PeerError

MAX_SYNC_BLOCKS = 256
MAX_STATUS_BYTES = 4096
_REQ = struct.Struct(">QH")
_U16 = struct.Struct(">H")
_U32 = struct.Struct(">I")
_U64 = struct.Struct(">Q")


@dataclass(frozen=True)
class Status:
    height: int
    vote: bytes | None = None


def encode_status(status: Status) -> bytes:
    return json.dumps({"height": status.height,
                       "vote": status.vote.hex() if status.vote is not None else None}).encode()


def decode_status(data: bytes) -> Status:
    if len(data) > MAX_STATUS_BYTES:
        raise PeerError("status frame too large")
    try:
        body = json.loads(data)
        height = body["height"]
        vote = body.get("vote")
        vote_bytes = bytes.fromhex(vote) if isinstance(vote, str) else None
    except (ValueError, KeyError, TypeError, UnicodeDecodeError) as exc:
        raise PeerError("malformed status frame") from exc
    if not isinstance(height, int) or height < 0:
        raise PeerError("malformed status frame")
    return Status(height, vote_bytes)


def encode_sync_request(from_height: int, count: int) -> bytes:
    return _REQ.pack(from_height, min(count, MAX_SYNC_BLOCKS))


def decode_sync_request(data: bytes) -> tuple[int, int]:
    if len(data) != _REQ.size:
        raise PeerError("malformed sync request")
    from_height, count = _REQ.unpack(data)
    return int(from_height), int(min(count, MAX_SYNC_BLOCKS))


@dataclass(frozen=True)
class SyncedBlock:
    height: int
    block: bytes
    qc: bytes


def encode_sync_response(blocks: list[SyncedBlock]) -> bytes:
    parts = [_U16.pack(len(blocks))]
    for item in blocks:
        parts += [_U64.pack(item.height), _U32.pack(len(item.block)), item.block,
                  _U32.pack(len(item.qc)), item.qc]
    return b"".join(parts)


def decode_sync_response(data: bytes) -> list[SyncedBlock]:
    view = memoryview(data)
    pos = 0

    def take(count: int) -> bytes:
        nonlocal pos
        if pos + count > len(view):
            raise PeerError("truncated sync response")
        chunk = bytes(view[pos:pos + count])
        pos += count
        return chunk

    (count,) = _U16.unpack(take(_U16.size))
    if count > MAX_SYNC_BLOCKS:
        raise PeerError("sync response holds too many blocks")
    out = []
    for _ in range(count):
        (height,) = _U64.unpack(take(_U64.size))
        (block_len,) = _U32.unpack(take(_U32.size))
        block = take(block_len)
        (qc_len,) = _U32.unpack(take(_U32.size))
        qc = take(qc_len)
        out.append(SyncedBlock(int(height), block, qc))
    if pos != len(view):
        raise PeerError("trailing bytes in sync response")
    return out
