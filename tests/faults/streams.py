"""Splitting one direction of a proxied TCP stream into units the fault proxy can act on.

A peer link is HTTP/1.1 upgraded to WebSocket (RFC 6455). Before the upgrade completes, bytes are
forwarded as ``raw`` units. Once both heads have been seen and the server answered ``101`` without
negotiating an extension (permessage-deflate shares compression state across frames, so dropping one
frame would corrupt every later one), the stream is cut at frame boundaries (RFC 6455 §5.2):

- ``data``: a complete, unfragmented *binary* frame — a protocol message (ledgr peers send every
  message after the handshake as one binary frame). Only these are dropped, duplicated or
  reordered, because each is self-contained (client frames carry their own mask key) and the
  receiver sees exactly "a message was lost / repeated / overtaken", which is what a peer's full
  send queue, a retry or a relay produces above TCP.
- ``other``: text frames (the peer handshake), control frames (ping/pong/close) and fragments;
  never mutated, only delayed or stalled. TCP itself never loses or repeats bytes of a live
  connection, so losing a handshake message while the connection stays up is not a network fault;
  a broken connection is modelled by ``reset``/``reject`` instead. Keeping pings flowing also keeps
  the connection up during a message-level partition.

Any other stream (plain HTTP, TLS, a compressed WebSocket, a frame above ``MAX_FRAME_BYTES``) is
``opaque``: forwarded in read-sized ``raw`` chunks that may be delayed or stalled but never dropped,
since dropping bytes inside a TCP stream would only model corruption, not loss.
"""

from __future__ import annotations

from dataclasses import dataclass

MAX_HEAD_BYTES = 64 << 10
MAX_FRAME_BYTES = 64 << 20

RAW = "raw"
DATA = "data"
OTHER = "other"


@dataclass(frozen=True)
class Unit:
    kind: str
    data: bytes


class LinkMode:
    """What both directions of one connection have learned about the protocol spoken on it."""

    def __init__(self) -> None:
        self.client_upgrade: bool | None = None
        self.server_accepted: bool | None = None

    @property
    def framed(self) -> bool:
        return bool(self.client_upgrade and self.server_accepted)

    @property
    def opaque(self) -> bool:
        return self.client_upgrade is False or self.server_accepted is False


def parse_client_head(head: bytes) -> bool:
    """True when the request asks for a WebSocket upgrade."""
    lines = head.decode("latin-1").split("\r\n")
    headers = _headers(lines[1:])
    return headers.get("upgrade", "").lower() == "websocket"


def parse_server_head(head: bytes) -> bool:
    """True when the response is ``101`` and negotiated no extension (frames are self-contained)."""
    lines = head.decode("latin-1").split("\r\n")
    parts = lines[0].split(" ")
    if len(parts) < 2 or parts[1] != "101":
        return False
    return "sec-websocket-extensions" not in _headers(lines[1:])


def _headers(lines: list[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for line in lines:
        name, sep, value = line.partition(":")
        if sep:
            out[name.strip().lower()] = value.strip()
    return out


def frame_length(buf: bytes | bytearray) -> int | None:
    """Total length of the frame at the start of ``buf``, or None while its header is incomplete."""
    if len(buf) < 2:
        return None
    masked = buf[1] & 0x80
    short = buf[1] & 0x7F
    pos = 2
    if short == 126:
        if len(buf) < 4:
            return None
        length = int.from_bytes(buf[2:4], "big")
        pos = 4
    elif short == 127:
        if len(buf) < 10:
            return None
        length = int.from_bytes(buf[2:10], "big")
        pos = 10
    else:
        length = short
    return pos + (4 if masked else 0) + length


def frame_kind(frame: bytes) -> str:
    fin = frame[0] & 0x80
    opcode = frame[0] & 0x0F
    return DATA if fin and opcode == 2 else OTHER


class StreamSplitter:
    """Turns the bytes of one direction into units; ``client_side`` says which head to expect."""

    def __init__(self, mode: LinkMode, client_side: bool) -> None:
        self.mode = mode
        self.client_side = client_side
        self.buf = bytearray()
        self.head_done = False
        self.opaque = False
        self.oversized = 0

    def feed(self, data: bytes) -> list[Unit]:
        self.buf += data
        units: list[Unit] = []
        if not self.head_done:
            end = self.buf.find(b"\r\n\r\n")
            if end < 0:
                if len(self.buf) > MAX_HEAD_BYTES:
                    self._give_up()
                return self._drain_raw() if self.opaque else []
            head = bytes(self.buf[: end + 4])
            del self.buf[: end + 4]
            self.head_done = True
            if self.client_side:
                self.mode.client_upgrade = parse_client_head(head)
            else:
                self.mode.server_accepted = parse_server_head(head)
            units.append(Unit(RAW, head))
        if self.opaque or self.mode.opaque:
            self.opaque = True
            return units + self._drain_raw()
        if not self.mode.framed:
            return units
        while True:
            total = frame_length(self.buf)
            if total is None or total > len(self.buf):
                if total is not None and total > MAX_FRAME_BYTES:
                    self.oversized += 1
                    self._give_up()
                    return units + self._drain_raw()
                return units
            frame = bytes(self.buf[:total])
            del self.buf[:total]
            units.append(Unit(frame_kind(frame), frame))

    def _give_up(self) -> None:
        self.opaque = True

    def _drain_raw(self) -> list[Unit]:
        if not self.buf:
            return []
        chunk = bytes(self.buf)
        self.buf.clear()
        return [Unit(RAW, chunk)]
