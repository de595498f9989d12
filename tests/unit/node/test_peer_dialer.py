"""The dialer survives peers that misbehave while a connection opens (requests-from-faults #4)."""

from __future__ import annotations

import asyncio

from aiohttp import web

from ledgr.crypto import PrivateKey
from ledgr.node.config import P2PConfig, PeerConfig
from ledgr.node.metrics import NodeMetrics
from ledgr.node.peers import PATH, PeerNetwork
from tests.unit.node.test_peers import CHAIN, free_port, wait_for


def _keys() -> tuple[PrivateKey, PrivateKey]:
    a, b = PrivateKey.from_seed(b"\x11" * 32), PrivateKey.from_seed(b"\x22" * 32)
    return (a, b) if a.public_key.raw < b.public_key.raw else (b, a)  # the first one dials


async def _dialer(me: PrivateKey, other: PrivateKey, url: str) -> PeerNetwork:
    config = P2PConfig(port=free_port(), reconnect_initial_ms=20, reconnect_max_ms=50,
                       handshake_timeout_ms=300)
    keys = {me.public_key.multikey, other.public_key.multikey}
    net = PeerNetwork(CHAIN, me, keys, (PeerConfig(url=url, public_key=other.public_key.multikey),),
                      config, lambda *_: None, NodeMetrics())
    await net.start()
    return net


async def test_a_peer_that_never_answers_the_upgrade_does_not_hold_the_dialer() -> None:
    me, other = _keys()
    accepted: list[asyncio.StreamWriter] = []

    async def silent(_reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        accepted.append(writer)  # accept TCP, never answer the HTTP upgrade

    port = free_port()
    server = await asyncio.start_server(silent, "127.0.0.1", port)
    net = await _dialer(me, other, f"ws://127.0.0.1:{port}{PATH}")
    try:
        await wait_for(lambda: len(accepted) >= 3, timeout_s=5.0)
    finally:
        await net.close()
        for writer in accepted:
            writer.close()
        server.close()
        await server.wait_closed()


async def test_a_peer_closing_during_the_handshake_is_retried() -> None:
    me, other = _keys()
    attempts: list[int] = []

    async def close_after_hello(request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        await ws.receive_str()
        attempts.append(1)
        await ws.close()  # the dialer's next receive_str meets CLOSE instead of a hello
        return ws

    app = web.Application()
    app.router.add_get(PATH, close_after_hello)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    net = await _dialer(me, other, f"ws://127.0.0.1:{port}{PATH}")
    try:
        await wait_for(lambda: len(attempts) >= 3, timeout_s=5.0)
        assert net.connected() == set()
    finally:
        await net.close()
        await runner.cleanup()
