"""The bundled contexts are byte-identical to the published documents (checked by SHA-256)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from ledgr.vc.loader import BUNDLED, DEFAULT_LOADER
from tests.paths import CONTEXT_VECTORS, VECTORS

CONTEXTS_DIR = Path(__file__).resolve().parents[3] / "ledgr" / "vc" / "contexts"


def _reference_digests() -> dict[str, str]:
    digests = {}
    for line in (VECTORS / "SHA256SUMS").read_text().splitlines():
        digest, path = line.split(maxsplit=1)
        if path.startswith("./contexts/"):
            digests[path.removeprefix("./contexts/")] = digest
    return digests


REFERENCE = _reference_digests()


@pytest.mark.parametrize("url", sorted(BUNDLED))
def test_bundled_context_matches_published_digest(url: str) -> None:
    name = BUNDLED[url]
    data = (CONTEXTS_DIR / name).read_bytes()
    assert hashlib.sha256(data).hexdigest() == REFERENCE[name]
    assert data == (CONTEXT_VECTORS / name).read_bytes()


def test_every_bundled_file_is_served_and_documented() -> None:
    files = {p.name for p in CONTEXTS_DIR.glob("*.jsonld")}
    assert files == set(BUNDLED.values())
    readme = (CONTEXTS_DIR / "README.md").read_text()
    for url, name in BUNDLED.items():
        assert f"`{url}`" in readme and f"`{name}`" in readme


@pytest.mark.parametrize("url", sorted(BUNDLED))
def test_loader_serves_parsed_bundled_context(url: str) -> None:
    document = DEFAULT_LOADER.load(url)
    assert document == json.loads((CONTEXTS_DIR / BUNDLED[url]).read_bytes())
    assert "@context" in document


def test_ten_required_contexts_are_bundled() -> None:
    assert set(BUNDLED) == {
        "https://www.w3.org/2018/credentials/v1",
        "https://www.w3.org/ns/credentials/v2",
        "https://www.w3.org/ns/credentials/examples/v2",
        "https://www.w3.org/ns/credentials/undefined-terms/v2",
        "https://w3id.org/security/data-integrity/v2",
        "https://w3id.org/security/multikey/v1",
        "https://w3id.org/security/suites/ed25519-2020/v1",
        "https://www.w3.org/ns/did/v1",
        "https://www.w3.org/ns/credentials/status/v1",
        "https://w3id.org/citizenship/v4rc1",
    }
