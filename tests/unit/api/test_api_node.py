"""The ledger and ops endpoints of a real one-validator node (in process, real LMDB, real sockets):
status codes, problem+json members, the API-Version header, body limits and certified reads."""

from __future__ import annotations

import asyncio
import base64
import json
import socket
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import pytest_asyncio
from aiohttp import web

from ledgr.api.app import create_app
from ledgr.crypto import PrivateKey
from ledgr.ledger.genesis import DEFAULT_PARAMS, Genesis
from ledgr.ledger.validators import Validator, ValidatorSet
from ledgr.node.authoring import create_did, deactivate_did
from ledgr.node.certified import verify_state_answer
from ledgr.node.config import load_config
from ledgr.node.config_toml import render_node_toml
from ledgr.node.keyfile import write_secret_key
from ledgr.node.runtime import Node

pytestmark = pytest.mark.asyncio(loop_scope="module")

PROBLEM = "application/problem+json"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Api:
    def __init__(self, base: str, session: aiohttp.ClientSession, genesis: Genesis, node: Node) -> None:
        self.base = base
        self.session = session
        self.genesis = genesis
        self.node = node

    async def get(self, path: str) -> tuple[int, dict[str, Any], aiohttp.ClientResponse]:
        async with self.session.get(self.base + path) as response:
            return response.status, await response.json(content_type=None), response

    async def post(self, path: str, data: bytes, content_type: str) -> tuple[int, dict[str, Any],
                                                                             aiohttp.ClientResponse]:
        async with self.session.post(self.base + path, data=data,
                                     headers={"Content-Type": content_type}) as response:
            return response.status, await response.json(content_type=None), response


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def api(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Api]:
    directory: Path = tmp_path_factory.mktemp("node")
    key, admin = PrivateKey.generate(), PrivateKey.generate()
    write_secret_key(directory / "validator.key", key)
    validators = ValidatorSet((Validator("solo", key.public_key, admin.public_key),))
    genesis = Genesis("api-test", 1_700_000_000_000, validators, dict(DEFAULT_PARAMS))
    (directory / "genesis.json").write_text(json.dumps(genesis.to_json()))
    api_port = free_port()
    (directory / "node.toml").write_text(render_node_toml(
        name="solo", api_host="127.0.0.1", api_port=api_port, p2p_host="127.0.0.1", p2p_port=free_port(),
        peers=[]) + "\n[mempool]\nmax_op_bytes = 4096\n")
    node = Node(load_config(directory / "node.toml", environ={}))
    await node.start()
    runner = web.AppRunner(create_app(node))
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", api_port).start()
    async with aiohttp.ClientSession() as session:
        client = Api(f"http://127.0.0.1:{api_port}", session, genesis, node)
        for _ in range(100):
            _status, body, _r = await client.get("/v1/status")
            if body.get("height", 0) >= 1:
                break
            await asyncio.sleep(0.05)
        yield client
    await runner.cleanup()
    await node.stop()


async def test_submit_wait_and_read_back_with_a_verified_proof(api: Api) -> None:
    did, envelope = create_did(PrivateKey.generate(), api.genesis.chain_id, 1)
    status, body, response = await api.post("/v1/operations", envelope, "application/octet-stream")
    assert status == 202 and response.headers["Location"] == f"/v1/operations/{body['hash']}"
    assert response.headers["API-Version"] == "1.0.0"
    status, receipt, _ = await api.get(f"/v1/operations/{body['hash']}?wait=10")
    assert status == 200 and receipt["status"] == "committed"
    assert receipt["inclusion_proof"]["tree_size"] >= 1
    status, block, _ = await api.get(f"/v1/blocks/{receipt['height']}")
    assert block["hash"] == receipt["block_hash"] and body["hash"] in block["operations"]
    status, answer, _ = await api.get(f"/v1/state/did/{did}?proof=true")
    state = verify_state_answer(answer, api.genesis.validator_set)
    assert state.values["head"] is not None and state.height >= receipt["height"]
    status, again, _ = await api.post("/v1/operations", json.dumps(
        {"envelope": base64.urlsafe_b64encode(envelope).decode().rstrip("=")}).encode(), "application/json")
    assert status == 202 and again["hash"] == body["hash"] and again["duplicate"] is True


async def test_a_stale_prev_is_rejected_with_409_or_422_naming_the_rule(api: Api) -> None:
    key = PrivateKey.generate()
    did, envelope = create_did(key, api.genesis.chain_id, 1)
    _s, body, _r = await api.post("/v1/operations", envelope, "application/octet-stream")
    await api.get(f"/v1/operations/{body['hash']}?wait=10")
    stale = deactivate_did(key, did, b"\x00" * 32, api.genesis.chain_id, 1)
    status, problem, response = await api.post("/v1/operations", stale, "application/octet-stream")
    assert status in (409, 422)
    assert response.content_type == PROBLEM
    assert problem["rule"] == "prev-mismatch" and problem["status"] == status
    assert problem["instance"] == "/v1/operations"


@pytest.mark.parametrize(("path", "data", "content_type", "status"), [
    ("/v1/operations", b"\x01garbage", "application/octet-stream", 422),
    ("/v1/operations", b"{not json", "application/json", 400),
    ("/v1/operations", b'{"envelope": 5}', "application/json", 400),
    ("/v1/operations", b"x" * 5000, "application/octet-stream", 413),
    ("/v1/operations", b"x" * (2 << 20), "application/json", 413),
])
async def test_bad_submissions_are_problem_json(api: Api, path: str, data: bytes, content_type: str,
                                                status: int) -> None:
    got, problem, response = await api.post(path, data, content_type)
    assert got == status, problem
    assert response.content_type == PROBLEM
    assert problem["status"] == status and problem["type"].startswith("https://ledgr.dev/problems/")


@pytest.mark.parametrize(("path", "status"), [
    ("/v1/operations/zz", 400),
    ("/v1/operations/" + "ab" * 32, 404),
    ("/v1/operations/" + "ab" * 32 + "?wait=abc", 400),
    ("/v1/operations/" + "ab" * 32 + "?wait=100000", 400),
    ("/v1/blocks/999999", 404),
    ("/v1/blocks/-1", 400),
    ("/v1/state/nope/x", 404),
    ("/v1/state/did/did:ledgr:11111111111111111111", 404),
    ("/v1/no-such-route", 404),
])
async def test_lookup_errors_are_problem_json(api: Api, path: str, status: int) -> None:
    got, problem, response = await api.get(path)
    assert got == status, problem
    assert response.content_type == PROBLEM
    assert response.headers["API-Version"] == "1.0.0"


async def test_wrong_method_is_405_problem_json(api: Api) -> None:
    got, problem, response = await api.post("/v1/status", b"{}", "application/json")
    assert got == 405 and response.content_type == PROBLEM and problem["status"] == 405


async def test_status_health_ready_and_metrics(api: Api) -> None:
    _s, status, _r = await api.get("/v1/status")
    for member in ("chain_id", "height", "app_root", "latest_block_time", "validators", "catching_up",
                   "version"):
        assert member in status
    assert status["validators"][0]["self"] is True and status["catching_up"] is False
    assert (await api.get("/v1/health"))[0] == 200
    assert (await api.get("/v1/health/ready"))[0] == 200
    async with api.session.get(api.base + "/metrics") as response:
        text = await response.text()
    assert "ledgr_height " in text and "ledgr_commit_latency_seconds_bucket" in text
    _s, latest, _r = await api.get("/v1/blocks/latest")
    assert latest["height"] == status["height"] or latest["height"] >= status["height"]
    _s, genesis, _r = await api.get("/v1/genesis")
    assert Genesis.from_json(genesis["genesis"]).hash() == api.genesis.hash()


async def test_a_conflicting_operation_accepted_at_entry_is_later_reported_rejected(api: Api) -> None:
    key = PrivateKey.generate()
    did, envelope = create_did(key, api.genesis.chain_id, 1)
    _s, body, _r = await api.post("/v1/operations", envelope, "application/octet-stream")
    _s, created, _r = await api.get(f"/v1/operations/{body['hash']}?wait=10")
    prev = bytes.fromhex(body["hash"])
    first = deactivate_did(key, did, prev, api.genesis.chain_id, created["height"])
    second = deactivate_did(key, did, prev, api.genesis.chain_id, created["height"] + 1)
    answers = await asyncio.gather(api.post("/v1/operations", first, "application/octet-stream"),
                                   api.post("/v1/operations", second, "application/octet-stream"))
    assert [a[0] for a in answers] == [202, 202], "both pass the entry check on the same state"
    outcomes = await asyncio.gather(*(api.get(f"/v1/operations/{a[1]['hash']}?wait=10") for a in answers))
    statuses = sorted(o[1]["status"] for o in outcomes)
    assert statuses == ["committed", "rejected"], outcomes
    rejected = next(o[1] for o in outcomes if o[1]["status"] == "rejected")
    assert rejected["reason"].split(":")[0] in ("prev-mismatch", "did-deactivated"), rejected


async def test_submit_with_wait_answers_the_outcome_in_one_request(api: Api) -> None:
    _did, envelope = create_did(PrivateKey.generate(), api.genesis.chain_id, 1)
    status, body, _r = await api.post("/v1/operations?wait=10", envelope, "application/octet-stream")
    assert status == 200 and body["status"] == "committed" and body["inclusion_proof"]["tree_size"] >= 1
