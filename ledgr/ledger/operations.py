"""Signed ledger operations: payload, envelope wire bytes, parsing and author-side signing.

The payload ``{type, target, body, prev, chain_id, valid_until_height}`` is canonicalized ONCE by its
author (RFC 8785). The envelope carries those exact bytes, the verification method id and an Ed25519
signature over ``"ledgr/op-signature/v1\\0" ‖ payload``; nodes verify the bytes as received and parse
them once, never re-canonicalizing (architecture.md §3).

Envelope (version 1): ``u8 1 ‖ u32 len ‖ payload ‖ u8 len ‖ verification method id (ASCII) ‖
64-byte signature``. Decoding is strict (no trailing bytes), so one envelope has one encoding and
``operation_hash = sha256(envelope)`` identifies it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from ledgr.crypto import canonicalize
from ledgr.crypto.keys import SIGNATURE_BYTES, PrivateKey, PublicKey
from ledgr.errors import InvalidEncoding, InvalidInput, OperationRejected, TooLarge
from ledgr.ledger import limits
from ledgr.ledger.codec import Reader, long_bytes, short_bytes, u8
from ledgr.ledger.formats import check_chain_id, operation_hash
from ledgr.ledger.memo import VERIFIED, Memo

ENVELOPE_VERSION = 1
SIGNATURE_DOMAIN = b"ledgr/op-signature/v1\x00"
OP_TYPES = ("did.create", "did.update", "did.deactivate", "statuslist.create", "statuslist.update",
            "resource.create", "validators.update", "evidence.submit")
PAYLOAD_FIELDS = frozenset({"type", "target", "body", "prev", "chain_id", "valid_until_height"})


@dataclass(frozen=True, slots=True)
class Operation:
    """A decoded operation: parsed payload fields plus the exact bytes that were signed."""

    type: str
    target: str
    body: dict[str, Any]
    prev: bytes | None
    chain_id: str
    valid_until_height: int
    verification_method: str
    signature: bytes
    payload: bytes
    envelope: bytes
    hash: bytes

    def signature_valid(self, key: PublicKey) -> bool:
        """Ed25519 over the domain-tagged payload; a success is remembered per (hash, key)
        (``ledgr.ledger.memo``), so the entry check and block execution verify it once per node."""
        memo_key = (self.hash, key.raw)
        if memo_key in VERIFIED:
            return True
        if not key.verify(SIGNATURE_DOMAIN + self.payload, self.signature):
            return False
        VERIFIED.remember(memo_key, True)
        return True


def _reject(detail: str, rule: str) -> OperationRejected:
    return OperationRejected(detail, rule=rule)


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    obj = dict(pairs)
    if len(obj) != len(pairs):
        raise ValueError("duplicate member name")
    return obj


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def parse_json(data: bytes, what: str) -> Any:
    """Strict JSON: UTF-8, no duplicate member names, no NaN/Infinity, nesting ≤ MAX_JSON_DEPTH."""
    try:
        value = json.loads(data.decode("utf-8"), object_pairs_hook=_no_duplicates,
                           parse_constant=_reject_constant)
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise _reject(f"{what} is not strict JSON: {exc}", "malformed") from exc
    if _depth(value) > limits.MAX_JSON_DEPTH:
        raise _reject(f"{what} nests deeper than {limits.MAX_JSON_DEPTH} levels", "size-limit")
    return value


def _depth(value: Any) -> int:
    """Nesting depth of a JSON value, computed without recursion."""
    deepest = 0
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, dict):
            item = list(item.values())
        if isinstance(item, list):
            deepest = max(deepest, level)
            if level <= limits.MAX_JSON_DEPTH:
                stack.extend((child, level + 1) for child in item)
    return deepest


def encode_envelope(payload: bytes, verification_method: str, signature: bytes) -> bytes:
    vm = verification_method.encode("ascii")
    if len(payload) > limits.MAX_PAYLOAD_BYTES:
        raise TooLarge("operation payload is too large", limit=limits.MAX_PAYLOAD_BYTES)
    if len(signature) != SIGNATURE_BYTES:
        raise InvalidInput("an Ed25519 signature is 64 bytes")
    return u8(ENVELOPE_VERSION) + long_bytes(payload) + short_bytes(vm) + signature


DECODED: Memo[bytes, Operation] = Memo(16384)
"""Envelope bytes → decoded operation (successes only; see ``ledgr.ledger.memo``)."""


def decode_operation(envelope: bytes) -> Operation:
    """Decode and structurally check an envelope; raise OperationRejected naming the rule broken.

    Signature and authorization are checked later against state (``ledgr.ledger.rules``). Decoding
    is a pure function of the bytes, so a node decodes each envelope once (memoized).
    """
    if isinstance(envelope, bytes):
        known = DECODED.get(envelope)
        if known is not None:
            return known
    return DECODED.remember(envelope, _decode(envelope))


def _decode(envelope: bytes) -> Operation:
    if not isinstance(envelope, bytes) or len(envelope) > limits.MAX_ENVELOPE_BYTES:
        raise _reject(f"operation envelope exceeds {limits.MAX_ENVELOPE_BYTES} bytes", "size-limit")
    try:
        reader = Reader(envelope, "operation envelope")
        if reader.u8() != ENVELOPE_VERSION:
            raise _reject("unsupported operation envelope version", "malformed")
        payload = reader.long_bytes(limits.MAX_PAYLOAD_BYTES)
        vm_id = reader.ascii()
        signature = reader.take(SIGNATURE_BYTES)
        reader.done()
    except InvalidEncoding as exc:
        raise _reject(exc.detail, "malformed") from exc
    fields = parse_json(payload, "operation payload")
    if not isinstance(fields, dict) or set(fields) != PAYLOAD_FIELDS:
        raise _reject(f"operation payload must have exactly the members {sorted(PAYLOAD_FIELDS)}",
                      "malformed")
    op_type, target, body, prev = fields["type"], fields["target"], fields["body"], fields["prev"]
    if op_type not in OP_TYPES:
        raise _reject(f"unknown operation type {op_type!r}", "unknown-type")
    if not isinstance(target, str) or not 0 < len(target) <= limits.MAX_TARGET_CHARS:
        raise _reject(f"target must be a string of 1-{limits.MAX_TARGET_CHARS} characters", "size-limit")
    if not isinstance(body, dict):
        raise _reject("body must be a JSON object", "malformed")
    prev_bytes: bytes | None = None
    if prev is not None:
        if not isinstance(prev, str) or len(prev) != 64 or prev != prev.lower():
            raise _reject("prev must be null or a lowercase hex SHA-256 version hash", "malformed")
        try:
            prev_bytes = bytes.fromhex(prev)
        except ValueError as exc:
            raise _reject("prev is not hex", "malformed") from exc
    try:
        chain_id = check_chain_id(fields["chain_id"])
    except InvalidInput as exc:
        raise _reject(exc.detail, "malformed") from exc
    vuh = fields["valid_until_height"]
    if not isinstance(vuh, int) or isinstance(vuh, bool) or not 0 <= vuh <= limits.MAX_HEIGHT:
        raise _reject("valid_until_height must be an integer in [0, 2^53)", "malformed")
    if not vm_id or len(vm_id) > limits.MAX_VERIFICATION_METHOD_ID_CHARS:
        raise _reject("verification method id must be 1-255 ASCII characters", "size-limit")
    return Operation(type=op_type, target=target, body=body, prev=prev_bytes, chain_id=chain_id,
                     valid_until_height=vuh, verification_method=vm_id, signature=signature,
                     payload=payload, envelope=envelope, hash=operation_hash(envelope))


def build_payload(op_type: str, target: str, body: dict[str, Any], prev: bytes | None, chain_id: str,
                  valid_until_height: int) -> bytes:
    """Author side: the canonical (RFC 8785) payload bytes, computed exactly once."""
    if op_type not in OP_TYPES:
        raise InvalidInput(f"unknown operation type {op_type!r}")
    return canonicalize({
        "type": op_type, "target": target, "body": body,
        "prev": None if prev is None else prev.hex(), "chain_id": check_chain_id(chain_id),
        "valid_until_height": valid_until_height,
    })


def sign_payload(payload: bytes, verification_method: str, key: PrivateKey) -> bytes:
    """Author side: sign payload bytes and return the envelope wire bytes."""
    return encode_envelope(payload, verification_method, key.sign(SIGNATURE_DOMAIN + payload))


def sign_operation(op_type: str, target: str, body: dict[str, Any], *, prev: bytes | None, chain_id: str,
                   valid_until_height: int, verification_method: str, key: PrivateKey) -> bytes:
    payload = build_payload(op_type, target, body, prev, chain_id, valid_until_height)
    return sign_payload(payload, verification_method, key)
