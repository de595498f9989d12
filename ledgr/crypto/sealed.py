"""Secrets encrypted at rest: Argon2id key derivation + XSalsa20-Poly1305 in a self-describing envelope.

Issuer private keys live on the node's disk (architecture.md §5, issue 6 "Keystore"). They are sealed with
a key derived from the operator's passphrase or key file by Argon2id (RFC 9106; libsodium's
``crypto_pwhash_argon2id``) and encrypted with XSalsa20-Poly1305 (libsodium ``crypto_secretbox``), whose
Poly1305 tag makes any change to the ciphertext, or a wrong passphrase, fail loudly instead of yielding
garbage.

An envelope is a JSON object that names everything needed to open it again, so parameters can be raised
later without breaking old files::

    {"format": "ledgr-sealed", "version": 1,
     "kdf": {"alg": "argon2id", "opslimit": 3, "memlimit": 268435456, "salt": "<b64url 16 bytes>"},
     "cipher": {"alg": "xsalsa20-poly1305", "nonce": "<b64url 24 bytes>"},
     "ciphertext": "<b64url>"}

This module is pure: salt and nonce come in as arguments (the node draws them from the OS CSPRNG), and
the operator's secret comes in as bytes (the node reads the key file or passphrase). Parameters read back
from a file are bounded so a crafted envelope cannot make the node allocate gigabytes.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import nacl.exceptions
import nacl.pwhash.argon2id as argon2id
import nacl.secret

from ledgr.crypto import multibase
from ledgr.errors import InvalidEncoding, InvalidInput, Unauthorized

FORMAT = "ledgr-sealed"
VERSION = 1
KDF_ALG = "argon2id"
CIPHER_ALG = "xsalsa20-poly1305"

SALT_BYTES: int = argon2id.SALTBYTES
NONCE_BYTES: int = nacl.secret.SecretBox.NONCE_SIZE
KEY_BYTES: int = nacl.secret.SecretBox.KEY_SIZE

# Bounds on parameters accepted from a file: generous for future hardening, small enough to refuse
# a denial-of-service envelope (libsodium's own maxima are terabytes).
MAX_OPSLIMIT = 20
MAX_MEMLIMIT_BYTES = 2 * 1024 * 1024 * 1024
MAX_ENVELOPE_BYTES = 1024 * 1024
MAX_SECRET_BYTES = 64 * 1024


@dataclass(frozen=True)
class KdfParams:
    """Argon2id cost: ``opslimit`` passes over ``memlimit_bytes`` of memory."""

    opslimit: int
    memlimit_bytes: int

    def __post_init__(self) -> None:
        if not argon2id.OPSLIMIT_MIN <= self.opslimit <= MAX_OPSLIMIT:
            raise InvalidInput(f"argon2id opslimit must be in [{argon2id.OPSLIMIT_MIN}, {MAX_OPSLIMIT}]")
        if not argon2id.MEMLIMIT_MIN <= self.memlimit_bytes <= MAX_MEMLIMIT_BYTES:
            raise InvalidInput(
                f"argon2id memlimit must be in [{argon2id.MEMLIMIT_MIN}, {MAX_MEMLIMIT_BYTES}] bytes")


# libsodium's MODERATE profile (3 passes, 256 MiB; ~0.7 s here): the default for keys at rest.
MODERATE = KdfParams(argon2id.OPSLIMIT_MODERATE, argon2id.MEMLIMIT_MODERATE)
# libsodium's INTERACTIVE profile (2 passes, 64 MiB): acceptable for a high-entropy key file.
INTERACTIVE = KdfParams(argon2id.OPSLIMIT_INTERACTIVE, argon2id.MEMLIMIT_INTERACTIVE)
# The cheapest parameters libsodium allows. Only for tests: never use for real secrets.
TEST_ONLY_MINIMUM = KdfParams(argon2id.OPSLIMIT_MIN, argon2id.MEMLIMIT_MIN)
DEFAULT_PARAMS = MODERATE


def derive_key(secret: bytes, salt: bytes, params: KdfParams = DEFAULT_PARAMS) -> bytes:
    """The 32-byte XSalsa20-Poly1305 key for ``secret`` (a passphrase or key file's bytes)."""
    _check_secret(secret)
    if len(salt) != SALT_BYTES:
        raise InvalidInput(f"argon2id salt must be {SALT_BYTES} bytes")
    return bytes(argon2id.kdf(KEY_BYTES, secret, salt, opslimit=params.opslimit,
                              memlimit=params.memlimit_bytes))


class Sealer:
    """A derived key with the salt and parameters it came from, so many secrets can be sealed (each with
    its own nonce) at the cost of one Argon2id run. Its envelopes open with :func:`unseal` alone."""

    __slots__ = ("_box", "params", "salt")

    def __init__(self, key: bytes, salt: bytes, params: KdfParams) -> None:
        if len(key) != KEY_BYTES:
            raise InvalidInput(f"a sealing key is {KEY_BYTES} bytes")
        self._box = nacl.secret.SecretBox(key)
        self.salt = bytes(salt)
        self.params = params

    @classmethod
    def derive(cls, secret: bytes, salt: bytes, params: KdfParams = DEFAULT_PARAMS) -> Sealer:
        return cls(derive_key(secret, salt, params), salt, params)

    def matches(self, envelope: dict[str, Any]) -> bool:
        """True when ``envelope`` was sealed under this sealer's salt and parameters."""
        salt, params = _kdf_of(envelope)
        return salt == self.salt and params == self.params

    def seal(self, plaintext: bytes, nonce: bytes) -> dict[str, Any]:
        """Encrypt ``plaintext`` under a fresh random ``nonce`` (never reuse one with the same key)."""
        if len(nonce) != NONCE_BYTES:
            raise InvalidInput(f"xsalsa20-poly1305 nonce must be {NONCE_BYTES} bytes")
        ciphertext = self._box.encrypt(plaintext, nonce).ciphertext
        return {
            "format": FORMAT,
            "version": VERSION,
            "kdf": {"alg": KDF_ALG, "opslimit": self.params.opslimit,
                    "memlimit": self.params.memlimit_bytes, "salt": multibase.b64url_nopad(self.salt)},
            "cipher": {"alg": CIPHER_ALG, "nonce": multibase.b64url_nopad(nonce)},
            "ciphertext": multibase.b64url_nopad(bytes(ciphertext)),
        }

    def unseal(self, envelope: dict[str, Any]) -> bytes:
        """Open an envelope sealed under this sealer's salt and parameters."""
        if not self.matches(envelope):
            raise InvalidInput("sealed envelope was made with a different salt or parameters")
        nonce, ciphertext = _cipher_of(envelope)
        try:
            return bytes(self._box.decrypt(ciphertext, nonce))
        except nacl.exceptions.CryptoError as exc:
            raise Unauthorized("cannot unseal: wrong passphrase or key file, or the sealed data "
                               "was altered") from exc


def seal(plaintext: bytes, secret: bytes, *, salt: bytes, nonce: bytes,
         params: KdfParams = DEFAULT_PARAMS) -> dict[str, Any]:
    """Seal one secret (one Argon2id run). ``salt`` and ``nonce`` must be fresh CSPRNG output."""
    return Sealer.derive(secret, salt, params).seal(plaintext, nonce)


def unseal(envelope: dict[str, Any], secret: bytes) -> bytes:
    """Open an envelope with the operator's ``secret``; a wrong secret raises :class:`Unauthorized`."""
    salt, params = _kdf_of(envelope)
    return Sealer.derive(secret, salt, params).unseal(envelope)


def sealer_for(envelope: dict[str, Any], secret: bytes) -> Sealer:
    """The :class:`Sealer` that opens ``envelope`` (derived from its stored salt and parameters)."""
    salt, params = _kdf_of(envelope)
    return Sealer.derive(secret, salt, params)


def dumps(envelope: dict[str, Any]) -> bytes:
    """Serialise an envelope as UTF-8 JSON (keys sorted, so files diff cleanly)."""
    return json.dumps(envelope, sort_keys=True, separators=(",", ":")).encode()


def loads(data: bytes) -> dict[str, Any]:
    """Parse and shape-check a serialised envelope."""
    if len(data) > MAX_ENVELOPE_BYTES:
        raise InvalidInput("sealed envelope is too large", limit=MAX_ENVELOPE_BYTES)
    try:
        value = json.loads(data)
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidEncoding("sealed envelope is not valid JSON") from exc
    if not isinstance(value, dict):
        raise InvalidEncoding("sealed envelope must be a JSON object")
    _kdf_of(value)
    _cipher_of(value)
    return value


def _header(envelope: dict[str, Any]) -> None:
    if not isinstance(envelope, dict) or envelope.get("format") != FORMAT:
        raise InvalidEncoding(f"not a {FORMAT} envelope")
    if envelope.get("version") != VERSION:
        raise InvalidEncoding(f"unsupported {FORMAT} version {envelope.get('version')!r} "
                              f"(this ledgr reads version {VERSION})")


def _kdf_of(envelope: dict[str, Any]) -> tuple[bytes, KdfParams]:
    _header(envelope)
    kdf = envelope.get("kdf")
    if not isinstance(kdf, dict) or kdf.get("alg") != KDF_ALG:
        raise InvalidEncoding(f"sealed envelope: kdf must be {KDF_ALG}")
    opslimit, memlimit = kdf.get("opslimit"), kdf.get("memlimit")
    if type(opslimit) is not int or type(memlimit) is not int:
        raise InvalidEncoding("sealed envelope: kdf opslimit and memlimit must be integers")
    salt = _b64(kdf.get("salt"), "kdf salt")
    if len(salt) != SALT_BYTES:
        raise InvalidEncoding(f"sealed envelope: salt must be {SALT_BYTES} bytes")
    try:
        params = KdfParams(opslimit, memlimit)
    except InvalidInput as exc:
        raise InvalidEncoding(f"sealed envelope: {exc.detail}") from exc
    return salt, params


def _cipher_of(envelope: dict[str, Any]) -> tuple[bytes, bytes]:
    _header(envelope)
    cipher = envelope.get("cipher")
    if not isinstance(cipher, dict) or cipher.get("alg") != CIPHER_ALG:
        raise InvalidEncoding(f"sealed envelope: cipher must be {CIPHER_ALG}")
    nonce = _b64(cipher.get("nonce"), "cipher nonce")
    if len(nonce) != NONCE_BYTES:
        raise InvalidEncoding(f"sealed envelope: nonce must be {NONCE_BYTES} bytes")
    ciphertext = _b64(envelope.get("ciphertext"), "ciphertext")
    if len(ciphertext) < nacl.secret.SecretBox.MACBYTES:
        raise InvalidEncoding("sealed envelope: ciphertext is shorter than its authentication tag")
    return nonce, ciphertext


def _b64(value: Any, what: str) -> bytes:
    if not isinstance(value, str) or len(value) > MAX_ENVELOPE_BYTES:
        raise InvalidEncoding(f"sealed envelope: {what} must be a base64url string")
    return multibase.b64url_nopad_decode(value)


def _check_secret(secret: bytes) -> None:
    if not isinstance(secret, bytes | bytearray) or not secret:
        raise InvalidInput("the passphrase or key file is empty")
    if len(secret) > MAX_SECRET_BYTES:
        raise InvalidInput("the passphrase or key file is too large", limit=MAX_SECRET_BYTES)
