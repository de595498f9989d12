"""Security of the issuer/verifier API on a real node: tokens and scopes (nothing signed without them),
body limits, malformed and hostile input (clear 400/413/422 problems, never 500), keys never exposed,
every documented route served and every served /v1 route documented."""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from ledgr.api.openapi import build_document, documented_routes, served_routes
from ledgr.crypto import PrivateKey
from ledgr.did.key import did_key_from_public_key
from tests.unit.api.issuer_node import T0, IssuerNode, credential, start_issuer_node

pytestmark = pytest.mark.asyncio(loop_scope="module")
PROBLEM = "application/problem+json"


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def api(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[IssuerNode]:
    directory: Path = tmp_path_factory.mktemp("secnode")
    async for client in start_issuer_node(directory):
        yield client


def _issued_events(api: IssuerNode) -> int:
    text = (api.data_dir / "audit.log").read_text()
    return sum(1 for line in text.splitlines() if json.loads(line).get("event") == "credential.issued")


def _problem(code: int, body: Any, response: Any, status: int) -> None:
    assert code == status, body
    assert response.content_type == PROBLEM
    assert body["status"] == status and body["title"] and body["detail"]
    assert response.headers["API-Version"] == "1.0.0"


async def test_no_token_wrong_scope_or_other_issuer_signs_nothing(api: IssuerNode) -> None:
    other = did_key_from_public_key(PrivateKey.generate().public_key)
    other_token, _ = api.tokens.create([f"issue:{other}"], label="other issuer", now=T0)
    status_only, _ = api.tokens.create(["status"], label="status desk", now=T0)
    before = _issued_events(api)
    request = {"credential": credential(api.issuer_did)}
    cases: list[tuple[str | None, int]] = [(None, 401), ("ledgr_0000000000000000_" + "A" * 43, 401),
                                           (other_token, 403), (status_only, 403), (api.admin, 403)]
    for token, status in cases:
        code, body, response = await api.call("POST", "/v1/credentials/issue", request, token)
        _problem(code, body, response, status)
        if status == 401:
            assert response.headers["WWW-Authenticate"].startswith("Bearer")
    code, body, response = await api.call("POST", "/v1/credentials/issue",
                                          {"credential": credential(other)}, api.issuer_token)
    _problem(code, body, response, 403)
    assert body["requiredScope"] == f"issue:{other}"
    assert _issued_events(api) == before


async def test_status_change_needs_the_issuers_status_scope(api: IssuerNode) -> None:
    code, body, _r = await api.call("POST", "/v1/credentials/issue",
                                    {"credential": credential(api.issuer_did),
                                     "options": {"credentialStatus": {"statusPurpose": "revocation"}}},
                                    api.issuer_token)
    entry = body["verifiableCredential"]["credentialStatus"]
    other_status, _ = api.tokens.create(["status:did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK"],
                                        label="other desk", now=T0)
    code, body, response = await api.call("POST", "/v1/credentials/status",
                                          {"credentialStatus": entry, "action": "revoke"}, other_status)
    _problem(code, body, response, 403)
    code, body, response = await api.call("POST", "/v1/credentials/status",
                                          {"credentialStatus": entry, "action": "revoke"})
    _problem(code, body, response, 401)


@pytest.mark.parametrize(("path", "raw", "status"), [
    ("/v1/credentials/issue", b"{not json", 400),
    ("/v1/credentials/issue", b"[1, 2]", 400),
    ("/v1/credentials/issue", b'{"credential": "x"}', 400),
    ("/v1/credentials/issue", b'{"credential": {}, "options": []}', 400),
    ("/v1/credentials/issue", b'{"credential": {"issuer": 5}}', 400),
    ("/v1/credentials/verify", b'{"verifiableCredential": 1}', 400),
    ("/v1/credentials/verify", b"{}", 400),
    ("/v1/presentations/verify", b'{"verifiablePresentation": {}, "options": {"challenge": 7}}', 400),
    ("/v1/credentials/status", b'{"credentialStatus": {"type": "X"}, "action": "revoke"}', 400),
    ("/v1/credentials/issue", b"x" * (300 * 1024), 413),
    ("/v1/credentials/verify", b'{"verifiableCredential": "' + b"y" * (300 * 1024) + b'"}', 413),
])
async def test_malformed_bodies_are_clear_problems(api: IssuerNode, path: str, raw: bytes,
                                                   status: int) -> None:
    code, body, response = await api.call("POST", path, raw=raw, token=api.issuer_token)
    _problem(code, body, response, status)


async def test_unknown_context_and_poisoned_graph_are_refused_not_500(api: IssuerNode) -> None:
    unknown = credential(api.issuer_did)
    unknown["@context"] = ["https://www.w3.org/ns/credentials/v2", "https://evil.example/context.jsonld"]
    code, body, response = await api.call("POST", "/v1/credentials/issue", {"credential": unknown},
                                          api.issuer_token)
    _problem(code, body, response, 400)
    assert "context" in body["detail"]
    hub = {"q": [{"r": "x"} for _ in range(10)]}
    poisoned = credential(api.issuer_did)
    poisoned["credentialSubject"] = {"id": "did:example:alice", "p": [hub, json.loads(json.dumps(hub))]}
    code, body, response = await api.call("POST", "/v1/credentials/issue", {"credential": poisoned},
                                          api.issuer_token)
    assert code in (400, 422), body
    _problem(code, body, response, code)
    signed = {**poisoned, "proof": {"type": "DataIntegrityProof", "cryptosuite": "eddsa-rdfc-2022",
                                    "verificationMethod": f"{api.issuer_did}#x",
                                    "proofPurpose": "assertionMethod", "created": "2026-01-01T00:00:00Z",
                                    "proofValue": "z" + "2" * 80}}
    code, body, response = await api.call("POST", "/v1/credentials/verify", {"verifiableCredential": signed})
    assert code in (200, 400, 422), body
    if code == 200:
        assert body["verified"] is False


async def test_http_errors_are_problems(api: IssuerNode) -> None:
    code, body, response = await api.call("GET", "/v1/no-such-thing")
    _problem(code, body, response, 404)
    code, body, response = await api.call("DELETE", "/v1/credentials/issue", token=api.issuer_token)
    _problem(code, body, response, 405)
    assert "POST" in response.headers["Allow"]
    code, body, response = await api.call("GET", "/v1/status-lists/nope")
    _problem(code, body, response, 404)


async def test_keys_never_leave_the_keystore(api: IssuerNode) -> None:
    key = PrivateKey.generate()
    code, issuer, _r = await api.call("POST", "/v1/issuers", {"label": "Imported", "secretKeyMultibase":
                                                               key.multikey}, api.admin)
    assert code == 201, issuer
    for path in ("/v1/issuers", f"/v1/issuers/{issuer['did']}", "/v1/discovery"):
        code, body, _r = await api.call("GET", path)
        text = json.dumps(body)
        assert code == 200 and key.multikey not in text and "sealedSecretKey" not in text
    stored = (api.data_dir / "keystore" / "keystore.json").read_text()
    seed = key.seed
    for form in (key.multikey, seed.hex(), base64.b64encode(seed).decode(),
                 base64.urlsafe_b64encode(seed).decode().rstrip("=")):
        assert form not in stored
    audit = (api.data_dir / "audit.log").read_text()
    assert key.multikey not in audit and api.issuer_token not in audit


async def test_openapi_document_and_routes_are_in_sync(api: IssuerNode) -> None:
    code, document, response = await api.call("GET", "/v1/openapi.json")
    assert code == 200 and document["servers"][0]["url"] == api.base + "/v1"
    assert documented_routes(document) == documented_routes(build_document())
    assert served_routes(api.app) == documented_routes(document)
    code, page, response = await api.call("GET", "/v1/docs")
    assert code == 200 and response.content_type == "text/html" and "issueCredential" in page
