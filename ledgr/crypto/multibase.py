"""Multibase, base58btc and multicodec: the ONLY module that imports a base58 library.

Multibase (draft-multiformats-multibase) prefixes an encoding letter: ``z`` base58btc, ``u`` base64url
without padding. Multicodec prefixes are unsigned varints; the ones ledgr needs are listed below as
pre-encoded byte strings (multicodec table: ed25519-pub 0xed, ed25519-priv 0x1300, x25519-pub 0xec).
The ``base58`` package is used on hot paths (the ``multiformats`` package is ~20x slower).
"""

from __future__ import annotations

import base64
import binascii

import base58

from ledgr.errors import InvalidEncoding

ED25519_PUB = b"\xed\x01"
ED25519_PRIV = b"\x80\x26"
X25519_PUB = b"\xec\x01"

_MAX_MULTIBASE_CHARS = 1_000_000


def b58encode(data: bytes) -> str:
    """Plain base58btc (Bitcoin alphabet), no multibase prefix."""
    return base58.b58encode(data).decode("ascii")


def b58decode(text: str) -> bytes:
    try:
        return base58.b58decode(text.encode("ascii"))
    except (ValueError, UnicodeEncodeError) as exc:
        raise InvalidEncoding(f"not valid base58btc: {_preview(text)}") from exc


def encode_base58btc(data: bytes) -> str:
    """Multibase base58btc (``z`` prefix)."""
    return "z" + b58encode(data)


def encode_base64url(data: bytes) -> str:
    """Multibase base64url without padding (``u`` prefix)."""
    return "u" + base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def decode(text: str) -> bytes:
    """Decode a multibase string (``z`` base58btc or ``u`` base64url)."""
    if not isinstance(text, str) or not text:
        raise InvalidEncoding("multibase value must be a non-empty string")
    if len(text) > _MAX_MULTIBASE_CHARS:
        raise InvalidEncoding("multibase value is too long", limit=_MAX_MULTIBASE_CHARS)
    prefix, body = text[0], text[1:]
    if prefix == "z":
        return b58decode(body)
    if prefix == "u":
        try:
            return base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
        except (binascii.Error, ValueError) as exc:
            raise InvalidEncoding(f"not valid base64url: {_preview(text)}") from exc
    raise InvalidEncoding(f"unsupported multibase prefix {prefix!r} (expected 'z' or 'u')")


def b64url_nopad(data: bytes) -> str:
    """base64url without padding (RFC 7515 §2), as used by JWK members."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_nopad_decode(text: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError, TypeError) as exc:
        raise InvalidEncoding("not valid base64url") from exc


def with_codec(codec: bytes, data: bytes) -> str:
    """``z``-multibase of multicodec prefix ‖ data (the Multikey encoding)."""
    return encode_base58btc(codec + data)


def strip_codec(text: str, codec: bytes, length: int, what: str) -> bytes:
    """Decode a Multikey-style value and check its multicodec prefix and payload length."""
    raw = decode(text)
    if not raw.startswith(codec):
        raise InvalidEncoding(f"{what}: wrong multicodec prefix (expected 0x{codec.hex()})")
    body = raw[len(codec):]
    if len(body) != length:
        raise InvalidEncoding(f"{what}: expected {length} key bytes, got {len(body)}")
    return body


def _preview(text: str) -> str:
    return text if len(text) <= 24 else text[:21] + "..."
