"""DID routes: resolution (``/v1/identifiers/{did}`` and the Universal Resolver driver path
``/1.0/identifiers/{did}``), the registrar (create, update, deactivate DIDs whose keys the node holds) and
issuer key rotation. Answers are built by :mod:`ledgr.node.resolution`; see docs/api.md for the media
types and error forms."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from aiohttp import web

from ledgr.api.auth import require_issuer_scope
from ledgr.api.bodies import query_bool
from ledgr.api.context import node_of
from ledgr.api.routes_admin import issuer_json
from ledgr.api.services import Services, services_of
from ledgr.api.vc_bodies import json_object, member, required
from ledgr.did.resolver import resolve
from ledgr.errors import Conflict, DidDeactivated, DidNotFound, InvalidInput, Unprocessable
from ledgr.ledger.records import LedgerDidReader
from ledgr.node.issuing import ledgr_template
from ledgr.node.resolution import Answer, answer, negotiate

MAX_QUERY_CHARS = 128


def _query(request: web.Request, name: str) -> str | None:
    value = request.query.get(name)
    if value is not None and (len(value) > MAX_QUERY_CHARS or not value):
        raise InvalidInput(f"query parameter {name} must be 1-{MAX_QUERY_CHARS} characters")
    return value


async def resolve_did(request: web.Request) -> web.Response:
    representation, problem = negotiate(request.headers.get("Accept"))
    found: Answer = answer(node_of(request).chain, request.match_info["did"], representation, problem,
                           version_id=_query(request, "versionId"),
                           version_time=_query(request, "versionTime"), proof=query_bool(request, "proof"))
    if found.problem is not None and found.status >= 400 and found.status != 410:
        return web.Response(status=found.status, text=json.dumps({**found.problem, "instance": request.path}),
                            content_type="application/problem+json")
    return _send(found)


def _send(found: Answer) -> web.Response:
    response = web.Response(status=found.status, body=json.dumps(found.body, ensure_ascii=False).encode())
    response.headers["Content-Type"] = found.content_type
    return response


def _current(services: Services, did: str) -> dict[str, Any]:
    result = services.node.chain.store.read(lambda view: resolve(did, LedgerDidReader(view)))
    if result.error == "notFound":
        raise DidNotFound(f"{did} is not on this ledger")
    if result.error is not None or result.did_document is None:
        raise InvalidInput(f"{did}: {result.resolution_metadata.get('errorMessage')}")
    if result.document_metadata.get("deactivated"):
        raise DidDeactivated(f"{did} was deactivated")
    return result.to_json()


def _registration(services: Services, did: str, receipt: dict[str, Any], status: int) -> web.Response:
    current = services.node.chain.store.read(lambda view: resolve(did, LedgerDidReader(view)))
    body = {"did": did, "state": "finished", "operationHash": receipt["hash"],
            "didDocument": current.did_document, "didDocumentMetadata": current.document_metadata}
    headers = {"Location": f"/v1/identifiers/{did}"} if status == 201 else None
    return web.json_response(body, status=status, headers=headers)


async def create_did(request: web.Request) -> web.Response:
    services = services_of(request)
    body = await json_object(request)
    method = required(body, "verificationMethod", str)
    if body.get("didDocument") is not None:
        raise Unprocessable("this registrar builds the document from the issuer key; omit didDocument and "
                            "update the DID afterwards (PUT /v1/identifiers/{did})")
    did, template = services.issuer.create_template(method)
    require_issuer_scope(request, did)
    actor = services.actor(request)
    receipt = await services.issuer.submit("did.create", did, {"document": template}, None, method)
    services.audit.record("did.created", actor=actor, did=did, operationHash=receipt["hash"])
    return _registration(services, did, receipt, 201)


async def update_did(request: web.Request) -> web.Response:
    services = services_of(request)
    did = request.match_info["did"]
    body = await json_object(request)
    document = required(body, "didDocument", dict)
    prev = member(body, "prev", str)
    compromised = member(body, "compromisedKeys", list)
    if compromised is not None and (not compromised or len(compromised) > 16
                                    or not all(isinstance(k, str) for k in compromised)):
        raise InvalidInput("compromisedKeys is a list of 1-16 publicKeyMultibase strings",
                           property="compromisedKeys")
    require_issuer_scope(request, did)
    actor = services.actor(request)
    current = _current(services, did)
    version_hash = current["didDocumentMetadata"]["versionHash"]
    if prev is not None and prev != version_hash:
        raise Conflict(f"{did} changed: its current version is {version_hash}", rule="prev-mismatch")
    key = services.issuer.issuer(did).active_key
    update: dict[str, Any] = {"document": document}
    if compromised:
        update["compromisedKeys"] = compromised
    receipt = await services.issuer.submit("did.update", did, update, bytes.fromhex(version_hash), key.id)
    services.audit.record("did.updated", actor=actor, did=did, operationHash=receipt["hash"])
    return _registration(services, did, receipt, 200)


async def deactivate_did(request: web.Request) -> web.Response:
    services = services_of(request)
    did = request.match_info["did"]
    require_issuer_scope(request, did)
    actor = services.actor(request)
    current = _current(services, did)
    key = services.issuer.issuer(did).active_key
    prev = bytes.fromhex(current["didDocumentMetadata"]["versionHash"])
    receipt = await services.issuer.submit("did.deactivate", did, {}, prev, key.id)
    services.audit.record("did.deactivated", actor=actor, did=did, operationHash=receipt["hash"])
    return _registration(services, did, receipt, 200)


async def rotate_key(request: web.Request) -> web.Response:
    """Rotate an issuer key; for a did:ledgr on the ledger, also publish the new key (``did.update``
    signed by the key being retired, which still controls the DID) so old and new credentials verify."""
    services = services_of(request)
    did = request.match_info["did"]
    if request.can_read_body:
        await json_object(request)
    actor = services.actor(request)
    keystore = services.issuer.keystore()
    old = keystore.issuer(did).active_key
    on_ledger = did.startswith("did:ledgr:") and services.node.chain.store.read(
        lambda view: LedgerDidReader(view).did_head(did)) is not None
    current = _current(services, did) if on_ledger else None
    info = keystore.rotate_key(did, now=datetime.now(UTC))
    new = info.active_key
    if current is not None:
        document = services.issuer.document_for(did, ledgr_template(keystore.public_key(new.id)))
        receipt = await services.issuer.submit("did.update", did, {"document": document},
                                               bytes.fromhex(current["didDocumentMetadata"]["versionHash"]),
                                               old.id, retired_ok=True)
        services.audit.record("did.updated", actor=actor, did=did, operationHash=receipt["hash"])
    services.audit.record("issuer.key-rotated", actor=actor, issuer=did, verificationMethod=new.id)
    return web.json_response({"issuer": issuer_json(request, info),
                              "publicKeyMultibase": new.public_key_multibase}, status=201)


def register(app: web.Application) -> None:
    app.router.add_get("/v1/identifiers/{did:.+}", resolve_did)
    app.router.add_get("/1.0/identifiers/{did:.+}", resolve_did)
    app.router.add_post("/v1/identifiers", create_did)
    app.router.add_put("/v1/identifiers/{did:.+}", update_did)
    app.router.add_delete("/v1/identifiers/{did:.+}", deactivate_did)
    app.router.add_post("/v1/issuers/{did}/keys", rotate_key)
