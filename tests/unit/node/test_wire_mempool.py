"""Node wire frames round-trip and refuse malformed input; the mempool's bounds and dedup hold."""

from __future__ import annotations

import pytest

from ledgr.errors import PeerError, RateLimited
from ledgr.node.mempool import Mempool, PendingOp
from ledgr.node.wire import (
    Status,
    SyncedBlock,
    decode_status,
    decode_sync_request,
    decode_sync_response,
    encode_status,
    encode_sync_request,
    encode_sync_response,
)


def test_status_round_trips() -> None:
    for status in (Status(0), Status(17, b"\x01" * 100)):
        assert decode_status(encode_status(status)) == status


def test_sync_frames_round_trip() -> None:
    assert decode_sync_request(encode_sync_request(5, 64)) == (5, 64)
    blocks = [SyncedBlock(5, b"block-5", b"qc-5"), SyncedBlock(6, b"", b"q")]
    assert decode_sync_response(encode_sync_response(blocks)) == blocks
    assert decode_sync_response(encode_sync_response([])) == []


@pytest.mark.parametrize("data", [b"", b"\x00\x01", b"\x00\x01" + b"\x00" * 8 + b"\x00\x00\x00\x09abc",
                                  encode_sync_response([SyncedBlock(1, b"a", b"b")]) + b"x"])
def test_malformed_sync_response_is_a_peer_error(data: bytes) -> None:
    with pytest.raises(PeerError):
        decode_sync_response(data)


@pytest.mark.parametrize("data", [b"{", b'{"height": -1}', b'{"height": "1"}', b"x" * 5000])
def test_malformed_status_is_a_peer_error(data: bytes) -> None:
    with pytest.raises(PeerError):
        decode_status(data)


def op(i: int, size: int = 10) -> PendingOp:
    return PendingOp(i.to_bytes(32, "big"), b"x" * size, None, 0.0)


def test_mempool_dedups_batches_in_order_and_removes() -> None:
    pool = Mempool(max_ops=10, max_bytes=1000)
    assert pool.add(op(1)) and pool.add(op(2)) and pool.add(op(3))
    assert not pool.add(op(2))
    assert len(pool) == 3 and pool.size_bytes == 30
    assert [o.op_hash for o in pool.batch(2, 1000)] == [op(1).op_hash, op(2).op_hash]
    assert [o.op_hash for o in pool.batch(10, 25)] == [op(1).op_hash, op(2).op_hash]
    pool.remove([op(1).op_hash])
    assert op(1).op_hash not in pool and len(pool) == 2
    pool.reject(op(2).op_hash, "stale prev")
    assert pool.rejection(op(2).op_hash) == "stale prev"
    assert len(pool) == 1 and pool.size_bytes == 10


def test_full_mempool_refuses_without_evicting() -> None:
    pool = Mempool(max_ops=2, max_bytes=25)
    pool.add(op(1))
    pool.add(op(2))
    with pytest.raises(RateLimited):
        pool.add(op(3))
    bytes_pool = Mempool(max_ops=10, max_bytes=25)
    bytes_pool.add(op(1))
    bytes_pool.add(op(2))
    with pytest.raises(RateLimited):
        bytes_pool.add(op(3, size=6))
    assert len(pool) == 2 and len(bytes_pool) == 2
