"""Operation envelopes: wire bytes, strict parsing, size limits, signature domain."""

from __future__ import annotations

import json

import pytest

from ledgr.crypto import canonicalize
from ledgr.errors import OperationRejected
from ledgr.ledger.operations import (
    SIGNATURE_DOMAIN,
    build_payload,
    decode_operation,
    encode_envelope,
    sign_operation,
)
from tests.unit.ledger.chain import CHAIN_ID, key

VM = "did:ledgr:PPAkc5QjgV515svzvMcyqF#key-1"


def payload(**changes: object) -> dict[str, object]:
    fields: dict[str, object] = {"type": "did.update", "target": "did:ledgr:PPAkc5QjgV515svzvMcyqF",
                                 "body": {"document": {}}, "prev": "ab" * 32, "chain_id": CHAIN_ID,
                                 "valid_until_height": 10}
    fields.update(changes)
    return fields


def envelope_of(fields: dict[str, object] | bytes) -> bytes:
    raw = fields if isinstance(fields, bytes) else canonicalize(fields)
    return encode_envelope(raw, VM, key("k").sign(SIGNATURE_DOMAIN + raw))


def rule_of(envelope: bytes) -> str:
    with pytest.raises(OperationRejected) as info:
        decode_operation(envelope)
    return str(info.value.extra["rule"])


def test_round_trip_keeps_exact_bytes_and_verifies() -> None:
    signer = key("k")
    env = sign_operation("did.update", "did:ledgr:PPAkc5QjgV515svzvMcyqF", {"document": {}},
                         prev=b"\xab" * 32, chain_id=CHAIN_ID, valid_until_height=10,
                         verification_method=VM, key=signer)
    op = decode_operation(env)
    assert op.payload == canonicalize(payload())
    assert op.prev == b"\xab" * 32 and op.verification_method == VM and op.type == "did.update"
    assert op.signature_valid(signer.public_key)
    assert not op.signature_valid(key("other").public_key)
    assert env[0] == 1 and env[-64:] == op.signature


def test_signature_is_domain_separated() -> None:
    raw = canonicalize(payload())
    env = encode_envelope(raw, VM, key("k").sign(raw))
    assert not decode_operation(env).signature_valid(key("k").public_key)


def test_build_payload_is_canonical() -> None:
    raw = build_payload("did.update", "did:ledgr:PPAkc5QjgV515svzvMcyqF", {"document": {}}, b"\xab" * 32,
                        CHAIN_ID, 10)
    assert raw == canonicalize(json.loads(raw))


@pytest.mark.parametrize(("fields", "rule"), [
    (payload(type="did.steal"), "unknown-type"),
    (payload(target=""), "size-limit"),
    (payload(target="x" * 401), "size-limit"),
    (payload(body=[]), "malformed"),
    (payload(prev="AB" * 32), "malformed"),
    (payload(prev="ab"), "malformed"),
    (payload(chain_id="Not A Chain"), "malformed"),
    (payload(valid_until_height=-1), "malformed"),
    (payload(valid_until_height=True), "malformed"),
    ({k: v for k, v in payload().items() if k != "prev"}, "malformed"),
    ({**payload(), "extra": 1}, "malformed"),
])
def test_payload_rules(fields: dict[str, object], rule: str) -> None:
    assert rule_of(envelope_of(fields)) == rule


def test_duplicate_members_and_non_json_rejected() -> None:
    raw = canonicalize(payload())
    duplicated = raw[:-1] + b',"type":"did.create"}'
    assert rule_of(envelope_of(duplicated)) == "malformed"
    assert rule_of(envelope_of(b'{"a":NaN}')) == "malformed"
    assert rule_of(envelope_of(b"\xff\xfe")) == "malformed"
    too_high = canonicalize(payload()).replace(b'"valid_until_height":10',
                                               b'"valid_until_height":9007199254740992')
    assert rule_of(envelope_of(too_high)) == "malformed"


def test_envelope_framing_rules() -> None:
    good = envelope_of(payload())
    assert rule_of(good + b"\x00") == "malformed"
    assert rule_of(good[:-1]) == "malformed"
    assert rule_of(b"\x02" + good[1:]) == "malformed"
    assert rule_of(b"\x01" + b"\xff\xff\xff\xff") == "malformed"
    assert rule_of(b"x" * (300 * 1024 + 1)) == "size-limit"


def test_nesting_depth_is_limited() -> None:
    deep: object = "x"
    for _ in range(40):
        deep = [deep]
    assert rule_of(envelope_of(payload(body={"document": deep}))) == "size-limit"
    very_deep = b'{"a":' * 5000 + b"1" + b"}" * 5000
    assert rule_of(envelope_of(very_deep)) == "malformed"
    shallow: object = "x"
    for _ in range(20):
        shallow = [shallow]
    assert decode_operation(envelope_of(payload(body={"document": shallow}))).body == {"document": shallow}
