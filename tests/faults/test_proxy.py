"""The fault proxy with real sockets: an aiohttp WebSocket server and client on 127.0.0.1."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import socketserver
import ssl
import threading
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web

from tests.faults.proxy import FaultNetwork, Faults
from tests.faults.proxythread import ProxyThread
from tests.faults.tlscerts import make_tls_files

pytestmark = pytest.mark.timeout(60)


@dataclass
class WsServer:
    port: int
    received: list[str] = field(default_factory=list)
    sockets: list[web.WebSocketResponse] = field(default_factory=list)
    arrived: asyncio.Event = field(default_factory=asyncio.Event)


@pytest.fixture
async def ws_server() -> AsyncIterator[WsServer]:
    state = WsServer(port=0)

    async def handler(request: web.Request) -> web.WebSocketResponse:
        compress = request.query.get("compress") == "1"
        ws = web.WebSocketResponse(heartbeat=None, compress=compress)
        await ws.prepare(request)
        state.sockets.append(ws)
        async for msg in ws:
            if msg.type == aiohttp.WSMsgType.BINARY:
                state.received.append(msg.data.decode())
                state.arrived.set()
            elif msg.type == aiohttp.WSMsgType.TEXT:
                state.received.append(f"text:{msg.data}")
                state.arrived.set()
        return ws

    app = web.Application()
    app.router.add_get("/ws", handler)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    assert site._server is not None
    state.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    yield state
    await runner.cleanup()


@pytest.fixture
async def net() -> AsyncIterator[FaultNetwork]:
    network = FaultNetwork(seed=7)
    yield network
    await network.close()


async def wait_for_count(server: WsServer, count: int, timeout_s: float = 5.0) -> None:
    deadline = time.monotonic() + timeout_s
    while len(server.received) < count and time.monotonic() < deadline:
        server.arrived.clear()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(server.arrived.wait(), 0.05)


async def until(condition: Callable[[], bool], timeout_s: float = 5.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, "condition not reached in time"
        await asyncio.sleep(0.01)


async def connect(session: aiohttp.ClientSession, port: int, compress: bool = False
                  ) -> aiohttp.ClientWebSocketResponse:
    query = "?compress=1" if compress else ""
    return await session.ws_connect(f"http://127.0.0.1:{port}/ws{query}", heartbeat=None,
                                    compress=15 if compress else 0)


async def test_messages_pass_unchanged_and_in_order(ws_server: WsServer, net: FaultNetwork) -> None:
    proxy = await net.add_link("a", "b", ws_server.port)
    async with aiohttp.ClientSession() as session:
        ws = await connect(session, proxy.port)
        sent = [f"m{i}" * (i * 50 + 1) for i in range(30)]  # short, 16-bit and long frames
        for text in sent:
            await ws.send_bytes(text.encode())
        await wait_for_count(ws_server, len(sent))
        assert ws_server.received == sent
        await ws.close()
    assert net.stats["a->b:units"] >= len(sent)


async def test_drop_loses_messages_but_the_connection_lives(ws_server: WsServer, net: FaultNetwork) -> None:
    proxy = await net.add_link("a", "b", ws_server.port)
    async with aiohttp.ClientSession() as session:
        ws = await connect(session, proxy.port)
        net.update("a", "b", drop=1.0)
        for i in range(5):
            await ws.send_bytes(f"lost{i}".encode())
        await ws.ping()  # control frames are never dropped
        await until(lambda: net.stats["a->b:dropped"] == 5)
        net.update("a", "b", drop=0.0)
        await ws.send_bytes(b"after")
        await wait_for_count(ws_server, 1)
        assert ws_server.received == ["after"]
        await ws.close()
    assert net.stats["a->b:dropped"] == 5


async def test_text_frames_of_the_handshake_are_never_mutated(ws_server: WsServer, net: FaultNetwork) -> None:
    proxy = await net.add_link("a", "b", ws_server.port)
    net.update("a", "b", drop=1.0, duplicate=1.0, cut=True)
    async with aiohttp.ClientSession() as session:
        ws = await connect(session, proxy.port)
        await ws.send_str("hello")
        await ws.send_bytes(b"binary")
        await wait_for_count(ws_server, 1)
        await until(lambda: net.stats["a->b:cut"] == 1)
        assert ws_server.received == ["text:hello"]
        await ws.close()


async def test_duplicate_delivers_every_message_twice(ws_server: WsServer, net: FaultNetwork) -> None:
    proxy = await net.add_link("a", "b", ws_server.port)
    net.update("a", "b", duplicate=1.0)
    async with aiohttp.ClientSession() as session:
        ws = await connect(session, proxy.port)
        for text in ("x", "y"):
            await ws.send_bytes(text.encode())
        await wait_for_count(ws_server, 4)
        assert ws_server.received == ["x", "x", "y", "y"]
        await ws.close()


async def test_reorder_lets_later_messages_overtake(ws_server: WsServer, net: FaultNetwork) -> None:
    proxy = await net.add_link("a", "b", ws_server.port)
    net.update("a", "b", reorder=0.5, reorder_ms=100)
    async with aiohttp.ClientSession() as session:
        ws = await connect(session, proxy.port)
        sent = [f"m{i}" for i in range(40)]
        for text in sent:
            await ws.send_bytes(text.encode())
        await wait_for_count(ws_server, len(sent))
        assert sorted(ws_server.received) == sorted(sent)
        assert ws_server.received != sent
        await ws.close()


async def test_delay_holds_every_unit(ws_server: WsServer, net: FaultNetwork) -> None:
    proxy = await net.add_link("a", "b", ws_server.port)
    async with aiohttp.ClientSession() as session:
        ws = await connect(session, proxy.port)
        net.update("a", "b", delay_ms=200)
        start = time.monotonic()
        await ws.send_bytes(b"slow")
        await wait_for_count(ws_server, 1)
        assert ws_server.received == ["slow"]
        assert time.monotonic() - start >= 0.2
        await ws.close()


async def test_one_way_cut_blocks_a_to_b_while_b_to_a_flows(ws_server: WsServer, net: FaultNetwork) -> None:
    proxy = await net.add_link("a", "b", ws_server.port)
    async with aiohttp.ClientSession() as session:
        ws = await connect(session, proxy.port)
        await ws.send_bytes(b"before")
        await wait_for_count(ws_server, 1)
        net.cut("a", "b")
        await ws.send_bytes(b"cut")
        await ws_server.sockets[0].send_bytes(b"from-b")
        msg = await ws.receive(timeout=5)
        assert msg.data == b"from-b"
        await until(lambda: net.stats["a->b:cut"] == 1)
        assert ws_server.received == ["before"]
        net.heal()
        await ws.send_bytes(b"healed")
        await wait_for_count(ws_server, 2)
        assert ws_server.received == ["before", "healed"]
        await ws.close()
    assert net.stats["a->b:cut"] == 1


async def test_stall_withholds_bytes_until_healed(ws_server: WsServer, net: FaultNetwork) -> None:
    proxy = await net.add_link("a", "b", ws_server.port)
    async with aiohttp.ClientSession() as session:
        ws = await connect(session, proxy.port)
        net.partition({"a"}, {"b"}, mode="stall")
        await ws.send_bytes(b"held")
        await asyncio.sleep(0.3)
        assert ws_server.received == []
        net.heal()
        await wait_for_count(ws_server, 1)
        assert ws_server.received == ["held"]
        await ws.close()


async def test_reject_resets_open_and_refuses_new_connections(ws_server: WsServer, net: FaultNetwork) -> None:
    proxy = await net.add_link("a", "b", ws_server.port)
    async with aiohttp.ClientSession() as session:
        ws = await connect(session, proxy.port)
        net.partition({"a"}, {"b"}, mode="reject")
        msg = await ws.receive(timeout=5)
        assert msg.type in (aiohttp.WSMsgType.CLOSED, aiohttp.WSMsgType.ERROR, aiohttp.WSMsgType.CLOSE)
        with pytest.raises((aiohttp.ClientError, ConnectionError)):
            await connect(session, proxy.port)
        net.heal()
        ws2 = await connect(session, proxy.port)
        await ws2.send_bytes(b"back")
        await wait_for_count(ws_server, 1)
        assert ws_server.received == ["back"]
        await ws2.close()
    assert net.stats["a->b:refused"] >= 1


async def test_reset_connections_aborts_live_links(ws_server: WsServer, net: FaultNetwork) -> None:
    proxy = await net.add_link("a", "b", ws_server.port)
    async with aiohttp.ClientSession() as session:
        ws = await connect(session, proxy.port)
        await ws.send_bytes(b"one")
        await wait_for_count(ws_server, 1)
        assert net.reset_connections("a", "b") == 1
        msg = await ws.receive(timeout=5)
        assert msg.type in (aiohttp.WSMsgType.CLOSED, aiohttp.WSMsgType.ERROR, aiohttp.WSMsgType.CLOSE)


async def test_compressed_websocket_is_never_mutated(ws_server: WsServer, net: FaultNetwork) -> None:
    proxy = await net.add_link("a", "b", ws_server.port)
    net.update("a", "b", drop=1.0, duplicate=1.0)
    async with aiohttp.ClientSession() as session:
        ws = await connect(session, proxy.port, compress=True)
        for text in ("p", "q"):
            await ws.send_bytes((text * 100).encode())
        await wait_for_count(ws_server, 2)
        assert ws_server.received == ["p" * 100, "q" * 100]
        await ws.close()
    assert net.stats["a->b:dropped"] == 0


async def run_drop_pattern(port: int, seed: int) -> list[str]:
    network = FaultNetwork(seed=seed)
    network.set("a", "b", Faults(drop=0.5))
    received: list[str] = []
    try:
        proxy = await network.add_link("a", "b", port)
        async with aiohttp.ClientSession() as session:
            ws = await session.ws_connect(f"http://127.0.0.1:{proxy.port}/echo")
            for i in range(40):
                await ws.send_bytes(str(i).encode())
            await until(lambda: network.stats["a->b:data"] == 40)
            network.set("a", "b", Faults())
            await ws.send_bytes(b"end")
            while True:
                msg = await ws.receive(timeout=5)
                if msg.data == b"end":
                    break
                received.append(msg.data.decode())
            await ws.close()
    finally:
        await network.close()
    return received


async def test_same_seed_same_decisions() -> None:
    async def echo(request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        async for msg in ws:
            await ws.send_bytes(msg.data)
        return ws

    app = web.Application()
    app.router.add_get("/echo", echo)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        first = await run_drop_pattern(port, seed=11)
        again = await run_drop_pattern(port, seed=11)
        other = await run_drop_pattern(port, seed=12)
    finally:
        await runner.cleanup()
    assert first == again
    assert 0 < len(first) < 40
    assert first != other


def test_partition_rules_cover_every_direction_between_groups() -> None:
    async def scenario() -> None:
        network = FaultNetwork(seed=1)
        for a, b in (("n0", "n1"), ("n0", "n2"), ("n1", "n2")):
            await network.add_link(a, b, upstream_port=9)
        network.set("n0", "n1", Faults(delay_ms=5))
        network.partition({"n0"}, mode="stall")
        assert network.rules("n0", "n1").stall and network.rules("n1", "n0").stall
        assert network.rules("n2", "n0").stall and network.rules("n0", "n2").stall
        assert not network.rules("n1", "n2").stall and not network.rules("n2", "n1").stall
        network.heal()
        assert not any(network.rules(a, b).stall for a in ("n0", "n1", "n2") for b in ("n0", "n1", "n2"))
        assert network.rules("n0", "n1").delay_ms == 5
        network.cut("n1", "n2")
        assert network.rules("n1", "n2").cut and not network.rules("n2", "n1").cut
        with pytest.raises(ValueError):
            network.partition({"n0"}, mode="unplug")
        await network.close()

    asyncio.run(scenario())


class _Echo(socketserver.BaseRequestHandler):
    def handle(self) -> None:
        while data := self.request.recv(65536):
            self.request.sendall(data)


def test_proxy_thread_forwards_plain_tcp_with_delay() -> None:
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), _Echo)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        with ProxyThread(seed=3) as faults:
            port = faults.add_link("a", "b", server.server_address[1])
            faults.set("a", "b", Faults(delay_ms=100, drop=1.0))  # opaque streams are never dropped
            payload = bytes(range(256)) * 1000
            start = time.monotonic()
            with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
                sock.sendall(payload)
                got = bytearray()
                while len(got) < len(payload):
                    chunk = sock.recv(65536)
                    assert chunk
                    got += chunk
            assert bytes(got) == payload
            assert time.monotonic() - start >= 0.1
            assert faults.stats()["a->b:dropped"] == 0
    finally:
        server.shutdown()
        server.server_close()


async def test_tls_terminating_link_still_sees_frames(ws_server: WsServer, net: FaultNetwork,
                                                      tmp_path: Path) -> None:
    files = make_tls_files(tmp_path / "tls")
    proxy = await net.add_link("a", "b", ws_server.port, tls=files.server_context())
    client_tls = ssl.create_default_context(cafile=str(files.ca_cert))
    async with aiohttp.ClientSession() as session:
        ws = await session.ws_connect(f"wss://127.0.0.1:{proxy.port}/ws", ssl=client_tls, heartbeat=None)
        await ws.send_bytes(b"one")
        await wait_for_count(ws_server, 1)
        net.update("a", "b", drop=1.0)
        await ws.send_bytes(b"dropped")
        await until(lambda: net.stats["a->b:dropped"] == 1)
        net.update("a", "b", drop=0.0)
        await ws.send_bytes(b"two")
        await wait_for_count(ws_server, 2)
        assert ws_server.received == ["one", "two"]
        await ws.close()
        with pytest.raises(aiohttp.ClientConnectorCertificateError):
            await session.ws_connect(f"wss://127.0.0.1:{proxy.port}/ws")  # system store lacks the test CA
