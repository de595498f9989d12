"""Ed25519, Multikey and JWK against the vc-di-eddsa key pair and RFC 8032 / RFC 8037 vectors."""

from __future__ import annotations

import json

import pytest

from ledgr.crypto import PrivateKey, PublicKey, canonicalize, multibase
from ledgr.errors import InvalidDocument, InvalidEncoding, InvalidKey
from tests.paths import EDDSA_VECTORS as VECTORS


def test_vector_key_pair_round_trips() -> None:
    pair = json.loads((VECTORS / "keyPair.json").read_text())
    secret = PrivateKey.from_multikey(pair["privateKeyMultibase"])
    assert secret.public_key.multikey == pair["publicKeyMultibase"]
    assert secret.multikey == pair["privateKeyMultibase"]
    assert pair["publicKeyMultibase"].startswith("z6Mk")
    assert secret.multikey.startswith("z3u2")


def test_rfc8032_test1_signature() -> None:
    # RFC 8032 §7.1 TEST 1 (empty message)
    seed = bytes.fromhex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60")
    expected_pub = "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a"
    expected_sig = ("e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e06522490155"
                    "5fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b")
    key = PrivateKey.from_seed(seed)
    assert key.public_key.raw.hex() == expected_pub
    assert key.sign(b"").hex() == expected_sig
    assert key.public_key.verify(b"", bytes.fromhex(expected_sig))
    assert not key.public_key.verify(b"x", bytes.fromhex(expected_sig))


def test_rfc8037_jwk_example() -> None:
    # RFC 8037 Appendix A.1/A.2
    jwk = {"kty": "OKP", "crv": "Ed25519", "d": "nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A",
           "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}
    key = PrivateKey.from_jwk(jwk)
    assert key.to_jwk() == jwk
    assert PublicKey.from_jwk({k: v for k, v in jwk.items() if k != "d"}) == key.public_key


def test_jwk_mismatched_x_rejected() -> None:
    other = PrivateKey.from_seed(b"\x01" * 32)
    jwk = {**PrivateKey.from_seed(b"\x02" * 32).to_jwk(), "x": other.to_jwk()["x"]}
    with pytest.raises(InvalidKey, match="does not match"):
        PrivateKey.from_jwk(jwk)


@pytest.mark.parametrize("bad", ["", "x123", "zzzz0OIl", "u@@@", "z" + "1" * 5])
def test_bad_multikey_rejected(bad: str) -> None:
    with pytest.raises((InvalidKey, InvalidEncoding)):
        PublicKey.from_multikey(bad)


def test_secret_key_is_not_a_public_key() -> None:
    key = PrivateKey.from_seed(b"\x03" * 32)
    with pytest.raises(InvalidKey, match="multicodec"):
        PublicKey.from_multikey(key.multikey)


def test_tampered_signature_fails() -> None:
    key = PrivateKey.from_seed(b"\x04" * 32)
    sig = bytearray(key.sign(b"hello"))
    sig[0] ^= 1
    assert not key.public_key.verify(b"hello", bytes(sig))
    assert not key.public_key.verify(b"hello", b"short")


def test_base64url_multibase_round_trip() -> None:
    data = bytes(range(50))
    assert multibase.decode(multibase.encode_base64url(data)) == data
    assert multibase.decode(multibase.encode_base58btc(data)) == data


def test_jcs_rfc8785_examples() -> None:
    # RFC 8785 §3.2.3 sorting example and §3.2.2.3 number serialisation samples
    assert canonicalize({"b": 1, "a": [1, 2.5, "x"], "c": None}) == b'{"a":[1,2.5,"x"],"b":1,"c":null}'
    assert canonicalize({"numbers": [333333333.33333329, 1e30, 4.50, 2e-3, 0.000000000000000000000000001]}) \
        == b'{"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27]}'
    assert canonicalize({"\u20ac": "Euro Sign", "\r": "Carriage Return", "1": "One"}) == \
        '{"\\r":"Carriage Return","1":"One","€":"Euro Sign"}'.encode()


def test_jcs_rejects_nan() -> None:
    with pytest.raises(InvalidDocument):
        canonicalize({"x": float("nan")})
