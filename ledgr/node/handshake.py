"""Peer handshake: two validators prove their keys to each other, bound to the chain and to fresh nonces.

Protocol (JSON text frames on a fresh WebSocket, before any other traffic):

1. dialer → acceptor ``{"t": "hello", "chain_id", "key", "nonce"}``
2. acceptor → dialer ``{"t": "hello", "chain_id", "key", "nonce", "sig"}``; ``sig`` by the acceptor's
   validator key over :func:`transcript` with role ``acceptor``
3. dialer → acceptor ``{"t": "auth", "sig"}``; ``sig`` by the dialer's key over the transcript with
   role ``dialer``
4. acceptor → dialer ``{"t": "ok"}``

The transcript holds both keys, both 32-byte nonces (each side picks its own from the OS CSPRNG) and
the ``chain_id``, under a domain tag, canonicalized with RFC 8785. A recorded handshake is useless:
the other side's nonce differs every time. A node of another chain, a key outside the validator
set, or a dialled peer that answers with a different key than configured is refused. The messages
that follow are not encrypted (run peer links over ``wss://`` or a private network where that
matters); consensus votes and operations carry their own signatures.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from typing import Any

from ledgr.crypto import PrivateKey, PublicKey, canonicalize
from ledgr.errors import InvalidKey, PeerError

DOMAIN = b"ledgr/p2p-handshake/v1\x00"
NONCE_BYTES = 32
MAX_HANDSHAKE_FRAME = 4096


def fresh_nonce() -> bytes:
    return os.urandom(NONCE_BYTES)


def transcript(role: str, chain_id: str, dialer_key: str, acceptor_key: str,
               dialer_nonce: bytes, acceptor_nonce: bytes) -> bytes:
    """The bytes each side signs; ``role`` separates the two signatures of one handshake."""
    return DOMAIN + canonicalize({
        "role": role,
        "chain_id": chain_id,
        "dialer_key": dialer_key,
        "acceptor_key": acceptor_key,
        "dialer_nonce": dialer_nonce.hex(),
        "acceptor_nonce": acceptor_nonce.hex(),
    })


@dataclass(frozen=True)
class Hello:
    chain_id: str
    key: str
    nonce: bytes
    sig: bytes | None = None

    def to_frame(self) -> str:
        body: dict[str, Any] = {"t": "hello", "chain_id": self.chain_id, "key": self.key,
                                "nonce": self.nonce.hex()}
        if self.sig is not None:
            body["sig"] = self.sig.hex()
        return json.dumps(body)


def parse_frame(text: str, expected_type: str) -> dict[str, Any]:
    """Parse one handshake frame, refusing oversize or malformed input with a :class:`PeerError`."""
    if len(text) > MAX_HANDSHAKE_FRAME:
        raise PeerError("handshake frame too large")
    try:
        body = json.loads(text)
    except json.JSONDecodeError as exc:
        raise PeerError("handshake frame is not JSON") from exc
    if not isinstance(body, dict) or body.get("t") != expected_type:
        raise PeerError(f"expected a handshake {expected_type!r} frame")
    return body


def parse_hello(text: str, want_sig: bool) -> Hello:
    body = parse_frame(text, "hello")
    try:
        chain_id = body["chain_id"]
        key = body["key"]
        nonce = bytes.fromhex(body["nonce"])
        sig = bytes.fromhex(body["sig"]) if want_sig else None
    except (KeyError, TypeError, ValueError) as exc:
        raise PeerError("malformed handshake hello") from exc
    if not isinstance(chain_id, str) or not isinstance(key, str) or len(nonce) != NONCE_BYTES:
        raise PeerError("malformed handshake hello")
    return Hello(chain_id, key, nonce, sig)


def parse_sig(text: str) -> bytes:
    body = parse_frame(text, "auth")
    try:
        return bytes.fromhex(body["sig"])
    except (KeyError, TypeError, ValueError) as exc:
        raise PeerError("malformed handshake auth") from exc


def check_signature(key: str, message: bytes, sig: bytes) -> None:
    try:
        public = PublicKey.from_multikey(key)
    except InvalidKey as exc:
        raise PeerError("peer key is not an Ed25519 multikey") from exc
    if not public.verify(message, sig):
        raise PeerError("peer handshake signature does not verify")


def sign(key: PrivateKey, message: bytes) -> bytes:
    return key.sign(message)
