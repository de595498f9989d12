"""``ledgr vc issue|verify``: the real CLI through click's CliRunner, plus the installed console script."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from ledgr.cli import cli
from ledgr.vc import (
    StatusList,
    build_status_entry,
    build_status_list_credential,
    create_presentation,
    issue,
    sign_presentation,
)
from tests.paths import EDDSA_VECTORS
from tests.unit.vc.credential_factory import CREATED, V2, credential, did, key

ISSUER = key(61)


def _run(*args: str, input_text: str | None = None) -> Any:
    return CliRunner().invoke(cli, list(args), input=input_text)


def _write(path: Path, document: Any) -> str:
    path.write_text(json.dumps(document))
    return str(path)


def _issue(tmp_path: Path, document: dict[str, Any] | None = None, *extra: str) -> dict[str, Any]:
    source = _write(tmp_path / "credential.json", document or credential(did(ISSUER)))
    result = _run("vc", "issue", "--secret-key", ISSUER.multikey, "--suite", "eddsa-rdfc-2022",
                  "--created", CREATED, *extra, source)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)  # type: ignore[no-any-return]


def test_issue_then_verify_exit_0(tmp_path: Path) -> None:
    signed = _issue(tmp_path)
    assert signed["proof"]["created"] == CREATED
    result = _run("vc", "verify", "--now", "2026-06-01T00:00:00Z", _write(tmp_path / "s.json", signed))
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert out["verified"] is True
    assert [c["check"] for c in out["checks"]] == ["proof", "validity", "issuer-binding"]


def test_created_defaults_to_now_in_seconds(tmp_path: Path) -> None:
    source = _write(tmp_path / "c.json", credential(did(ISSUER)))
    result = _run("vc", "issue", "--secret-key", ISSUER.multikey, "--suite", "eddsa-jcs-2022", source)
    created = json.loads(result.stdout)["proof"]["created"]
    assert result.exit_code == 0 and created.endswith("Z") and len(created) == 20


def test_tampered_and_expired_exit_1(tmp_path: Path) -> None:
    signed = _issue(tmp_path)
    forged = json.loads(json.dumps(signed))
    forged["credentialSubject"]["degree"]["name"] = "Master of Forgery"
    result = _run("vc", "verify", "--now", "2026-06-01T00:00:00Z", _write(tmp_path / "f.json", forged))
    assert result.exit_code == 1
    assert json.loads(result.stdout)["verified"] is False
    expired = _run("vc", "verify", "--now", "2030-01-01T00:00:00Z", _write(tmp_path / "s.json", signed))
    assert expired.exit_code == 1
    assert json.loads(expired.stdout)["errors"][0]["reason"] == "expired"
    narrowed = _run("vc", "verify", "--check", "proof", "--now", "2030-01-01T00:00:00Z",
                    str(tmp_path / "s.json"))
    assert narrowed.exit_code == 0


@pytest.mark.parametrize(("args", "message"), [
    (["--check", "signature"], "unknown check"),
    (["--now", "tomorrow"], "--now"),
    (["--status-list", "no-equals-sign"], "URL=FILE"),
])
def test_unusable_options_exit_2_with_one_line(tmp_path: Path, args: list[str], message: str) -> None:
    path = _write(tmp_path / "s.json", _issue(tmp_path))
    result = _run("vc", "verify", *args, path)
    assert result.exit_code == 2
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert result.stdout == ""


def test_unusable_files_exit_2(tmp_path: Path) -> None:
    (tmp_path / "bad.json").write_text("{not json")
    cases = ((tmp_path / "missing.json", "cannot read"), (tmp_path / "bad.json", "not valid JSON"))
    for path, message in cases:
        result = _run("vc", "verify", str(path))
        assert result.exit_code == 2 and message in result.stderr
        assert "Traceback" not in result.output
    result = _run("vc", "verify", _write(tmp_path / "list.json", [1, 2]))
    assert result.exit_code == 2 and "JSON object" in result.stderr


def test_issue_refuses_a_foreign_issuer(tmp_path: Path) -> None:
    source = _write(tmp_path / "c.json", credential(did(key(62))))
    result = _run("vc", "issue", "--secret-key", ISSUER.multikey, "--suite", "eddsa-rdfc-2022", source)
    assert result.exit_code == 2
    assert "not the did:key of this secret key" in result.stderr


def test_stdin_and_w3c_vector(tmp_path: Path) -> None:
    vector = (EDDSA_VECTORS / "eddsa-jcs-2022" / "signedJCS.json").read_text()
    result = _run("vc", "verify", "--now", "2024-01-01T00:00:00Z", "-", input_text=vector)
    assert result.exit_code == 0, result.output


def test_custom_context_option(tmp_path: Path) -> None:
    url = "https://contexts.gemeente.example/permit/v1"
    context_file = _write(tmp_path / "ctx.json", {"@context": {
        "PermitCredential": "https://vocab.gemeente.example#PermitCredential",
        "permitNumber": "https://vocab.gemeente.example#permitNumber"}})
    document = credential(did(ISSUER), type=["VerifiableCredential", "PermitCredential"],
                          credentialSubject={"id": "did:example:a", "permitNumber": "P-1"})
    document["@context"] = [V2, url]
    source = _write(tmp_path / "c.json", document)
    refused = _run("vc", "issue", "--secret-key", ISSUER.multikey, "--suite", "eddsa-rdfc-2022", source)
    assert refused.exit_code == 2 and url in refused.stderr
    signed = _issue(tmp_path, document, "--context", f"{url}={context_file}")
    path = _write(tmp_path / "s.json", signed)
    ok = _run("vc", "verify", "--now", "2026-06-01T00:00:00Z", "--context", f"{url}={context_file}", path)
    assert ok.exit_code == 0, ok.output


def test_status_list_and_presentation_options(tmp_path: Path) -> None:
    list_url = "https://status.example/lists/1"
    status_list = StatusList()
    status_list.set(5)
    list_credential = issue(build_status_list_credential(
        list_id=list_url, issuer=did(ISSUER), status_purpose="revocation", status_list=status_list),
        secret_key=ISSUER.multikey, suite="eddsa-jcs-2022", created=CREATED)
    list_file = _write(tmp_path / "list.json", list_credential)
    revoked = _issue(tmp_path, credential(did(ISSUER), credentialStatus=build_status_entry(
        list_credential=list_url, index=5, status_purpose="revocation")))
    path = _write(tmp_path / "revoked.json", revoked)
    result = _run("vc", "verify", "--now", "2026-06-01T00:00:00Z", "--status-list",
                  f"{list_url}={list_file}", path)
    assert result.exit_code == 1
    assert json.loads(result.stdout)["errors"][0]["reason"] == "revoked"

    holder = key(63)
    presentation = sign_presentation(create_presentation([revoked], holder=did(holder)),
                                     secret_key=holder.multikey, suite="eddsa-rdfc-2022",
                                     challenge="nonce-1", domain="verifier.example", created=CREATED)
    vp_path = _write(tmp_path / "vp.json", presentation)
    base = ("vc", "verify", "--now", "2026-06-01T00:00:00Z", "--check", "proof")
    assert _run(*base, "--challenge", "nonce-1", "--domain", "verifier.example", vp_path).exit_code == 0
    replayed = _run(*base, "--challenge", "nonce-2", vp_path)
    assert replayed.exit_code == 1 and json.loads(replayed.stdout)["type"] == "VerifiablePresentation"
    wrong_domain = _run(*base, "--challenge", "nonce-1", "--domain", "evil.example", vp_path)
    assert wrong_domain.exit_code == 1


def test_help_has_examples() -> None:
    for command in ("issue", "verify"):
        result = _run("vc", command, "--help")
        assert result.exit_code == 0 and "Examples:" in result.output


def test_installed_console_script(tmp_path: Path) -> None:
    script = Path(sys.executable).with_name("ledgr")
    source = _write(tmp_path / "c.json", credential(did(ISSUER)))
    issued = subprocess.run([str(script), "vc", "issue", "--secret-key", ISSUER.multikey, "--suite",
                             "Ed25519Signature2020", source], capture_output=True, text=True, timeout=60,
                            check=False)
    assert issued.returncode == 0, issued.stderr
    signed_path = _write(tmp_path / "s.json", json.loads(issued.stdout))
    verified = subprocess.run([str(script), "vc", "verify", "--now", "2026-06-01T00:00:00Z", signed_path],
                              capture_output=True, text=True, timeout=60, check=False)
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert json.loads(verified.stdout)["verified"] is True
    bad = subprocess.run([str(script), "vc", "verify", "--check", "nope", signed_path],
                         capture_output=True, text=True, timeout=60, check=False)
    assert bad.returncode == 2 and bad.stderr.startswith("error: ")


def test_present_then_verify(tmp_path: Path) -> None:
    credential_path = _write(tmp_path / "s.json", _issue(tmp_path))
    holder = key(64)
    result = _run("vc", "present", "--secret-key", holder.multikey, "--suite", "eddsa-jcs-2022",
                  "--challenge", "nonce-9", "--domain", "verifier.example", credential_path)
    assert result.exit_code == 0, result.output
    presentation = json.loads(result.stdout)
    assert presentation["holder"] == did(holder)
    assert presentation["proof"]["proofPurpose"] == "authentication"
    vp_path = _write(tmp_path / "vp.json", presentation)
    ok = _run("vc", "verify", "--now", "2026-06-01T00:00:00Z", "--challenge", "nonce-9", "--domain",
              "verifier.example", vp_path)
    assert ok.exit_code == 0, ok.output
    assert json.loads(ok.stdout)["credentialResults"][0]["verified"] is True
    foreign = _run("vc", "present", "--secret-key", holder.multikey, "--suite", "eddsa-jcs-2022",
                   "--challenge", "n", "--holder", did(key(65)), credential_path)
    assert foreign.exit_code == 2 and "holder" in foreign.stderr


def test_oversized_file_exit_2(tmp_path: Path) -> None:
    big = tmp_path / "big.json"
    with big.open("wb") as handle:
        handle.truncate(9 * 1024 * 1024)
    result = _run("vc", "verify", str(big))
    assert result.exit_code == 2 and "at most" in result.stderr
