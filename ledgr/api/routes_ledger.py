"""Ledger endpoints (issue 5 "Ledger HTTP endpoints"; consensus.md §1.4 and §2.2).

- ``POST /v1/operations``: a signed operation envelope, either raw (``application/octet-stream``) or
  as JSON ``{"envelope": "<base64url>"}`` → 202 with its hash; 400/409/413/422/429 problem+json
  naming the rule. Forwarding to the other validators is automatic. With ``?wait=SECONDS`` the
  answer waits for the outcome: 200 with the same body as ``GET /v1/operations/{hash}`` once it is
  committed or rejected, else still 202 (CometBFT's ``broadcast_tx_commit``; one request instead of
  two for clients that want to wait anyway).
- ``GET /v1/operations/{hash}?wait=SECONDS``: pending / committed (height, index, header, QC,
  inclusion proof) / rejected (reason).
- ``GET /v1/blocks/latest``, ``GET /v1/blocks/{height}``: header, operations, QC.
- ``GET /v1/state/{kind}/{id}?proof=true``: a state value with its SMT proof, header and QC — what a
  verifier needs to trust one node (consensus.md §2.2).
"""

from __future__ import annotations

import base64
import binascii

from aiohttp import web

from ledgr.api.bodies import path_int, query_bool, query_float, read_json
from ledgr.api.context import node_of
from ledgr.errors import InvalidInput, TooLarge

HASH_HEX_CHARS = 64


def _decode_b64(text: str) -> bytes:
    padded = text + "=" * (-len(text) % 4)
    try:
        if "-" in text or "_" in text:
            return base64.urlsafe_b64decode(padded)
        return base64.b64decode(padded, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise InvalidInput("envelope is not valid base64 / base64url") from exc


async def submit_operation(request: web.Request) -> web.Response:
    node = node_of(request)
    limit = node.config.mempool.max_op_bytes
    if request.content_type == "application/octet-stream":
        envelope = await request.content.read(limit + 1)
        if len(envelope) > limit:
            raise TooLarge(f"operation exceeds {limit} bytes", limit=limit)
    else:
        body = await read_json(request, node.config.api.max_body_bytes)
        if not isinstance(body, dict) or not isinstance(body.get("envelope"), str):
            raise InvalidInput('expected a JSON object {"envelope": "<base64url of the signed envelope>"}')
        envelope = _decode_b64(body["envelope"])
    wait_s = query_float(request, "wait", 0.0, 0.0, node.config.api.max_wait_s)
    op_hash, new = await node.desk.submit(envelope)
    location = f"/v1/operations/{op_hash}"
    if wait_s > 0:
        answer = await node.desk.wait_status(bytes.fromhex(op_hash), wait_s)
        if answer["status"] != "pending":
            return web.json_response({**answer, "duplicate": not new, "location": location}, status=200,
                                     headers={"Location": location})
    return web.json_response({"hash": op_hash, "status": "accepted", "duplicate": not new,
                              "location": location}, status=202, headers={"Location": location})


def _hash_param(request: web.Request) -> bytes:
    raw = request.match_info["hash"].lower()
    if len(raw) != HASH_HEX_CHARS:
        raise InvalidInput("an operation hash is 64 hexadecimal characters")
    try:
        return bytes.fromhex(raw)
    except ValueError as exc:
        raise InvalidInput("an operation hash is 64 hexadecimal characters") from exc


async def get_operation(request: web.Request) -> web.Response:
    node = node_of(request)
    wait_s = query_float(request, "wait", 0.0, 0.0, node.config.api.max_wait_s)
    return web.json_response(await node.desk.wait_status(_hash_param(request), wait_s))


async def latest_block(request: web.Request) -> web.Response:
    return web.json_response(node_of(request).block(None))


async def block_at(request: web.Request) -> web.Response:
    return web.json_response(node_of(request).block(path_int(request, "height")))


async def read_state(request: web.Request) -> web.Response:
    node = node_of(request)
    kind = request.match_info["kind"]
    ident = request.match_info["id"]
    if len(ident) > 2048:
        raise InvalidInput("state id longer than 2048 characters")
    proof = query_bool(request, "proof")
    return web.json_response(node.chain.state_json(kind, ident, proof))


async def genesis(request: web.Request) -> web.Response:
    """The network's genesis document (clients pin it to check certified reads)."""
    chain = node_of(request).chain
    return web.json_response({"genesis": chain.genesis.to_json(), "genesis_hash": chain.genesis_hash_hex})


def register(app: web.Application) -> None:
    app.router.add_get("/v1/genesis", genesis)
    app.router.add_post("/v1/operations", submit_operation)
    app.router.add_get("/v1/operations/{hash}", get_operation)
    app.router.add_get("/v1/blocks/latest", latest_block)
    app.router.add_get("/v1/blocks/{height}", block_at)
    app.router.add_get("/v1/state/{kind}/{id:.+}", read_state)
