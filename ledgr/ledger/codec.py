"""Strict binary encoding primitives for ledger formats (big-endian, length-prefixed).

Every decoder rejects truncated input and trailing bytes, so one value has exactly one encoding and
a hash over the encoding identifies the value (no malleability).
"""

from __future__ import annotations

import struct

from ledgr.errors import InvalidEncoding

_U8 = struct.Struct(">B")
_U16 = struct.Struct(">H")
_U32 = struct.Struct(">I")
_U64 = struct.Struct(">Q")


def u8(value: int) -> bytes:
    return _U8.pack(value)


def u16(value: int) -> bytes:
    return _U16.pack(value)


def u32(value: int) -> bytes:
    return _U32.pack(value)


def u64(value: int) -> bytes:
    return _U64.pack(value)


def short_bytes(data: bytes) -> bytes:
    """``u8 length ‖ data`` for values under 256 bytes (ids, names)."""
    if len(data) > 255:
        raise InvalidEncoding("value longer than 255 bytes cannot be encoded as short bytes")
    return _U8.pack(len(data)) + data


def long_bytes(data: bytes) -> bytes:
    """``u32 length ‖ data``."""
    return _U32.pack(len(data)) + data


class Reader:
    """A cursor over bytes that raises :class:`InvalidEncoding` (naming ``what``) on truncation."""

    __slots__ = ("_data", "_pos", "what")

    def __init__(self, data: bytes, what: str) -> None:
        if not isinstance(data, bytes | bytearray | memoryview):
            raise InvalidEncoding(f"{what}: expected bytes")
        self._data = bytes(data)
        self._pos = 0
        self.what = what

    def take(self, count: int) -> bytes:
        end = self._pos + count
        if count < 0 or end > len(self._data):
            raise InvalidEncoding(f"{self.what}: truncated")
        out = self._data[self._pos:end]
        self._pos = end
        return out

    def u8(self) -> int:
        value: int = _U8.unpack(self.take(1))[0]
        return value

    def u16(self) -> int:
        value: int = _U16.unpack(self.take(2))[0]
        return value

    def u32(self) -> int:
        value: int = _U32.unpack(self.take(4))[0]
        return value

    def u64(self) -> int:
        value: int = _U64.unpack(self.take(8))[0]
        return value

    def short_bytes(self) -> bytes:
        return self.take(self.u8())

    def long_bytes(self, limit: int) -> bytes:
        length = self.u32()
        if length > limit:
            raise InvalidEncoding(f"{self.what}: field of {length} bytes exceeds the limit", limit=limit)
        return self.take(length)

    def ascii(self) -> str:
        raw = self.short_bytes()
        try:
            return raw.decode("ascii")
        except UnicodeDecodeError as exc:
            raise InvalidEncoding(f"{self.what}: text field is not ASCII") from exc

    def done(self) -> None:
        if self._pos != len(self._data):
            raise InvalidEncoding(f"{self.what}: {len(self._data) - self._pos} trailing bytes")

    @property
    def remaining(self) -> int:
        return len(self._data) - self._pos
