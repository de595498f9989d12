"""API tokens (ledgr.api.tokens): format, hashing at rest, scopes, expiry, revocation, file reloads."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from ledgr.api.tokens import TokenStore, parse_scope
from ledgr.errors import Conflict, IntegrityError, InvalidInput, NotFound, Unauthorized

T0 = datetime(2026, 11, 25, 8, 0, tzinfo=UTC)
ISSUER = "did:ledgr:4Hq3uKxeLmF1cUZzvVwJ7a"
OTHER = "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK"


def test_created_token_has_prefix_and_authenticates(tmp_path: Path) -> None:
    store = TokenStore(tmp_path)
    token, record = store.create([f"issue:{ISSUER}"], label="issuer app", now=T0)
    assert token.startswith(f"ledgr_{record.id}_") and len(token) == 6 + 16 + 1 + 43
    principal = store.authenticate(token, T0)
    assert principal.token_id == record.id
    assert principal.can_issue_as(ISSUER) and not principal.can_issue_as(OTHER)
    assert principal.has("issue") and not principal.has("admin") and not principal.has("status")


def test_only_the_hash_is_stored(tmp_path: Path) -> None:
    store = TokenStore(tmp_path)
    token, record = store.create(["admin"], label="ops", now=T0)
    data = (tmp_path / "tokens.json").read_text()
    secret = token.split("_", 2)[2]
    assert token not in data and secret not in data and secret[:16] not in data
    assert hashlib.sha256(token.encode()).hexdigest() in data
    assert record.id in data
    assert (tmp_path / "tokens.json").stat().st_mode & 0o077 == 0


def test_wrong_secret_same_id_is_refused(tmp_path: Path) -> None:
    store = TokenStore(tmp_path)
    token, _ = store.create(["admin"], label="ops", now=T0)
    last = token[-1]
    forged = token[:-1] + ("A" if last != "A" else "B")
    with pytest.raises(Unauthorized, match="not valid"):
        store.authenticate(forged, T0)
    with pytest.raises(Unauthorized, match="malformed"):
        store.authenticate("ledgr_short", T0)
    with pytest.raises(Unauthorized, match="not valid"):
        store.authenticate("ledgr_0123456789abcdef_" + "A" * 43, T0)


def test_expiry_and_revocation(tmp_path: Path) -> None:
    store = TokenStore(tmp_path)
    token, record = store.create(["status"], label="desk", now=T0, expires_in=timedelta(hours=1))
    assert record.expires == "2026-11-25T09:00:00Z"
    assert store.authenticate(token, T0 + timedelta(minutes=59)).has("status")
    with pytest.raises(Unauthorized, match="expired"):
        store.authenticate(token, T0 + timedelta(hours=1))
    token2, record2 = store.create(["read"], label="verifier", now=T0)
    revoked = store.revoke(record2.id, now=T0)
    assert revoked.revoked == "2026-11-25T08:00:00Z"
    with pytest.raises(Unauthorized, match="revoked"):
        store.authenticate(token2, T0)
    with pytest.raises(Conflict):
        store.revoke(record2.id, now=T0)
    with pytest.raises(NotFound):
        store.revoke("0000000000000000", now=T0)
    states = {r.id: r.public_json(T0 + timedelta(hours=2))["state"] for r in store.list()}
    assert states == {record.id: "expired", record2.id: "revoked"}
    assert "sha256" not in json.dumps([r.public_json(T0) for r in store.list()])


def test_another_process_change_is_seen_without_restart(tmp_path: Path) -> None:
    node_view = TokenStore(tmp_path)
    assert node_view.list() == []
    cli_view = TokenStore(tmp_path)
    token, record = cli_view.create(["admin"], label="ops", now=T0)
    assert node_view.authenticate(token, T0).token_id == record.id
    cli_view.revoke(record.id, now=T0)
    with pytest.raises(Unauthorized, match="revoked"):
        node_view.authenticate(token, T0)


@pytest.mark.parametrize("scope", ["admin", "read", "status", f"status:{ISSUER}", f"issue:{OTHER}"])
def test_valid_scopes(scope: str) -> None:
    assert parse_scope(scope) == scope


@pytest.mark.parametrize("scope", ["root", "issue", "issue:", "issue:notadid", "status:x", "ADMIN", ""])
def test_invalid_scopes(scope: str) -> None:
    with pytest.raises(InvalidInput):
        parse_scope(scope)


def test_create_validates_input(tmp_path: Path) -> None:
    store = TokenStore(tmp_path)
    with pytest.raises(InvalidInput, match="at least one scope"):
        store.create([], label="x", now=T0)
    with pytest.raises(InvalidInput, match="label"):
        store.create(["admin"], label="", now=T0)
    with pytest.raises(InvalidInput, match="positive"):
        store.create(["admin"], label="x", now=T0, expires_in=timedelta(0))
    with pytest.raises(InvalidInput, match="wrong number of bytes"):
        store.create(["admin"], label="x", now=T0, random_bytes=lambda n: b"\x00")


def test_randomness_is_injectable_and_collisions_refused(tmp_path: Path) -> None:
    store = TokenStore(tmp_path)
    fixed = lambda n: bytes(range(n))  # noqa: E731
    token, record = store.create(["admin"], label="x", now=T0, random_bytes=fixed)
    assert record.id == bytes(range(8)).hex()
    with pytest.raises(Conflict):
        store.create(["admin"], label="y", now=T0, random_bytes=fixed)
    assert store.authenticate(token, T0).has("admin")


def test_corrupt_store_is_an_integrity_error(tmp_path: Path) -> None:
    (tmp_path / "tokens.json").write_text('{"format": "ledgr-tokens", "version": 1, "tokens": [{"id": 1}]}')
    with pytest.raises(IntegrityError):
        TokenStore(tmp_path).list()
