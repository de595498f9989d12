"""The W3C VC API of a real node: issue (both suites, with status entries), verify, revoke, suspend,
status list credentials served from the ledger, presentations with challenge and domain."""

from __future__ import annotations

import copy
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from ledgr.crypto import PrivateKey
from ledgr.did.key import did_key_from_public_key
from ledgr.vc import create_presentation, sign_presentation
from tests.unit.api.issuer_node import T0, IssuerNode, credential, start_issuer_node

pytestmark = pytest.mark.asyncio(loop_scope="module")


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def api(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[IssuerNode]:
    directory: Path = tmp_path_factory.mktemp("vcnode")
    async for client in start_issuer_node(directory):
        yield client


async def _issue(api: IssuerNode, suite: str, status: str | None = None, **extra: Any) -> dict[str, Any]:
    options: dict[str, Any] = {"cryptosuite": suite}
    if status:
        options["credentialStatus"] = {"statusPurpose": status}
    code, body, response = await api.call("POST", "/v1/credentials/issue",
                                          {"credential": credential(api.issuer_did, **extra),
                                           "options": options}, api.issuer_token)
    assert code == 201, body
    assert response.headers["API-Version"] == "1.0.0"
    vc: dict[str, Any] = body["verifiableCredential"]
    return vc


async def _verify(api: IssuerNode, vc: dict[str, Any]) -> dict[str, Any]:
    code, result, _r = await api.call("POST", "/v1/credentials/verify", {"verifiableCredential": vc})
    assert code == 200, result
    assert isinstance(result, dict)
    return result


def _check(result: dict[str, Any], name: str) -> dict[str, Any]:
    found: dict[str, Any] = next(c for c in result["checks"] if c["check"] == name)
    return found


@pytest.mark.parametrize("suite", ["eddsa-rdfc-2022", "eddsa-jcs-2022", "Ed25519Signature2020"])
async def test_issue_and_verify_each_suite(api: IssuerNode, suite: str) -> None:
    vc = await _issue(api, suite)
    proof = vc["proof"]
    assert proof["verificationMethod"].startswith(api.issuer_did + "#")
    assert proof.get("cryptosuite", suite) == suite or proof["type"] == suite
    result = await _verify(api, vc)
    assert result["verified"] is True, result["checks"]
    assert _check(result, "issuer-binding")["verified"] is True


async def test_tampered_credential_fails_verification(api: IssuerNode) -> None:
    vc = await _issue(api, "eddsa-rdfc-2022")
    tampered = copy.deepcopy(vc)
    tampered["credentialSubject"]["name"] = "Mallory"
    result = await _verify(api, tampered)
    assert result["verified"] is False
    assert _check(result, "proof")["verified"] is False


async def test_revocation_round_trip(api: IssuerNode) -> None:
    vc = await _issue(api, "eddsa-rdfc-2022", status="revocation")
    entry = vc["credentialStatus"]
    assert entry["statusListCredential"].startswith(api.base + "/v1/status-lists/")
    assert (await _verify(api, vc))["verified"] is True
    code, changed, _r = await api.call("POST", "/v1/credentials/status",
                                       {"credentialStatus": entry, "action": "revoke"}, api.issuer_token)
    assert code == 200, changed
    assert changed["set"] is True and len(changed["operationHash"]) == 64
    result = await _verify(api, vc)
    assert result["verified"] is False
    assert _check(result, "status")["verified"] is False
    code, unchecked, _r = await api.call("POST", "/v1/credentials/verify",
                                         {"verifiableCredential": vc, "options": {"checkStatus": False}})
    assert code == 200 and unchecked["verified"] is True
    assert "status" not in {c["check"] for c in unchecked["checks"]}
    slug = entry["statusListCredential"].rsplit("/", 1)[-1]
    code, listed, response = await api.call("GET", f"/v1/status-lists/{slug}")
    assert code == 200 and response.content_type == "application/vc+ld+json"
    assert listed["id"] == entry["statusListCredential"] and listed["issuer"] == api.issuer_did
    code, problem, _r = await api.call("POST", "/v1/credentials/status",
                                       {"credentialStatus": entry, "action": "unsuspend"}, api.issuer_token)
    assert code == 422 and "suspension" in problem["detail"]


async def test_suspend_and_unsuspend(api: IssuerNode) -> None:
    vc = await _issue(api, "eddsa-jcs-2022", status="suspension")
    entry = vc["credentialStatus"]
    for action, verified in (("suspend", False), ("unsuspend", True)):
        code, body, _r = await api.call("POST", "/v1/credentials/status",
                                        {"credentialStatus": entry, "action": action}, api.issuer_token)
        assert code == 200, body
        assert (await _verify(api, vc))["verified"] is verified


async def test_two_credentials_get_different_random_indexes(api: IssuerNode) -> None:
    first = await _issue(api, "eddsa-jcs-2022", status="revocation")
    second = await _issue(api, "eddsa-jcs-2022", status="revocation")
    a, b = first["credentialStatus"], second["credentialStatus"]
    assert a["statusListCredential"] == b["statusListCredential"]
    assert a["statusListIndex"] != b["statusListIndex"]


async def test_presentation_challenge_and_domain(api: IssuerNode) -> None:
    vc = await _issue(api, "eddsa-rdfc-2022")
    holder = PrivateKey.generate()
    vp = create_presentation([vc], holder=did_key_from_public_key(holder.public_key))
    signed = sign_presentation(vp, secret_key=holder.multikey, suite="eddsa-jcs-2022", challenge="nonce-1",
                               domain="verifier.example")

    async def verify(options: dict[str, str]) -> dict[str, Any]:
        code, result, _r = await api.call("POST", "/v1/presentations/verify",
                                          {"verifiablePresentation": signed, "options": options})
        assert code == 200, result
        assert isinstance(result, dict)
        return result

    assert (await verify({"challenge": "nonce-1", "domain": "verifier.example"}))["verified"] is True
    assert (await verify({"challenge": "nonce-2", "domain": "verifier.example"}))["verified"] is False
    assert (await verify({"challenge": "nonce-1", "domain": "evil.example"}))["verified"] is False


async def test_metrics_count_issuing_verification_and_status_changes(api: IssuerNode) -> None:
    vc = await _issue(api, "eddsa-rdfc-2022", status="revocation")
    code, _body, _r = await api.call("POST", "/v1/credentials/status",
                                     {"credentialStatus": vc["credentialStatus"], "action": "revoke"},
                                     api.issuer_token)
    assert code == 200 and (await _verify(api, vc))["verified"] is False
    code, text, _r = await api.call("GET", "/metrics")
    assert code == 200
    assert 'ledgr_vc_issued_total{cryptosuite="eddsa-rdfc-2022"}' in text
    assert 'ledgr_vc_verifications_total{type="VerifiableCredential",verified="false"}' in text
    assert 'ledgr_vc_status_changes_total{action="revoke"}' in text and "ledgr_vc_pool_jobs" in text


async def test_discovery_lists_the_issuer_and_suites(api: IssuerNode) -> None:
    code, body, _r = await api.call("GET", "/v1/discovery")
    assert code == 200
    assert api.issuer_did in [issuer["did"] for issuer in body["issuers"]]
    assert {"eddsa-rdfc-2022", "eddsa-jcs-2022"} <= {suite["name"] for suite in body["cryptosuites"]}
    assert all("sealedSecretKey" not in str(issuer) for issuer in body["issuers"])


async def test_did_key_issuer_with_a_status_list(api: IssuerNode) -> None:
    code, issuer, _r = await api.call("POST", "/v1/issuers", {"label": "did:key issuer"}, api.admin)
    assert code == 201 and issuer["did"].startswith("did:key:")
    token, _ = api.tokens.create([f"issue:{issuer['did']}", f"status:{issuer['did']}"], label="key",
                                 now=T0)
    code, body, _r = await api.call("POST", "/v1/credentials/issue",
                                    {"credential": credential(issuer["did"]),
                                     "options": {"credentialStatus": {"statusPurpose": "revocation"}}}, token)
    assert code == 201, body
    vc = body["verifiableCredential"]
    assert (await _verify(api, vc))["verified"] is True
    change = {"credentialStatus": vc["credentialStatus"], "action": "revoke"}
    code, _changed, _r = await api.call("POST", "/v1/credentials/status", change, token)
    assert code == 200
    assert (await _verify(api, vc))["verified"] is False
