"""The issuer keystore (ledgr.node.keystore): generation, import, rotation, signing, encryption at rest."""

from __future__ import annotations

import base64
import json
import multiprocessing
import pickle
from datetime import UTC, datetime
from pathlib import Path

import pytest

from ledgr.crypto import PrivateKey, PublicKey, sealed
from ledgr.errors import (
    ConfigError,
    Conflict,
    Forbidden,
    IntegrityError,
    InvalidInput,
    NotFound,
    Unauthorized,
    Unprocessable,
)
from ledgr.node.keystore import Keystore, format_time, secret_from_key_file, secret_from_passphrase

FAST = sealed.TEST_ONLY_MINIMUM
SECRET = b"a long operator passphrase"
T0 = datetime(2026, 11, 25, 8, 0, tzinfo=UTC)
T1 = datetime(2026, 11, 26, 9, 30, tzinfo=UTC)
LEDGR_DID = "did:ledgr:4Hq3uKxeLmF1cUZzvVwJ7a"


def _new(tmp_path: Path) -> Keystore:
    return Keystore.create(tmp_path / "ks", SECRET, params=FAST)


def test_generate_did_key_issuer_and_sign(tmp_path: Path) -> None:
    store = _new(tmp_path)
    info = store.create_issuer("Gemeente Utrecht", now=T0)
    assert info.did.startswith("did:key:z6Mk")
    assert info.active_key.id == f"{info.did}#{info.did.removeprefix('did:key:')}"
    assert info.created == "2026-11-25T08:00:00Z"
    vm, signature = store.sign(info.did, b"payload")
    assert vm == info.active_key.id
    assert PublicKey.from_multikey(info.active_key.public_key_multibase).verify(b"payload", signature)


def test_reopen_with_right_secret_and_refuse_wrong(tmp_path: Path) -> None:
    store = _new(tmp_path)
    info = store.create_issuer("issuer", now=T0)
    reopened = Keystore.open(tmp_path / "ks", SECRET)
    assert reopened.issuers() == [info]
    _, signature = reopened.sign(info.did, b"m")
    assert store.public_key(info.active_key.id).verify(b"m", signature)
    with pytest.raises(Unauthorized, match="wrong passphrase"):
        Keystore.open(tmp_path / "ks", b"another passphrase!")


def test_empty_keystore_still_detects_wrong_secret(tmp_path: Path) -> None:
    _new(tmp_path)
    with pytest.raises(Unauthorized):
        Keystore.open(tmp_path / "ks", b"not the passphrase")


def test_import_multikey_and_jwk(tmp_path: Path) -> None:
    store = _new(tmp_path)
    key = PrivateKey.from_seed(bytes(range(32)))
    info = store.import_issuer(key.multikey, "imported", now=T0)
    assert info.did == "did:key:" + key.public_key.multikey
    other = PrivateKey.from_seed(bytes(range(1, 33)))
    jwk_info = store.import_issuer(other.to_jwk(), "jwk", now=T0, did=LEDGR_DID)
    assert jwk_info.did == LEDGR_DID
    assert jwk_info.active_key.id == f"{LEDGR_DID}#{other.public_key.multikey}"
    with pytest.raises(Conflict):
        store.import_issuer(key.multikey, "again", now=T0)


def test_bad_imports_and_labels_are_clear_errors(tmp_path: Path) -> None:
    store = _new(tmp_path)
    key = PrivateKey.from_seed(bytes(32))
    with pytest.raises(InvalidInput):
        store.import_issuer("z6MkNotASecret", "x", now=T0)
    with pytest.raises(InvalidInput, match="its own key"):
        other = "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK"
        store.import_issuer(key.multikey, "x", now=T0, did=other)
    with pytest.raises(InvalidInput, match="did:ledgr or did:key"):
        store.create_issuer("x", now=T0, did="did:web:example.org")
    with pytest.raises(InvalidInput, match="label"):
        store.create_issuer(" ", now=T0)
    with pytest.raises(NotFound):
        store.sign("did:ledgr:unknown", b"m")


def test_rotation_keeps_old_public_info_and_only_active_key_signs(tmp_path: Path) -> None:
    store = _new(tmp_path)
    info = store.create_issuer("ledgr issuer", now=T0, did=LEDGR_DID)
    old = info.active_key
    rotated = store.rotate_key(LEDGR_DID, now=T1)
    assert len(rotated.keys) == 2
    assert rotated.keys[0] == type(old)(old.id, old.public_key_multibase, old.created, "2026-11-26T09:30:00Z")
    assert rotated.active_key.id != old.id
    vm, signature = store.sign(LEDGR_DID, b"after")
    assert vm == rotated.active_key.id
    assert not store.public_key(old.id).verify(b"after", signature)
    assert store.public_key(vm).verify(b"after", signature)
    with pytest.raises(Forbidden, match="retired"):
        store.sign_with(old.id, b"m")
    assert Keystore.open(tmp_path / "ks", SECRET).issuer(LEDGR_DID) == rotated


def test_signer_signs_as_the_active_key_and_cannot_be_pickled(tmp_path: Path) -> None:
    store = _new(tmp_path)
    info = store.create_issuer("ledgr issuer", now=T0, did=LEDGR_DID)
    signer = store.signer(LEDGR_DID)
    assert signer.verification_method == info.active_key.id and signer.did == LEDGR_DID
    assert signer.public_key.multikey == info.active_key.public_key_multibase
    assert signer.public_key.verify(b"hash", signer.sign(b"hash"))
    assert "z3u2" not in repr(signer)
    with pytest.raises(TypeError, match="not picklable"):
        pickle.dumps(signer)
    store.rotate_key(LEDGR_DID, now=T1)
    assert store.signer(LEDGR_DID).verification_method != signer.verification_method


def test_did_key_issuers_cannot_rotate(tmp_path: Path) -> None:
    store = _new(tmp_path)
    info = store.create_issuer("k", now=T0)
    with pytest.raises(Unprocessable, match="did:key"):
        store.rotate_key(info.did, now=T1)


def test_no_public_method_returns_private_material(tmp_path: Path) -> None:
    store = _new(tmp_path)
    info = store.create_issuer("issuer", now=T0, did=LEDGR_DID)
    seed = store._private[info.active_key.id].seed
    shown = json.dumps([i.to_json() for i in store.issuers()]) + repr(store.issuer(LEDGR_DID))
    assert seed.hex() not in shown
    assert PrivateKey(seed).multikey not in shown
    assert base64.urlsafe_b64encode(seed).rstrip(b"=").decode() not in shown


def test_file_on_disk_has_no_plaintext_key_material(tmp_path: Path) -> None:
    store = _new(tmp_path)
    store.create_issuer("one", now=T0)
    store.create_issuer("two", now=T0, did=LEDGR_DID)
    store.rotate_key(LEDGR_DID, now=T1)
    data = (tmp_path / "ks" / "keystore.json").read_bytes()
    assert (tmp_path / "ks" / "keystore.json").stat().st_mode & 0o077 == 0
    assert len(store._private) == 3
    for key in store._private.values():
        for form in (key.seed, key.seed.hex().encode(), key.multikey.encode(), key.multikey[1:].encode(),
                     base64.b64encode(key.seed), base64.b64encode(key.seed).rstrip(b"="),
                     base64.urlsafe_b64encode(key.seed).rstrip(b"=")):
            assert form[:20] not in data
        assert key.public_key.multikey.encode() in data  # public info is kept, proving we looked
    assert SECRET not in data


def test_swapped_sealed_keys_are_detected(tmp_path: Path) -> None:
    store = _new(tmp_path)
    store.create_issuer("one", now=T0)
    store.create_issuer("two", now=T0)
    path = tmp_path / "ks" / "keystore.json"
    doc = json.loads(path.read_text())
    a, b = doc["issuers"][0]["keys"][0], doc["issuers"][1]["keys"][0]
    a["sealedSecretKey"], b["sealedSecretKey"] = b["sealedSecretKey"], a["sealedSecretKey"]
    path.write_text(json.dumps(doc))
    with pytest.raises(IntegrityError, match="does not match"):
        Keystore.open(tmp_path / "ks", SECRET)


def test_missing_and_corrupt_files(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no keystore"):
        Keystore.open(tmp_path / "none", SECRET)
    _new(tmp_path)
    with pytest.raises(Conflict):
        _new(tmp_path)
    (tmp_path / "ks" / "keystore.json").write_text("{not json")
    with pytest.raises(IntegrityError):
        Keystore.open(tmp_path / "ks", SECRET)


def _add_in_child(directory: str, label: str) -> None:
    store = Keystore.open(Path(directory), SECRET)
    store.create_issuer(label, now=T0)


def test_concurrent_writers_in_two_processes_lose_nothing(tmp_path: Path) -> None:
    store = _new(tmp_path)
    store.create_issuer("parent-0", now=T0)
    ctx = multiprocessing.get_context("spawn")
    children = [ctx.Process(target=_add_in_child, args=(str(tmp_path / "ks"), f"child-{i}"))
                for i in range(3)]
    for child in children:
        child.start()
    store.create_issuer("parent-1", now=T0)
    for child in children:
        child.join(60)
        assert child.exitcode == 0
    store.reload()
    labels = sorted(i.label for i in store.issuers())
    assert labels == ["child-0", "child-1", "child-2", "parent-0", "parent-1"]


def test_running_node_sees_cli_changes_without_restart(tmp_path: Path) -> None:
    node_view = _new(tmp_path)
    assert node_view.reload_if_changed() is False
    cli_view = Keystore.open(tmp_path / "ks", SECRET)
    info = cli_view.create_issuer("added by the CLI", now=T0)
    assert node_view.reload_if_changed() is True
    assert node_view.issuer(info.did) == info
    assert node_view.public_key(info.active_key.id).verify(b"m", node_view.sign(info.did, b"m")[1])
    assert node_view.reload_if_changed() is False


def test_operator_secret_sources(tmp_path: Path) -> None:
    assert secret_from_passphrase("twelve chars") == b"twelve chars"
    with pytest.raises(InvalidInput, match="at least"):
        secret_from_passphrase("short")
    key_file = tmp_path / "key"
    key_file.write_bytes(bytes(range(32)))
    assert secret_from_key_file(key_file) == bytes(range(32))
    key_file.write_bytes(b"tiny")
    with pytest.raises(ConfigError, match="at least 32 bytes"):
        secret_from_key_file(key_file)
    with pytest.raises(ConfigError, match="does not exist"):
        secret_from_key_file(tmp_path / "missing")


def test_format_time_requires_timezone() -> None:
    assert format_time(T1) == "2026-11-26T09:30:00Z"
    with pytest.raises(InvalidInput):
        format_time(datetime(2026, 1, 1))
