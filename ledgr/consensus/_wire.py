"""Big-endian binary writer/reader shared by the consensus encodings (messages, sign-bytes, state).

Every read checks bounds and raises :class:`ledgr.errors.InvalidEncoding` (or ``TooLarge``) on garbage,
so decoders never leak ``struct.error``/``IndexError`` to callers.
"""

from __future__ import annotations

import struct

from ledgr.errors import InvalidEncoding, TooLarge

_U8 = struct.Struct(">B")
_U16 = struct.Struct(">H")
_U32 = struct.Struct(">I")
_U64 = struct.Struct(">Q")
_I64 = struct.Struct(">q")

U64_MAX = 2**64 - 1
I64_MIN = -(2**63)
I64_MAX = 2**63 - 1


class Writer:
    """Appends fixed-width integers and length-prefixed byte strings."""

    __slots__ = ("_parts",)

    def __init__(self) -> None:
        self._parts: list[bytes] = []

    def u8(self, value: int) -> Writer:
        self._parts.append(_U8.pack(value))
        return self

    def u16(self, value: int) -> Writer:
        self._parts.append(_U16.pack(value))
        return self

    def u32(self, value: int) -> Writer:
        self._parts.append(_U32.pack(value))
        return self

    def u64(self, value: int) -> Writer:
        self._parts.append(_U64.pack(value))
        return self

    def i64(self, value: int) -> Writer:
        self._parts.append(_I64.pack(value))
        return self

    def raw(self, data: bytes) -> Writer:
        self._parts.append(data)
        return self

    def blob(self, data: bytes) -> Writer:
        """A u32 length prefix followed by the bytes."""
        self._parts.append(_U32.pack(len(data)))
        self._parts.append(data)
        return self

    def bytes(self) -> bytes:
        return b"".join(self._parts)


class Reader:
    """Consumes what :class:`Writer` produced; every overrun is an ``InvalidEncoding``."""

    __slots__ = ("_data", "_pos", "_what")

    def __init__(self, data: bytes, what: str) -> None:
        if not isinstance(data, bytes | bytearray | memoryview):
            raise InvalidEncoding(f"{what} must be bytes")
        self._data = bytes(data)
        self._pos = 0
        self._what = what

    def _take(self, size: int) -> bytes:
        end = self._pos + size
        if end > len(self._data):
            raise InvalidEncoding(f"{self._what} is truncated")
        chunk = self._data[self._pos:end]
        self._pos = end
        return chunk

    def u8(self) -> int:
        return int(_U8.unpack(self._take(1))[0])

    def u16(self) -> int:
        return int(_U16.unpack(self._take(2))[0])

    def u32(self) -> int:
        return int(_U32.unpack(self._take(4))[0])

    def u64(self) -> int:
        return int(_U64.unpack(self._take(8))[0])

    def i64(self) -> int:
        return int(_I64.unpack(self._take(8))[0])

    def raw(self, size: int) -> bytes:
        return self._take(size)

    def blob(self, limit: int) -> bytes:
        size = self.u32()
        if size > limit:
            raise TooLarge(f"{self._what}: a field of {size} bytes exceeds the limit of {limit}", limit=limit)
        return self._take(size)

    def remaining(self) -> int:
        return len(self._data) - self._pos

    def done(self) -> None:
        if self._pos != len(self._data):
            raise InvalidEncoding(f"{self._what} has {len(self._data) - self._pos} trailing bytes")
