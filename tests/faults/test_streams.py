"""Splitting a proxied stream into HTTP heads and WebSocket frames (RFC 6455 §5.2)."""

from __future__ import annotations

import os

from tests.faults.streams import DATA, OTHER, RAW, LinkMode, StreamSplitter, frame_length

REQUEST = (b"GET /p2p HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
           b"Sec-WebSocket-Key: abc\r\nSec-WebSocket-Version: 13\r\n\r\n")
RESPONSE = b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n"


def frame(opcode: int, payload: bytes, fin: bool = True, mask: bool = False) -> bytes:
    head = bytes([(0x80 if fin else 0) | opcode])
    flag = 0x80 if mask else 0
    if len(payload) < 126:
        head += bytes([flag | len(payload)])
    elif len(payload) < 1 << 16:
        head += bytes([flag | 126]) + len(payload).to_bytes(2, "big")
    else:
        head += bytes([flag | 127]) + len(payload).to_bytes(8, "big")
    if mask:
        key = os.urandom(4)
        head += key
        payload = bytes(b ^ key[i % 4] for i, b in enumerate(payload))
    return head + payload


def test_frame_length_for_every_length_encoding() -> None:
    for size in (0, 125, 126, 65535, 65536, 200_000):
        for mask in (False, True):
            data = frame(2, b"z" * size, mask=mask)
            assert frame_length(data) == len(data)
    assert frame_length(b"\x82") is None
    assert frame_length(b"\x82\x7e\x01") is None


def test_handshake_then_frames_fed_byte_by_byte() -> None:
    mode = LinkMode()
    client = StreamSplitter(mode, client_side=True)
    server = StreamSplitter(mode, client_side=False)
    assert [u.kind for u in client.feed(REQUEST)] == [RAW]
    assert [u.kind for u in server.feed(RESPONSE)] == [RAW]
    assert mode.framed
    frames = [frame(2, b"one", mask=True), frame(9, b"", mask=True), frame(1, b"x" * 300, mask=True),
              frame(2, b"part", fin=False, mask=True), frame(0, b"rest", mask=True)]
    stream = b"".join(frames)
    units = []
    for byte in stream:
        units += client.feed(bytes([byte]))
    assert [u.data for u in units] == frames
    assert [u.kind for u in units] == [DATA, OTHER, OTHER, OTHER, OTHER]  # text = handshake: never mutated


def test_non_websocket_and_compressed_streams_are_opaque() -> None:
    mode = LinkMode()
    client = StreamSplitter(mode, client_side=True)
    units = client.feed(b"POST /v1/operations HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}")
    assert [u.kind for u in units] == [RAW, RAW] and mode.opaque

    mode = LinkMode()
    client = StreamSplitter(mode, client_side=True)
    server = StreamSplitter(mode, client_side=False)
    client.feed(REQUEST)
    server.feed(RESPONSE.replace(b"\r\n\r\n", b"\r\nSec-WebSocket-Extensions: permessage-deflate\r\n\r\n"))
    assert mode.opaque
    assert [u.kind for u in client.feed(frame(2, b"abc", mask=True))] == [RAW]
