"""A real one-validator node with the issuer/verifier API (in process, real LMDB, real sockets, the
real spawn worker pool), plus an admin token, a did:ledgr issuer published through the registrar and
a token for it. Shared by the ``test_routes_*`` modules (module-scoped: one node per module)."""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web

from ledgr.api.app import create_app
from ledgr.api.tokens import TokenStore
from ledgr.crypto import PrivateKey, sealed
from ledgr.ledger.genesis import DEFAULT_PARAMS, Genesis
from ledgr.ledger.validators import Validator, ValidatorSet
from ledgr.node.config import load_config
from ledgr.node.config_toml import render_node_toml
from ledgr.node.keyfile import write_secret_key
from ledgr.node.keystore import Keystore, secret_from_passphrase
from ledgr.node.runtime import Node

PASSPHRASE = "correct horse battery staple"
T0 = datetime(2026, 11, 25, 8, 0, tzinfo=UTC)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def credential(issuer: str, subject: str = "did:example:alice", **extra: Any) -> dict[str, Any]:
    return {"@context": ["https://www.w3.org/ns/credentials/v2"], "type": ["VerifiableCredential"],
            "issuer": issuer, "validFrom": "2026-01-01T00:00:00Z",
            "credentialSubject": {"id": subject, "name": "Alice"}, **extra}


@dataclass
class IssuerNode:
    base: str
    session: aiohttp.ClientSession
    node: Node
    data_dir: Path
    tokens: TokenStore
    admin: str
    app: web.Application
    issuer_did: str = ""
    issuer_token: str = ""

    async def call(self, method: str, path: str, body: Any = None, token: str | None = None,
                   headers: dict[str, str] | None = None, raw: bytes | None = None,
                   ) -> tuple[int, Any, aiohttp.ClientResponse]:
        all_headers = dict(headers or {})
        if token:
            all_headers["Authorization"] = f"Bearer {token}"
        data = raw if raw is not None else (None if body is None else json.dumps(body).encode())
        if data is not None:
            all_headers.setdefault("Content-Type", "application/json")
        async with self.session.request(method, self.base + path, data=data, headers=all_headers) as resp:
            text = await resp.text()
            try:
                parsed = json.loads(text) if text else None
            except ValueError:
                parsed = text
            return resp.status, parsed, resp


async def start_issuer_node(directory: Path) -> AsyncIterator[IssuerNode]:
    key, admin_key = PrivateKey.generate(), PrivateKey.generate()
    write_secret_key(directory / "validator.key", key)
    validators = ValidatorSet((Validator("solo", key.public_key, admin_key.public_key),))
    genesis = Genesis("vcapi-test", 1_700_000_000_000, validators, dict(DEFAULT_PARAMS))
    (directory / "genesis.json").write_text(json.dumps(genesis.to_json()))
    (directory / "passphrase").write_text(PASSPHRASE + "\n")
    api_port = free_port()
    (directory / "node.toml").write_text(render_node_toml(
        name="solo", api_host="127.0.0.1", api_port=api_port, p2p_host="127.0.0.1", p2p_port=free_port(),
        peers=[]))
    config = load_config(directory / "node.toml", environ={
        "LEDGR_API_KEYSTORE_PASSPHRASE_FILE": str(directory / "passphrase"),
        "LEDGR_API_MAX_BODY_BYTES": str(256 * 1024)})
    Keystore.create(config.data_dir / "keystore", secret_from_passphrase(PASSPHRASE),
                    params=sealed.TEST_ONLY_MINIMUM)
    tokens = TokenStore(config.data_dir / "api")
    admin, _ = tokens.create(["admin"], label="admin", now=T0)
    node = Node(config)
    await node.start()
    app = create_app(node)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", api_port).start()
    try:
        async with aiohttp.ClientSession() as session:
            client = IssuerNode(f"http://127.0.0.1:{api_port}", session, node, config.data_dir, tokens, admin,
                                app)
            for _ in range(200):
                if node.chain.height >= 1:
                    break
                await asyncio.sleep(0.05)
            status, issuer, _r = await client.call("POST", "/v1/issuers",
                                                   {"label": "Gemeente Test", "didMethod": "ledgr"}, admin)
            assert status == 201, issuer
            client.issuer_did = issuer["did"]
            client.issuer_token, _ = tokens.create(
                [f"issue:{issuer['did']}", f"status:{issuer['did']}"], label="issuer", now=T0)
            status, created, _r = await client.call("POST", "/v1/identifiers",
                                                    {"verificationMethod": issuer["verificationMethod"]},
                                                    client.issuer_token)
            assert status == 201, created
            yield client
    finally:
        await runner.cleanup()
        await node.stop()
