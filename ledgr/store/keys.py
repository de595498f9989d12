"""Byte layouts of the store's LMDB keys, kept under LMDB's 511-byte key limit.

* Heights are u64 big-endian, so LMDB's byte order is numeric order and the last key is the tip.
* State keys and record keys are prefixed: ``=`` + the key itself when it is short, ``#`` +
  SHA-256(key) when it is long. The prefix makes the two forms disjoint (a short key can never equal a
  hashed one) and rules out LMDB's forbidden empty key. Lookups only need equality, never prefix
  scans, so hashing long keys loses nothing.
"""

from __future__ import annotations

import struct

from ledgr.crypto import sha256
from ledgr.errors import InvariantViolation

LMDB_MAX_KEY_BYTES = 511
MAX_RAW_KEY_BYTES = 256  # longer state/record keys are stored under their SHA-256
MAX_HEIGHT = (1 << 64) - 1

_RAW = b"="
_HASHED = b"#"
_OP_LOCATION = struct.Struct(">QI")


def height_key(height: int) -> bytes:
    if not 0 <= height <= MAX_HEIGHT:
        raise InvariantViolation(f"height {height} out of range")
    return height.to_bytes(8, "big")


def height_from_key(key: bytes) -> int:
    if len(key) != 8:
        raise InvariantViolation(f"height key must be 8 bytes, got {len(key)}")
    return int.from_bytes(key, "big")


def data_key(key: bytes) -> bytes:
    """The LMDB key under which a state or record ``key`` (any length) is stored."""
    if len(key) <= MAX_RAW_KEY_BYTES:
        return _RAW + key
    return _HASHED + sha256(key)


def checked_key(key: bytes) -> bytes:
    """Guard for fixed-layout keys (hashes, heights): fail loudly rather than let LMDB reject it."""
    if not key or len(key) > LMDB_MAX_KEY_BYTES:
        raise InvariantViolation(f"LMDB key must be 1..{LMDB_MAX_KEY_BYTES} bytes, got {len(key)}")
    return key


def op_location(height: int, index: int) -> bytes:
    return _OP_LOCATION.pack(height, index)


def parse_op_location(value: bytes) -> tuple[int, int]:
    height, index = _OP_LOCATION.unpack(value)
    return int(height), int(index)
