"""Sealed envelopes (ledgr.crypto.sealed): round trips, wrong secrets, tampering, no plaintext at rest."""

from __future__ import annotations

import base64
import json

import pytest

from ledgr.crypto import PrivateKey, sealed
from ledgr.errors import InvalidEncoding, InvalidInput, Unauthorized

FAST = sealed.TEST_ONLY_MINIMUM
SALT = bytes(range(16))
NONCE = bytes(range(100, 124))
SEED = bytes(range(7, 39))


def _seal(plaintext: bytes = SEED, secret: bytes = b"correct horse") -> dict:
    return sealed.seal(plaintext, secret, salt=SALT, nonce=NONCE, params=FAST)


def test_round_trip_with_passphrase_and_key_file_bytes() -> None:
    assert sealed.unseal(_seal(), b"correct horse") == SEED
    key_file = bytes(range(256)) * 4
    envelope = sealed.seal(b"hello", key_file, salt=SALT, nonce=NONCE, params=FAST)
    assert sealed.unseal(envelope, key_file) == b"hello"


def test_envelope_is_self_describing() -> None:
    envelope = _seal()
    assert envelope["format"] == "ledgr-sealed" and envelope["version"] == 1
    assert envelope["kdf"] == {"alg": "argon2id", "opslimit": FAST.opslimit,
                               "memlimit": FAST.memlimit_bytes,
                               "salt": base64.urlsafe_b64encode(SALT).rstrip(b"=").decode()}
    assert envelope["cipher"]["alg"] == "xsalsa20-poly1305"
    assert sealed.loads(sealed.dumps(envelope)) == envelope


def test_wrong_passphrase_is_a_clear_error() -> None:
    with pytest.raises(Unauthorized, match="wrong passphrase or key file"):
        sealed.unseal(_seal(), b"Correct horse")


def test_tampered_ciphertext_is_rejected() -> None:
    envelope = _seal()
    raw = bytearray(base64.urlsafe_b64decode(envelope["ciphertext"] + "=="))
    raw[0] ^= 1
    envelope["ciphertext"] = base64.urlsafe_b64encode(bytes(raw)).rstrip(b"=").decode()
    with pytest.raises(Unauthorized):
        sealed.unseal(envelope, b"correct horse")


def test_tampered_parameters_change_the_key_and_fail() -> None:
    envelope = _seal()
    envelope["kdf"]["opslimit"] = FAST.opslimit + 1
    with pytest.raises(Unauthorized):
        sealed.unseal(envelope, b"correct horse")


@pytest.mark.parametrize(("path", "value"), [
    (("format",), "other"),
    (("version",), 2),
    (("kdf", "alg"), "scrypt"),
    (("kdf", "memlimit"), 1 << 40),
    (("kdf", "opslimit"), 10_000),
    (("kdf", "opslimit"), "3"),
    (("kdf", "salt"), "AAAA"),
    (("cipher", "alg"), "aes-gcm"),
    (("cipher", "nonce"), "AAAA"),
    (("ciphertext",), "AA"),
])
def test_malformed_or_hostile_envelopes_are_refused_before_any_work(path: tuple, value: object) -> None:
    envelope = _seal()
    target = envelope
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    with pytest.raises(InvalidEncoding):
        sealed.loads(json.dumps(envelope).encode())


def test_loads_rejects_non_json_and_oversize() -> None:
    with pytest.raises(InvalidEncoding):
        sealed.loads(b"\xff not json")
    with pytest.raises(InvalidInput, match="too large"):
        sealed.loads(b" " * (sealed.MAX_ENVELOPE_BYTES + 1))


def test_bad_inputs_to_seal() -> None:
    with pytest.raises(InvalidInput, match="empty"):
        sealed.seal(b"x", b"", salt=SALT, nonce=NONCE, params=FAST)
    with pytest.raises(InvalidInput, match="salt"):
        sealed.seal(b"x", b"pw", salt=b"short", nonce=NONCE, params=FAST)
    with pytest.raises(InvalidInput, match="nonce"):
        sealed.seal(b"x", b"pw", salt=SALT, nonce=b"short", params=FAST)
    with pytest.raises(InvalidInput, match="opslimit"):
        sealed.KdfParams(0, FAST.memlimit_bytes)


def test_default_parameters_are_strong() -> None:
    assert sealed.DEFAULT_PARAMS.opslimit >= 3
    assert sealed.DEFAULT_PARAMS.memlimit_bytes >= 256 * 1024 * 1024


def test_sealer_reuses_one_derivation_with_distinct_nonces() -> None:
    sealer = sealed.Sealer.derive(b"pw", SALT, FAST)
    first = sealer.seal(b"one", NONCE)
    second = sealer.seal(b"two", bytes(24))
    assert first["ciphertext"] != second["ciphertext"]
    assert sealed.unseal(second, b"pw") == b"two"
    assert sealer.unseal(first) == b"one"
    other = sealed.Sealer.derive(b"pw", bytes(16), FAST)
    assert not other.matches(first)
    with pytest.raises(InvalidInput, match="different salt"):
        other.unseal(first)


def test_sealed_bytes_hold_no_plaintext_key_material() -> None:
    key = PrivateKey.from_seed(SEED)
    data = sealed.dumps(_seal(key.seed))
    forms = [
        key.seed,
        key.seed.hex().encode(),
        key.multikey.encode(),
        key.multikey[1:].encode(),
        base64.b64encode(key.seed),
        base64.b64encode(key.seed).rstrip(b"="),
        base64.urlsafe_b64encode(key.seed).rstrip(b"="),
        key.to_jwk()["d"].encode(),
    ]
    for form in forms:
        assert form not in data
        # also no long fragment of any encoding (catches partial leaks)
        assert form[:16] not in data
    assert b"correct horse" not in data
