"""The audit log (ledgr.api.audit): JSON lines with who/what, never secrets or credential contents."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from ledgr.api.audit import AuditLog, actor_of
from ledgr.api.tokens import Principal, TokenStore
from ledgr.crypto import PrivateKey
from ledgr.errors import InvariantViolation

T0 = datetime(2026, 11, 25, 8, 0, tzinfo=UTC)
ISSUER = "did:ledgr:4Hq3uKxeLmF1cUZzvVwJ7a"


def _lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_records_who_did_what_as_json_lines(tmp_path: Path) -> None:
    log = AuditLog(tmp_path / "audit.log", now=lambda: T0)
    principal = Principal("3f9c0d2a7b1e4c55", frozenset({f"issue:{ISSUER}"}))
    log.record("credential.issued", actor=actor_of(principal), issuer=ISSUER,
               credentialId="urn:uuid:1b4e28ba-2fa1-11d2-883f-0016d3cca427", cryptosuite="eddsa-jcs-2022",
               outcome="ok")
    log.record("token.revoked", actor="cli:alice", tokenId="3f9c0d2a7b1e4c55")
    log.close()
    first, second = _lines(tmp_path / "audit.log")
    assert first == {"event": "credential.issued", "actor": "token:3f9c0d2a7b1e4c55", "issuer": ISSUER,
                     "credentialId": "urn:uuid:1b4e28ba-2fa1-11d2-883f-0016d3cca427",
                     "cryptosuite": "eddsa-jcs-2022", "outcome": "ok", "timestamp": "2026-11-25T08:00:00Z"}
    assert second["event"] == "token.revoked" and second["actor"] == "cli:alice"
    assert actor_of(None) == "anonymous"


def test_secrets_never_reach_the_file(tmp_path: Path) -> None:
    path = tmp_path / "audit.log"
    log = AuditLog(path, now=lambda: T0)
    token, record = TokenStore(tmp_path / "tokens").create(["admin"], label="ops", now=T0)
    key = PrivateKey.from_seed(bytes(range(32)))
    log.record("token.created", actor="cli:alice", tokenId=record.id, scopes=list(record.scopes))
    with pytest.raises(InvariantViolation, match="looks like a secret"):
        log.record("token.created", actor="cli:alice", label=token)
    with pytest.raises(InvariantViolation, match="looks like a secret"):
        log.record("issuer.imported", actor="cli:alice", reason=f"imported {key.multikey}")
    with pytest.raises(InvariantViolation, match="allow-list"):
        log.record("credential.issued", actor="x", credential={"credentialSubject": {"name": "Jan"}})  # type: ignore[arg-type]
    with pytest.raises(InvariantViolation, match="allow-list"):
        log.record("token.created", actor="x", secret="hunter2")  # type: ignore[arg-type]
    with pytest.raises(InvariantViolation, match="string, number"):
        log.record("credential.issued", actor="x", issuer={"id": ISSUER})  # type: ignore[arg-type]
    with pytest.raises(InvariantViolation, match="unknown audit event"):
        log.record("credential.dumped", actor="x")
    log.close()
    data = path.read_text()
    assert token not in data and token.split("_", 2)[2] not in data
    assert key.multikey not in data and "hunter2" not in data and "Jan" not in data
    assert len(_lines(path)) == 1 and record.id in data


def test_reopen_follows_rotation(tmp_path: Path) -> None:
    path = tmp_path / "audit.log"
    log = AuditLog(path, now=lambda: T0)
    log.record("issuer.created", actor="cli:alice", issuer=ISSUER)
    path.rename(tmp_path / "audit.log.1")
    log.reopen()
    log.record("issuer.key-rotated", actor="cli:alice", issuer=ISSUER)
    log.close()
    assert [e["event"] for e in _lines(path)] == ["issuer.key-rotated"]
    assert [e["event"] for e in _lines(tmp_path / "audit.log.1")] == ["issuer.created"]
