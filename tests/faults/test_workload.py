"""How the workload classifies write outcomes (ok / fail / unknown), against a real aiohttp server
that answers like a node would in each case."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import pytest
from aiohttp import web

from ledgr.cli.genesis import assemble
from ledgr.crypto import PrivateKey
from tests.faults.history import FAIL, OK, UNKNOWN
from tests.faults.workload import Workload, WorkloadConfig

pytestmark = pytest.mark.timeout(60)


@dataclass
class Script:
    post_status: int = 202
    answers: list[tuple[int, dict[str, str]]] = field(default_factory=list)
    posted: int = 0


def genesis_for_tests() -> object:
    infos = [{"name": f"n{i}", "validator_public_key": PrivateKey.generate().public_key.multikey,
              "admin_public_key": PrivateKey.generate().public_key.multikey,
              "p2p_url": f"ws://127.0.0.1:{9000 + i}/p2p"} for i in range(3)]
    return assemble("ledgr-test", infos, 1_764_000_000_000)


@pytest.fixture
async def node() -> AsyncIterator[tuple[str, Script]]:
    script = Script()

    async def post(request: web.Request) -> web.Response:
        script.posted += 1
        await request.read()
        if script.post_status != 202:
            return web.json_response({"title": "no"}, status=script.post_status)
        return web.json_response({"hash": "x", "status": "accepted"}, status=202)

    async def get(request: web.Request) -> web.Response:
        status, body = script.answers.pop(0) if script.answers else (200, {"status": "pending"})
        return web.json_response(body, status=status)

    app = web.Application()
    app.router.add_post("/v1/operations", post)
    app.router.add_get("/v1/operations/{hash}", get)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    yield f"http://127.0.0.1:{port}", script
    await runner.cleanup()


async def outcome(url: str, prev: str | None = None) -> tuple[str, str]:
    workload = Workload([url], genesis_for_tests(), seed=1,  # type: ignore[arg-type]
                        config=WorkloadConfig(wait_s=1.0, request_timeout_s=3.0))
    async with workload.session() as session:
        op = await workload.write("c", session, url, workload.subjects[0], prev)
    assert op.version is not None and len(op.version) == 64 and op.prev == prev
    return op.status, op.note


async def test_committed_is_ok(node: tuple[str, Script]) -> None:
    url, script = node
    script.answers = [(200, {"status": "pending"}), (200, {"status": "committed", "height": "3"})]
    assert (await outcome(url))[0] == OK


async def test_rejected_after_acceptance_is_a_definite_failure(node: tuple[str, Script]) -> None:
    url, script = node
    script.answers = [(200, {"status": "rejected", "reason": "prev-mismatch"})]
    status, note = await outcome(url, prev="ab" * 32)
    assert status == FAIL and "prev-mismatch" in note


@pytest.mark.parametrize(("code", "expected"), [(409, FAIL), (422, FAIL), (400, FAIL), (503, UNKNOWN),
                                                (429, UNKNOWN), (500, UNKNOWN)])
async def test_refused_at_entry(node: tuple[str, Script], code: int, expected: str) -> None:
    url, script = node
    script.post_status = code
    assert (await outcome(url))[0] == expected
    assert script.posted == 1


async def test_never_committed_in_time_is_unknown(node: tuple[str, Script]) -> None:
    url, _script = node
    status, note = await outcome(url)
    assert status == UNKNOWN and "not committed in time" in note


async def test_node_unreachable_is_unknown() -> None:
    status, note = await outcome("http://127.0.0.1:9")  # nothing listens on the discard port
    assert status == UNKNOWN and "Error" in note
