"""DID resolution over HTTP (content negotiation, error forms, versions, dereferencing, certified reads,
the Universal Resolver alias) and the registrar (update, key rotation keeping old credentials valid,
deactivation) on a real node."""

from __future__ import annotations

import asyncio
import json
import urllib.parse
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from ledgr.crypto import PrivateKey
from ledgr.node.certified import verify_state_answer
from ledgr.vc import issue
from tests.unit.api.issuer_node import T0, IssuerNode, credential, start_issuer_node

pytestmark = pytest.mark.asyncio(loop_scope="module")

RESOLUTION = "application/did-resolution"
LEGACY = 'application/ld+json;profile="https://w3id.org/did-resolution"'
UNKNOWN = "did:ledgr:" + "1" * 16


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def api(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[IssuerNode]:
    directory: Path = tmp_path_factory.mktemp("didnode")
    async for client in start_issuer_node(directory):
        yield client


async def _get(api: IssuerNode, path: str, accept: str | None = None) -> tuple[int, Any, str]:
    headers = {"Accept": accept} if accept else {}
    code, body, response = await api.call("GET", path, headers=headers)
    assert response.headers["API-Version"] == "1.0.0"
    return code, body, response.headers["Content-Type"]


@pytest.mark.parametrize("prefix", ["/v1", "/1.0"])
async def test_resolve_each_representation(api: IssuerNode, prefix: str) -> None:
    did = api.issuer_did
    code, result, ctype = await _get(api, f"{prefix}/identifiers/{did}")
    assert code == 200 and ctype == RESOLUTION
    assert result["didDocument"]["id"] == did and result["didDocumentMetadata"]["versionId"] == "1"
    code, result, ctype = await _get(api, f"{prefix}/identifiers/{did}", LEGACY)
    assert code == 200 and ctype == LEGACY and result["didDocument"]["id"] == did
    code, doc, ctype = await _get(api, f"{prefix}/identifiers/{did}", "application/did+ld+json")
    assert code == 200 and ctype == "application/did+ld+json" and "@context" in doc
    code, doc, ctype = await _get(api, f"{prefix}/identifiers/{did}", "application/did+json")
    assert code == 200 and ctype == "application/did+json" and "@context" not in doc and doc["id"] == did


@pytest.mark.parametrize(("did", "status", "current", "legacy"), [
    (UNKNOWN, 404, "NOT_FOUND", "notFound"),
    ("did:ledgr:0OIl", 400, "INVALID_DID", "invalidDid"),
    ("not-a-did", 400, "INVALID_DID", "invalidDid"),
    ("did:web:example.com", 501, "METHOD_NOT_SUPPORTED", "methodNotSupported"),
])
async def test_errors_are_resolution_results(api: IssuerNode, did: str, status: int, current: str,
                                             legacy: str) -> None:
    code, result, ctype = await _get(api, f"/v1/identifiers/{did}")
    assert (code, ctype) == (status, RESOLUTION)
    assert result["didDocument"] is None
    assert result["didResolutionMetadata"]["error"]["type"] == f"https://www.w3.org/ns/did#{current}"
    code, result, ctype = await _get(api, f"/1.0/identifiers/{did}", LEGACY)
    assert (code, ctype) == (status, LEGACY)
    assert result["didResolutionMetadata"]["error"] == legacy
    code, problem, ctype = await _get(api, f"/v1/identifiers/{did}", "application/problem+json")
    assert code == status and ctype.startswith("application/problem+json") and problem["status"] == status


async def test_unsupported_representation_is_406(api: IssuerNode) -> None:
    code, result, _ctype = await _get(api, f"/v1/identifiers/{api.issuer_did}", "text/html")
    assert code == 406
    assert result["didResolutionMetadata"]["error"]["type"].endswith("REPRESENTATION_NOT_SUPPORTED")


async def test_did_url_dereferencing_with_encoded_fragment(api: IssuerNode) -> None:
    code, issuer, _r = await api.call("GET", f"/v1/issuers/{api.issuer_did}")
    method = issuer["verificationMethod"]
    encoded = urllib.parse.quote(method, safe=":")
    code, result, ctype = await _get(api, f"/v1/identifiers/{encoded}")
    assert code == 200 and ctype == RESOLUTION
    assert result["content"]["id"] == method and result["content"]["type"] == "Multikey"
    code, content, ctype = await _get(api, f"/v1/identifiers/{encoded}", "application/did+json")
    assert code == 200 and content["publicKeyMultibase"] == issuer["keys"][0]["publicKeyMultibase"]
    code, result, _c = await _get(api, f"/v1/identifiers/{urllib.parse.quote(api.issuer_did + '#nope')}")
    assert code == 404


async def test_certified_read_verifies(api: IssuerNode) -> None:
    code, result, _c = await _get(api, f"/v1/identifiers/{api.issuer_did}?proof=true")
    assert code == 200
    proof = result["didDocumentMetadata"]["proof"]
    genesis_validators = api.node.chain.validator_set(api.node.chain.height)
    checked = verify_state_answer(proof["head"], genesis_validators)
    assert checked.values["head"] is not None


async def test_a_compromised_key_never_verifies_again(api: IssuerNode) -> None:
    """A backup key K2 (held offline) signs a credential; once the node's key declares K2 compromised,
    that credential fails, although it was made while K2 was listed (docs/did-method.md §4)."""
    code, issuer, _r = await api.call("POST", "/v1/issuers", {"label": "Two keys", "didMethod": "ledgr"},
                                      api.admin)
    did = issuer["did"]
    token, _ = api.tokens.create([f"issue:{did}"], label="two keys", now=T0)
    code, _created, _r = await api.call("POST", "/v1/identifiers",
                                        {"verificationMethod": issuer["verificationMethod"]}, token)
    assert code == 201
    backup = PrivateKey.generate()
    code, current, _c = await _get(api, f"/v1/identifiers/{did}")
    document = current["didDocument"]
    backup_vm = {"id": f"{did}#backup", "type": "Multikey", "controller": did,
                 "publicKeyMultibase": backup.public_key.multikey}
    with_backup = {**document, "verificationMethod": [*document["verificationMethod"], backup_vm],
                   "assertionMethod": [*document["assertionMethod"], f"{did}#backup"]}
    code, body, _r = await api.call("PUT", f"/v1/identifiers/{did}", {"didDocument": with_backup}, token)
    assert code == 200, body
    signed = issue(credential(did), secret_key=backup.multikey, suite="eddsa-rdfc-2022",
                   verification_method=f"{did}#backup", created=_now_stamp())
    code, verdict, _r = await api.call("POST", "/v1/credentials/verify", {"verifiableCredential": signed})
    assert verdict["verified"] is True, verdict
    await asyncio.sleep(1.1)
    code, body, _r = await api.call("PUT", f"/v1/identifiers/{did}", {"didDocument": document}, token)
    assert code == 200, body  # a routine removal: what K2 signed before still verifies
    code, verdict, _r = await api.call("POST", "/v1/credentials/verify", {"verifiableCredential": signed})
    assert verdict["verified"] is True, verdict
    code, body, _r = await api.call("PUT", f"/v1/identifiers/{did}",
                                    {"didDocument": document,
                                     "compromisedKeys": [backup.public_key.multikey]}, token)
    assert code == 200, body
    declared = body["didDocumentMetadata"]["compromisedKeys"]
    assert declared[0]["publicKeyMultibase"] == backup.public_key.multikey
    code, verdict, _r = await api.call("POST", "/v1/credentials/verify", {"verifiableCredential": signed})
    assert code == 200 and verdict["verified"] is False
    proof = next(check for check in verdict["checks"] if check["check"] == "proof")
    assert proof["verified"] is False and "#backup is not authorized" in json.dumps(proof)


def _now_stamp() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


async def test_rotation_update_and_deactivation(api: IssuerNode) -> None:
    """A rotated key keeps its old credentials verifiable (versionTime = proof created); versionId
    selects history; deactivation gives 410 with the final document."""
    code, body, _r = await api.call("POST", "/v1/credentials/issue",
                                    {"credential": credential(api.issuer_did)}, api.issuer_token)
    assert code == 201
    old_vc = body["verifiableCredential"]
    await asyncio.sleep(1.1)  # the proof's created (second precision) must precede the rotation
    code, rotated, _r = await api.call("POST", f"/v1/issuers/{api.issuer_did}/keys", {}, api.admin)
    assert code == 201, rotated
    code, result, _c = await _get(api, f"/v1/identifiers/{api.issuer_did}")
    assert result["didDocumentMetadata"]["versionId"] == "2"
    assert rotated["publicKeyMultibase"] in str(result["didDocument"])
    code, first, _c = await _get(api, f"/v1/identifiers/{api.issuer_did}?versionId=1")
    assert code == 200 and first["didDocumentMetadata"]["nextVersionId"] == "2"
    at_creation = urllib.parse.quote(first["didDocumentMetadata"]["created"])
    code, then, _c = await _get(api, f"/v1/identifiers/{api.issuer_did}?versionTime={at_creation}")
    assert code == 200 and then["didDocumentMetadata"]["versionId"] == "1"
    code, bad, _c = await _get(api, f"/v1/identifiers/{api.issuer_did}?versionId=x")
    assert code == 400 and bad["didResolutionMetadata"]["error"]["type"].endswith("INVALID_OPTIONS")
    for vc in (old_vc,):
        code, verdict, _r = await api.call("POST", "/v1/credentials/verify", {"verifiableCredential": vc})
        assert verdict["verified"] is True, verdict
    code, body, _r = await api.call("POST", "/v1/credentials/issue",
                                    {"credential": credential(api.issuer_did)}, api.issuer_token)
    assert code == 201
    assert body["verifiableCredential"]["proof"]["verificationMethod"].endswith(rotated["publicKeyMultibase"])
    code, verdict, _r = await api.call("POST", "/v1/credentials/verify",
                                       {"verifiableCredential": body["verifiableCredential"]})
    assert verdict["verified"] is True
    code, current, _c = await _get(api, f"/v1/identifiers/{api.issuer_did}")
    service = {"id": f"{api.issuer_did}#website", "type": "LinkedDomains",
               "serviceEndpoint": "https://gemeente.example"}
    document = {**current["didDocument"], "service": [service]}
    stale = first["didDocumentMetadata"]["versionHash"]
    code, problem, _r = await api.call("PUT", f"/v1/identifiers/{api.issuer_did}",
                                       {"didDocument": document, "prev": stale}, api.issuer_token)
    assert code == 409 and problem["rule"] == "prev-mismatch"
    fresh = current["didDocumentMetadata"]["versionHash"]
    code, updated, _r = await api.call("PUT", f"/v1/identifiers/{api.issuer_did}",
                                       {"didDocument": document, "prev": fresh}, api.issuer_token)
    assert code == 200 and updated["state"] == "finished", updated
    assert updated["didDocument"]["service"][0]["serviceEndpoint"] == "https://gemeente.example"
    code, problem, _r = await api.call("PUT", f"/v1/identifiers/{api.issuer_did}", {"didDocument": document},
                                       api.admin)
    assert code == 403
    code, gone, _r = await api.call("DELETE", f"/v1/identifiers/{api.issuer_did}", token=api.issuer_token)
    assert code == 200, gone
    code, result, _c = await _get(api, f"/v1/identifiers/{api.issuer_did}")
    assert code == 410 and result["didDocumentMetadata"]["deactivated"] is True
