"""Admin and issuer routes: API tokens (``/v1/tokens``) and the issuers held in the keystore
(``/v1/issuers``, discovery). Private keys never appear in any answer; changes are audited."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from aiohttp import web

from ledgr.api.audit import redact
from ledgr.api.openapi.paths_vc import CRYPTOSUITES
from ledgr.api.services import services_of
from ledgr.api.vc_bodies import json_object, member, required
from ledgr.errors import InvalidInput
from ledgr.node.issuing import ledgr_did_for_key
from ledgr.node.keystore import IssuerInfo

MAX_TOKEN_LIFETIME_S = 10 * 365 * 86400


def issuer_json(request: web.Request, info: IssuerInfo) -> dict[str, object]:
    desk = services_of(request).status
    lists = [url for purpose in ("revocation", "suspension") for url in desk.lists_of(info.did, purpose)]
    return {**info.to_json(), "cryptosuites": [c["name"] for c in CRYPTOSUITES], "statusLists": lists}


async def list_tokens(request: web.Request) -> web.Response:
    store = services_of(request).tokens
    now = datetime.now(UTC)
    return web.json_response([record.public_json(now) for record in store.list()])


async def create_token(request: web.Request) -> web.Response:
    services = services_of(request)
    actor = services.actor(request)
    body = await json_object(request)
    label = required(body, "label", str)
    scopes = required(body, "scopes", list)
    if not scopes or len(scopes) > 64 or not all(isinstance(s, str) for s in scopes):
        raise InvalidInput("scopes must be a list of 1-64 scope strings", property="scopes")
    lifetime = member(body, "expiresInSeconds", int)
    if lifetime is not None and not 0 < lifetime <= MAX_TOKEN_LIFETIME_S:
        raise InvalidInput(f"expiresInSeconds must be between 1 and {MAX_TOKEN_LIFETIME_S}")
    now = datetime.now(UTC)
    expires_in = None if lifetime is None else timedelta(seconds=lifetime)
    token, record = services.tokens.create(scopes, label=label, now=now, expires_in=expires_in)
    services.audit.record("token.created", actor=actor, tokenId=record.id, scopes=list(record.scopes),
                          label=redact(record.label))
    return web.json_response({**record.public_json(now), "token": token}, status=201,
                             headers={"Location": f"/v1/tokens/{record.id}"})


async def revoke_token(request: web.Request) -> web.Response:
    services = services_of(request)
    actor = services.actor(request)
    token_id = request.match_info["tokenId"]
    now = datetime.now(UTC)
    record = services.tokens.revoke(token_id, now=now)
    services.audit.record("token.revoked", actor=actor, tokenId=record.id)
    return web.json_response(record.public_json(now))


async def list_issuers(request: web.Request) -> web.Response:
    issuers = services_of(request).issuer.issuers()
    return web.json_response([issuer_json(request, info) for info in issuers])


async def get_issuer(request: web.Request) -> web.Response:
    info = services_of(request).issuer.issuer(request.match_info["did"])
    return web.json_response(issuer_json(request, info))


async def create_issuer(request: web.Request) -> web.Response:
    services = services_of(request)
    actor = services.actor(request)
    body = await json_object(request)
    label = required(body, "label", str)
    did = member(body, "did", str)
    secret = member(body, "secretKeyMultibase", str)
    method = member(body, "didMethod", str) or "key"
    if method not in ("key", "ledgr"):
        raise InvalidInput("didMethod must be 'key' or 'ledgr'", property="didMethod")
    # creating/unlocking the keystore runs Argon2id (~0.7 s): off the event loop, which runs consensus
    keystore = await asyncio.to_thread(services.issuer.keystore, create=True)
    now = datetime.now(UTC)
    if secret is not None:
        info = keystore.import_issuer(secret, label, now=now, did=did)
        event = "issuer.imported"
    else:
        derive = ledgr_did_for_key if method == "ledgr" and did is None else None
        info = keystore.create_issuer(label, now=now, did=did, did_for_key=derive)
        event = "issuer.created"
    services.audit.record(event, actor=actor, issuer=info.did, verificationMethod=info.active_key.id,
                          label=redact(info.label))
    return web.json_response(issuer_json(request, info), status=201,
                             headers={"Location": f"/v1/issuers/{info.did}"})


async def discovery(request: web.Request) -> web.Response:
    issuers = services_of(request).issuer.issuers()
    return web.json_response({"issuers": [issuer_json(request, info) for info in issuers],
                              "cryptosuites": CRYPTOSUITES})


def register(app: web.Application) -> None:
    app.router.add_get("/v1/tokens", list_tokens)
    app.router.add_post("/v1/tokens", create_token)
    app.router.add_delete("/v1/tokens/{tokenId}", revoke_token)
    app.router.add_get("/v1/issuers", list_issuers)
    app.router.add_post("/v1/issuers", create_issuer)
    app.router.add_get("/v1/issuers/{did}", get_issuer)
    app.router.add_get("/v1/discovery", discovery)
