"""Ed25519 keys (RFC 8032) with Multikey and JWK encodings.

Multikey (Controlled Identifiers v1.0 §2.2.2): ``publicKeyMultibase`` is base58btc of
multicodec ``ed25519-pub`` (0xed01) ‖ 32 key bytes, so it starts ``z6Mk``; ``secretKeyMultibase``
is base58btc of ``ed25519-priv`` (0x8026) ‖ 32-byte seed, so it starts ``z3u2``.
JWK (RFC 8037 §2): ``{"kty": "OKP", "crv": "Ed25519", "x": b64url(pub)[, "d": b64url(seed)]}``.

Key generation reads the operating system CSPRNG in :meth:`PrivateKey.generate` only; everything
else is deterministic (pass a seed to :meth:`PrivateKey.from_seed` in tests).
"""

from __future__ import annotations

import os
from functools import lru_cache
from typing import Any

import nacl.bindings
import nacl.exceptions
import nacl.signing

from ledgr.crypto import multibase
from ledgr.errors import InvalidEncoding, InvalidKey

SEED_BYTES = 32
PUBLIC_KEY_BYTES = 32
SIGNATURE_BYTES = 64


class PublicKey:
    """An Ed25519 verification key."""

    __slots__ = ("raw",)

    def __init__(self, raw: bytes) -> None:
        if not isinstance(raw, bytes | bytearray) or len(raw) != PUBLIC_KEY_BYTES:
            raise InvalidKey(f"an Ed25519 public key is {PUBLIC_KEY_BYTES} bytes")
        self.raw = bytes(raw)

    @classmethod
    def from_multikey(cls, value: str) -> PublicKey:
        try:
            return cls(multibase.strip_codec(value, multibase.ED25519_PUB, PUBLIC_KEY_BYTES,
                                             "Ed25519 publicKeyMultibase"))
        except InvalidEncoding as exc:
            raise InvalidKey(exc.detail) from exc

    @classmethod
    def from_jwk(cls, jwk: dict[str, Any]) -> PublicKey:
        _check_okp(jwk)
        return cls(multibase.b64url_nopad_decode(_str_member(jwk, "x")))

    @property
    def multikey(self) -> str:
        return multibase.with_codec(multibase.ED25519_PUB, self.raw)

    def to_jwk(self) -> dict[str, str]:
        return {"kty": "OKP", "crv": "Ed25519", "x": multibase.b64url_nopad(self.raw)}

    def verify(self, message: bytes, signature: bytes) -> bool:
        """True when ``signature`` is a valid Ed25519 signature of ``message`` by this key."""
        if len(signature) != SIGNATURE_BYTES:
            return False
        try:
            _verifier(self.raw).verify(message, signature)
        except (nacl.exceptions.BadSignatureError, nacl.exceptions.ValueError):
            return False
        return True

    def to_x25519(self) -> bytes:
        """The birationally equivalent X25519 public key (RFC 7748 §4.1), for did:key keyAgreement."""
        try:
            return bytes(nacl.bindings.crypto_sign_ed25519_pk_to_curve25519(self.raw))
        except (nacl.exceptions.RuntimeError, nacl.exceptions.ValueError) as exc:
            raise InvalidKey("Ed25519 public key has no X25519 equivalent") from exc

    def __eq__(self, other: object) -> bool:
        return isinstance(other, PublicKey) and other.raw == self.raw

    def __hash__(self) -> int:
        return hash(self.raw)

    def __repr__(self) -> str:
        return f"PublicKey({self.multikey})"


class PrivateKey:
    """An Ed25519 signing key, held as its 32-byte seed."""

    __slots__ = ("_signer", "public_key", "seed")

    def __init__(self, seed: bytes) -> None:
        if not isinstance(seed, bytes | bytearray) or len(seed) != SEED_BYTES:
            raise InvalidKey(f"an Ed25519 secret key (seed) is {SEED_BYTES} bytes")
        self.seed = bytes(seed)
        self._signer = nacl.signing.SigningKey(self.seed)
        self.public_key = PublicKey(bytes(self._signer.verify_key))

    @classmethod
    def generate(cls) -> PrivateKey:
        """A fresh key from the OS CSPRNG (the one non-deterministic entry point)."""
        return cls(os.urandom(SEED_BYTES))

    @classmethod
    def from_seed(cls, seed: bytes) -> PrivateKey:
        return cls(seed)

    @classmethod
    def from_multikey(cls, value: str) -> PrivateKey:
        try:
            return cls(multibase.strip_codec(value, multibase.ED25519_PRIV, SEED_BYTES,
                                             "Ed25519 secretKeyMultibase"))
        except InvalidEncoding as exc:
            raise InvalidKey(exc.detail) from exc

    @classmethod
    def from_jwk(cls, jwk: dict[str, Any]) -> PrivateKey:
        _check_okp(jwk)
        key = cls(multibase.b64url_nopad_decode(_str_member(jwk, "d")))
        if "x" in jwk and PublicKey.from_jwk(jwk) != key.public_key:
            raise InvalidKey("JWK 'x' does not match the public key of 'd'")
        return key

    @property
    def multikey(self) -> str:
        return multibase.with_codec(multibase.ED25519_PRIV, self.seed)

    def to_jwk(self) -> dict[str, str]:
        return {**self.public_key.to_jwk(), "d": multibase.b64url_nopad(self.seed)}

    def sign(self, message: bytes) -> bytes:
        return bytes(self._signer.sign(message).signature)

    def __repr__(self) -> str:
        return f"PrivateKey(public={self.public_key.multikey})"


@lru_cache(maxsize=4096)
def _verifier(raw: bytes) -> nacl.signing.VerifyKey:
    return nacl.signing.VerifyKey(raw)


def _check_okp(jwk: dict[str, Any]) -> None:
    if not isinstance(jwk, dict):
        raise InvalidKey("a JWK must be a JSON object")
    if jwk.get("kty") != "OKP" or jwk.get("crv") != "Ed25519":
        raise InvalidKey('only Ed25519 JWKs are supported (kty "OKP", crv "Ed25519")')


def _str_member(jwk: dict[str, Any], name: str) -> str:
    value = jwk.get(name)
    if not isinstance(value, str):
        raise InvalidKey(f"JWK member {name!r} is missing or not a string")
    return value


def x25519_multikey(raw: bytes) -> str:
    """Multikey of an X25519 public key (multicodec x25519-pub 0xec01, ``z6LS…``)."""
    return multibase.with_codec(multibase.X25519_PUB, raw)
