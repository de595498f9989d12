"""W3C VC API routes: issue, verify credentials and presentations, status changes, status lists.

Verification follows the VC API: 200 with the verification result when the process ran, whatever its
outcome (``verified: false`` with the failed checks); 400 (413) when the input is malformed so that
verification could not be performed (not JSON, wrong member types, not a credential, an unknown JSON-LD
context, an undefined term), with the engine's errors in the problem's ``errors``. Issuing answers 201.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from ledgr.api.auth import require_issuer_scope, require_status_scope
from ledgr.api.services import services_of
from ledgr.api.vc_bodies import issuer_of, json_object, member, required
from ledgr.errors import InvalidDocument, InvalidInput, NotFound, Unprocessable
from ledgr.node.issuing import SUITES

VC_LD_JSON = "application/vc+ld+json"
# result error codes meaning "could not verify: malformed input" (VC API: 400, not a 200 result;
# a processing limit such as a poisoned blank-node graph: 422)
INPUT_CODES = {"invalid-input", "invalid-document", "invalid-encoding", "unknown-context", "unmapped-term",
               "too-large"}
MAX_CHALLENGE_CHARS = 256
MAX_DOMAIN_CHARS = 2048


def _result_response(request: web.Request, result: dict[str, Any]) -> web.Response:
    outcome = "true" if result.get("verified") else "false"
    services_of(request).metrics.verified.labels(str(result.get("type")), outcome).inc()
    codes = {error.get("code") for error in result.get("errors", []) if isinstance(error, dict)}
    for check in result.get("checks", []):
        codes |= {e.get("code") for e in check.get("errors", []) if isinstance(e, dict)}
    input_codes = codes & INPUT_CODES
    if not result.get("verified") and input_codes:
        detail = "; ".join(str(e.get("message")) for e in _all_errors(result)[:3])
        if input_codes == {"too-large"}:
            raise Unprocessable(f"the input exceeds a processing limit: {detail}",
                                errors=_all_errors(result)[:32])
        raise InvalidDocument(f"the input is malformed and could not be verified: {detail}",
                              errors=_all_errors(result)[:32])
    return web.json_response(result)


def _all_errors(result: dict[str, Any]) -> list[dict[str, Any]]:
    errors = [e for e in result.get("errors", []) if isinstance(e, dict)]
    for check in result.get("checks", []):
        errors.extend(e for e in check.get("errors", []) if isinstance(e, dict))
    return errors


async def issue_credential(request: web.Request) -> web.Response:
    services = services_of(request)
    body = await json_object(request)
    credential = required(body, "credential", dict)
    options = member(body, "options", dict) or {}
    issuer = issuer_of(credential)
    require_issuer_scope(request, issuer)
    actor = services.actor(request)
    suite = member(options, "cryptosuite", str, where="options") or "eddsa-rdfc-2022"
    if suite not in SUITES:
        raise InvalidInput(f"options.cryptosuite must be one of {', '.join(SUITES)}", property="cryptosuite")
    services.issuer.issuer(issuer)  # 404 before any status list work when the node lacks the key
    status = member(options, "credentialStatus", dict, where="options")
    if status is not None:
        if "credentialStatus" in credential:
            raise InvalidInput("the credential already has credentialStatus; do not also ask for one",
                               property="credentialStatus")
        purpose = required(status, "statusPurpose", str, where="options.credentialStatus")
        list_id = member(status, "statusList", str, where="options.credentialStatus")
        entry = await services.status.new_entry(issuer, purpose, list_id)
        credential = {**credential, "credentialStatus": entry}
    signed = await services.issuer.sign_credential(issuer, credential, suite)
    fields: dict[str, Any] = {"issuer": issuer, "cryptosuite": suite, "outcome": "ok"}
    if isinstance(signed.get("id"), str) and len(signed["id"]) <= 512:
        fields["credentialId"] = signed["id"]
    if status is not None:
        fields["statusList"] = signed["credentialStatus"]["statusListCredential"]
        fields["statusListIndex"] = signed["credentialStatus"]["statusListIndex"]
    services.audit.record("credential.issued", actor=actor, **fields)
    services.metrics.issued.labels(suite).inc()
    return web.json_response({"verifiableCredential": signed}, status=201)


async def verify_credential(request: web.Request) -> web.Response:
    body = await json_object(request)
    credential = required(body, "verifiableCredential", dict)
    options = member(body, "options", dict) or {}
    checks = None
    if member(options, "checkStatus", bool, where="options") is False:
        issuer = credential.get("issuer")
        issuer = issuer.get("id") if isinstance(issuer, dict) else issuer
        # a named issuer-binding check fails for a non-DID issuer; unnamed it is only a warning
        binding = ["issuer-binding"] if isinstance(issuer, str) and issuer.startswith("did:") else []
        checks = ["proof", "validity", "schema", *binding]
    result = await services_of(request).issuer.verify(credential, checks=checks)
    return _result_response(request, result)


async def verify_presentation(request: web.Request) -> web.Response:
    body = await json_object(request)
    presentation = required(body, "verifiablePresentation", dict)
    options = member(body, "options", dict) or {}
    challenge = member(options, "challenge", str, where="options")
    domain = member(options, "domain", str, where="options")
    if challenge is not None and len(challenge) > MAX_CHALLENGE_CHARS:
        raise InvalidInput(f"options.challenge is at most {MAX_CHALLENGE_CHARS} characters")
    if domain is not None and len(domain) > MAX_DOMAIN_CHARS:
        raise InvalidInput(f"options.domain is at most {MAX_DOMAIN_CHARS} characters")
    result = await services_of(request).issuer.verify(presentation, challenge=challenge, domain=domain)
    return _result_response(request, result)


async def update_status(request: web.Request) -> web.Response:
    services = services_of(request)
    body = await json_object(request)
    entry = required(body, "credentialStatus", dict)
    action = required(body, "action", str)
    issuer, _record = services.status.owner(entry)
    require_status_scope(request, issuer)
    services.actor(request)
    answer = await services.status.change(entry, action)
    services.metrics.status_changes.labels(action).inc()
    return web.json_response(answer)


async def create_status_list(request: web.Request) -> web.Response:
    services = services_of(request)
    body = await json_object(request)
    issuer = required(body, "issuer", str)
    purpose = required(body, "statusPurpose", str)
    length = member(body, "length", int) or 131072
    require_issuer_scope(request, issuer)
    services.actor(request)
    url, op_hash = await services.status.create(issuer, purpose, length)
    slug = url.rsplit("/", 1)[-1]
    return web.json_response({"id": slug, "statusListCredential": url, "operationHash": op_hash}, status=201,
                             headers={"Location": f"/v1/status-lists/{slug}"})


async def get_status_list(request: web.Request) -> web.Response:
    desk = services_of(request).status
    slug = request.match_info["id"]
    record = desk.read(desk.list_url(slug)) if len(slug) <= 128 else None
    if record is None:
        raise NotFound(f"no status list {slug} on this ledger")
    return web.json_response(record.credential, content_type=VC_LD_JSON)


def register(app: web.Application) -> None:
    app.router.add_post("/v1/credentials/issue", issue_credential)
    app.router.add_post("/v1/credentials/verify", verify_credential)
    app.router.add_post("/v1/presentations/verify", verify_presentation)
    app.router.add_post("/v1/credentials/status", update_status)
    app.router.add_post("/v1/status-lists", create_status_list)
    app.router.add_get("/v1/status-lists/{id}", get_status_list)
