"""``ledgr token`` and ``ledgr issuer`` against file-backed stores in a data directory."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner

from ledgr.api.tokens import TokenStore
from ledgr.cli import cli
from ledgr.crypto import PrivateKey
from ledgr.node.keystore import Keystore

ISSUER = "did:ledgr:4Hq3uKxeLmF1cUZzvVwJ7a"
PASSPHRASE = "correct horse battery staple"
FAST = ["--kdf-profile", "test-only-minimum"]


@pytest.fixture
def runner(monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("LEDGR_KEYSTORE_PASSPHRASE", PASSPHRASE)
    return CliRunner()


def _run(runner: CliRunner, *args: str) -> tuple[int, str, str]:
    result = runner.invoke(cli, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def test_token_create_list_revoke(runner: CliRunner, tmp_path: Path) -> None:
    code, out, err = _run(runner, "token", "create", "--data-dir", str(tmp_path), "--label", "issuer app",
                          "--scope", f"issue:{ISSUER}", "--expires-in", "30d")
    assert code == 0, err
    token = out.strip()
    assert token.startswith("ledgr_") and "cannot be shown again" in err
    principal = TokenStore(tmp_path / "api").authenticate(token, datetime.now(UTC))
    assert principal.can_issue_as(ISSUER)

    code, out, _ = _run(runner, "token", "list", "--data-dir", str(tmp_path), "--json")
    listed = json.loads(out)
    assert [(t["id"], t["state"], t["scopes"]) for t in listed] == [(principal.token_id, "active",
                                                                      [f"issue:{ISSUER}"])]
    assert token not in out and "sha256" not in out

    code, out, _ = _run(runner, "token", "list", "--data-dir", str(tmp_path))
    assert principal.token_id in out and "active" in out

    code, out, _ = _run(runner, "token", "revoke", "--data-dir", str(tmp_path), principal.token_id)
    assert code == 0 and "revoked" in out
    code, out, _ = _run(runner, "token", "list", "--data-dir", str(tmp_path), "--json")
    assert json.loads(out)[0]["state"] == "revoked"

    audit = (tmp_path / "audit.log").read_text()
    events = [json.loads(line)["event"] for line in audit.splitlines()]
    assert events == ["token.created", "token.revoked"]
    assert token not in audit and token.split("_", 2)[2] not in audit  # ledgr_<id>_<secret>


def test_token_create_json(runner: CliRunner, tmp_path: Path) -> None:
    code, out, _ = _run(runner, "token", "create", "--data-dir", str(tmp_path), "--label", "ops",
                        "--scope", "admin", "--scope", "status", "--json")
    assert code == 0
    created = json.loads(out)
    assert created["scopes"] == ["admin", "status"] and created["token"].startswith(f"ledgr_{created['id']}_")


@pytest.mark.parametrize(("args", "message"), [
    (["token", "create", "--label", "x", "--scope", "root"], "unknown scope 'root'"),
    (["token", "create", "--label", "x", "--scope", "admin", "--expires-in", "soon"], "invalid duration"),
    (["token", "revoke", "0123456789abcdef"], "no token 0123456789abcdef"),
    (["token", "revoke", "nope"], "is not a token id"),
])
def test_token_errors_are_one_line(runner: CliRunner, tmp_path: Path, args: list[str], message: str) -> None:
    code, out, err = _run(runner, *args[:2], "--data-dir", str(tmp_path), *args[2:])
    assert code != 0
    assert err.startswith("error: ") and message in err and err.count("\n") == 1
    assert "Traceback" not in err + out


def test_issuer_create_list_rotate(runner: CliRunner, tmp_path: Path) -> None:
    code, out, err = _run(runner, "issuer", "create", "--data-dir", str(tmp_path), "--label", "DUO",
                          "--did", ISSUER, "--json", *FAST)
    assert code == 0, err
    created = json.loads(out)
    assert created["did"] == ISSUER and len(created["keys"]) == 1
    code, out, _ = _run(runner, "issuer", "rotate-key", "--data-dir", str(tmp_path), ISSUER, "--json")
    rotated = json.loads(out)
    assert rotated["keys"][0]["retired"] is not None and rotated["keys"][1]["retired"] is None
    assert rotated["verificationMethod"] == rotated["keys"][1]["id"]
    code, out, _ = _run(runner, "issuer", "list", "--data-dir", str(tmp_path), "--json")
    assert json.loads(out) == [rotated]
    code, out, _ = _run(runner, "issuer", "list", "--data-dir", str(tmp_path))
    assert "retired" in out and "active" in out
    events = [json.loads(line)["event"] for line in (tmp_path / "audit.log").read_text().splitlines()]
    assert events == ["issuer.created", "issuer.key-rotated"]


def test_issuer_import_from_key_generate_output(runner: CliRunner, tmp_path: Path) -> None:
    key = PrivateKey.from_seed(bytes(range(32)))
    key_file = tmp_path / "k.json"
    key_file.write_text(json.dumps({"secretKeyMultibase": key.multikey,
                                    "publicKeyMultibase": key.public_key.multikey}))
    code, out, err = _run(runner, "issuer", "create", "--data-dir", str(tmp_path / "d"), "--label", "RDW",
                          "--import-key", str(key_file), *FAST)
    assert code == 0, err
    assert f"did:key:{key.public_key.multikey}" in out
    assert key.multikey not in out
    ks = Keystore.open(tmp_path / "d" / "keystore", PASSPHRASE.encode())
    assert ks.issuers()[0].active_key.public_key_multibase == key.public_key.multikey
    jwk_file = tmp_path / "jwk.json"
    other = PrivateKey.from_seed(bytes(range(1, 33)))
    jwk_file.write_text(json.dumps(other.to_jwk()))
    code, out, err = _run(runner, "issuer", "create", "--data-dir", str(tmp_path / "d"), "--label", "x",
                          "--import-key", str(jwk_file))
    assert code == 0, err


def test_issuer_errors(runner: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    code, _, err = _run(runner, "issuer", "list", "--data-dir", str(tmp_path))
    assert code != 0 and "no keystore" in err
    _run(runner, "issuer", "create", "--data-dir", str(tmp_path), "--label", "k", *FAST)
    did = json.loads(_run(runner, "issuer", "list", "--data-dir", str(tmp_path), "--json")[1])[0]["did"]
    code, _, err = _run(runner, "issuer", "rotate-key", "--data-dir", str(tmp_path), did)
    assert code != 0 and "did:key issuer cannot rotate" in err
    monkeypatch.setenv("LEDGR_KEYSTORE_PASSPHRASE", "a wrong passphrase")
    code, _, err = _run(runner, "issuer", "list", "--data-dir", str(tmp_path))
    assert code != 0 and err.startswith("error: cannot unseal: wrong passphrase") and err.count("\n") == 1


def test_keystore_created_by_cli_uses_strong_default_kdf(runner: CliRunner, tmp_path: Path) -> None:
    code, _, err = _run(runner, "issuer", "create", "--data-dir", str(tmp_path), "--label", "strong")
    assert code == 0, err
    doc = json.loads((tmp_path / "keystore" / "keystore.json").read_text())
    assert doc["check"]["kdf"]["memlimit"] >= 256 * 1024 * 1024 and doc["check"]["kdf"]["opslimit"] >= 3


def test_passphrase_and_key_files(runner: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("LEDGR_KEYSTORE_PASSPHRASE")
    key_file = tmp_path / "unlock.key"
    key_file.write_bytes(os.urandom(32))
    code, _, err = _run(runner, "issuer", "create", "--data-dir", str(tmp_path), "--label", "kf",
                        "--key-file", str(key_file), *FAST)
    assert code == 0, err
    code, out, _ = _run(runner, "issuer", "list", "--data-dir", str(tmp_path), "--key-file", str(key_file))
    assert code == 0 and "kf" in out
    pass_file = tmp_path / "pass"
    pass_file.write_text("a passphrase in a file\n")
    code, _, err = _run(runner, "issuer", "list", "--data-dir", str(tmp_path), "--passphrase-file",
                        str(pass_file))
    assert code != 0 and "wrong passphrase" in err


def test_help_has_examples() -> None:
    for group in ("token", "issuer"):
        proc = subprocess.run([sys.executable, "-c", "from ledgr.cli import main; main()", group, "--help"],
                              capture_output=True, text=True, timeout=60, check=False)
        assert proc.returncode == 0
        commands = ["create", "list", "revoke"] if group == "token" else ["create", "list", "rotate-key"]
        for command in commands:
            assert command in proc.stdout
            sub = subprocess.run([sys.executable, "-c", "from ledgr.cli import main; main()", group, command,
                                  "--help"], capture_output=True, text=True, timeout=60, check=False)
            assert sub.returncode == 0 and "Example" in sub.stdout, (group, command)


def test_passphrase_prompt_confirms_on_create(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("LEDGR_KEYSTORE_PASSPHRASE", raising=False)
    runner = CliRunner()
    args = ["issuer", "create", "--data-dir", str(tmp_path), "--label", "prompted", *FAST]
    mismatch = runner.invoke(cli, args, input="first passphrase!\nsecond passphrase\n"
                             "first passphrase!\nfirst passphrase!\n")
    assert mismatch.exit_code == 0, mismatch.output
    assert "do not match" in mismatch.output
    listed = runner.invoke(cli, ["issuer", "list", "--data-dir", str(tmp_path)], input="first passphrase!\n")
    assert listed.exit_code == 0 and "prompted" in listed.output
    assert "first passphrase!" not in listed.output


def test_secret_looking_labels_are_redacted_in_the_audit_log(runner: CliRunner, tmp_path: Path) -> None:
    label = "ledgr_0123456789abcdef_oops"
    code, _, err = _run(runner, "token", "create", "--data-dir", str(tmp_path), "--label", label,
                        "--scope", "admin")
    assert code == 0, err
    audit = (tmp_path / "audit.log").read_text()
    assert label not in audit and "[redacted]" in audit


def test_issuer_rotate_key_refuses_a_did_on_the_local_ledger(runner: CliRunner, tmp_path: Path) -> None:
    """Rotating only the keystore would leave the DID document naming the old key (the API's rotate
    endpoint publishes the new key with did.update); a DID not on the ledger still rotates offline."""
    from ledgr.store import Store
    from tests.unit.store.workload import DidWorkload

    workload = DidWorkload.for_seed("rotate-cli")
    with Store.open(tmp_path) as store:
        store.initialize_genesis(workload.genesis)
        with store.snapshot() as view:
            block, qc, result = workload.next_block(view, 2)
        store.commit_block(block, qc, result)
    published = workload.did_of(1, 0)
    for did in (published, ISSUER):
        code, _, err = _run(runner, "issuer", "create", "--data-dir", str(tmp_path), "--label", did[-4:],
                            "--did", did, *FAST)
        assert code == 0, err
    code, _, err = _run(runner, "issuer", "rotate-key", "--data-dir", str(tmp_path), published)
    assert code != 0 and err.startswith("error: ") and "is on this node's ledger" in err
    assert err.count("\n") == 1
    keys = {i["did"]: i["keys"] for i in json.loads(_run(runner, "issuer", "list", "--data-dir",
                                                            str(tmp_path), "--json")[1])}
    assert len(keys[published]) == 1  # nothing rotated
    code, _, err = _run(runner, "issuer", "rotate-key", "--data-dir", str(tmp_path), ISSUER)
    assert code == 0, err
