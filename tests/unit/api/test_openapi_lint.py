"""The OpenAPI document passes the NL API Design Rules linter (Spectral + ../shared/adr-ruleset.yaml).

Spectral is installed by ``scripts/install-spectral`` (pinned in tools/spectral/package-lock.json). In CI
(``CI`` set) a missing Spectral is a failure, never a skip. A deliberately broken copy of the document
must produce errors, proving the ruleset is really applied.
"""

from __future__ import annotations

import copy
import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest

from ledgr.api.openapi import build_document
from tests.paths import ROOT, SHARED

SPECTRAL = ROOT / "tools" / "spectral" / "node_modules" / ".bin" / "spectral"
RULESET = SHARED / "adr-ruleset.yaml"


def _require_spectral() -> Path:
    if SPECTRAL.exists() and RULESET.exists():
        return SPECTRAL
    message = (f"Spectral ({SPECTRAL}) or the ruleset ({RULESET}) is missing; "
               "run scripts/install-spectral")
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


def _lint(document: dict[str, Any], tmp_path: Path) -> list[dict[str, Any]]:
    spectral = _require_spectral()
    spec = tmp_path / "openapi.json"
    spec.write_text(json.dumps(document, indent=1))
    out = tmp_path / "result.json"
    proc = subprocess.run(
        [str(spectral), "lint", "--ruleset", str(RULESET), "--format", "json", "--output", str(out),
         "--fail-severity", "error", str(spec)],
        capture_output=True, text=True, timeout=120, check=False,
    )
    assert out.exists(), f"spectral produced no result: {proc.stdout}\n{proc.stderr}"
    results: list[dict[str, Any]] = json.loads(out.read_text())
    return results


def _errors(results: list[dict[str, Any]]) -> list[str]:
    return [f"{r['code']}: {r['message']} at {'.'.join(map(str, r['path']))}"
            for r in results if r["severity"] == 0]


def test_document_has_no_adr_errors(tmp_path: Path) -> None:
    errors = _errors(_lint(build_document(), tmp_path))
    assert errors == []


def test_linter_catches_a_broken_document(tmp_path: Path) -> None:
    broken = copy.deepcopy(build_document())
    broken["servers"] = [{"url": "https://ledgr.example.nl"}]  # no major version in the URL
    issue = broken["paths"]["/credentials/issue"]["post"]
    del issue["responses"]["201"]["headers"]  # no API-Version header
    del issue["responses"]["400"]  # no 400 for bad input
    broken["paths"]["/statusLists"] = broken["paths"].pop("/status-lists")  # not kebab-case
    codes = {r["code"] for r in _lint(broken, tmp_path) if r["severity"] == 0}
    assert {"nlgov:include-major-version-in-uri", "nlgov:missing-header", "nlgov:problem-invalid-input",
            "nlgov:paths-kebab-case"} <= codes
