"""Peer transport over real WebSockets on 127.0.0.1: authentication, refusal, delivery, bounds."""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import AsyncIterator

import aiohttp
import pytest

from ledgr.crypto import PrivateKey
from ledgr.node import handshake
from ledgr.node.config import P2PConfig, PeerConfig
from ledgr.node.metrics import NodeMetrics
from ledgr.node.peers import KIND_CONSENSUS, MAX_PENDING_HANDSHAKES, PATH, PeerNetwork

CHAIN = "test-chain"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Node:
    def __init__(self, key: PrivateKey, port: int) -> None:
        self.key = key
        self.port = port
        self.received: list[tuple[str, int, bytes]] = []
        self.metrics = NodeMetrics()
        self.net: PeerNetwork | None = None

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}{PATH}"

    def handle(self, peer: str, kind: int, payload: bytes) -> None:
        self.received.append((peer, kind, payload))


def make_nodes(n: int) -> list[Node]:
    return [Node(PrivateKey.from_seed(bytes([i + 1]) * 32), free_port()) for i in range(n)]


async def start(nodes: list[Node], chain: str = CHAIN, validators: set[str] | None = None,
                queue_messages: int = 64) -> None:
    keys = validators or {n.key.public_key.multikey for n in nodes}
    peers = tuple(PeerConfig(url=n.url, public_key=n.key.public_key.multikey) for n in nodes)
    for node in nodes:
        config = P2PConfig(port=node.port, reconnect_initial_ms=20, reconnect_max_ms=100,
                           queue_messages=queue_messages, handshake_timeout_ms=2000)
        node.net = PeerNetwork(chain, node.key, keys, peers, config, node.handle, node.metrics)
        await node.net.start()


async def wait_for(predicate: object, timeout_s: float = 5.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    while not predicate():  # type: ignore[operator]
        if loop.time() > deadline:
            raise AssertionError("condition not reached in time")
        await asyncio.sleep(0.01)


@pytest.fixture
async def cluster() -> AsyncIterator[list[Node]]:
    nodes = make_nodes(3)
    await start(nodes)
    yield nodes
    for node in nodes:
        assert node.net is not None
        await node.net.close()


async def test_three_validators_connect_pairwise_and_exchange_frames(cluster: list[Node]) -> None:
    await wait_for(lambda: all(len(n.net.connected()) == 2 for n in cluster))  # type: ignore[union-attr]
    a, b, c = cluster
    assert a.net is not None
    a.net.broadcast(KIND_CONSENSUS, b"vote")
    await wait_for(lambda: b.received and c.received)
    assert b.received == [(a.key.public_key.multikey, KIND_CONSENSUS, b"vote")]
    assert c.received == [(a.key.public_key.multikey, KIND_CONSENSUS, b"vote")]
    assert a.metrics.peers_connected._value.get() == 2
    assert b.net is not None
    assert b.net.last_message_ms_ago(c.key.public_key.multikey) is None  # c sent nothing yet
    assert 0 <= b.net.last_message_ms_ago(a.key.public_key.multikey) < 5000  # type: ignore[operator]


async def test_node_of_another_chain_is_refused() -> None:
    good = make_nodes(1)[0]
    await start([good])
    try:
        other = PrivateKey.from_seed(b"\x01" * 32)  # same key, wrong chain
        async with aiohttp.ClientSession() as session, session.ws_connect(good.url) as ws:
            await ws.send_str(handshake.Hello("other-chain", other.public_key.multikey,
                                              handshake.fresh_nonce()).to_frame())
            msg = await ws.receive(timeout=3)
            assert msg.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED)
    finally:
        assert good.net is not None
        await good.net.close()


async def test_unknown_key_without_a_valid_signature_is_refused() -> None:
    """A key outside the validator set may connect as a sync client, but only by proving it holds it."""
    good = make_nodes(1)[0]
    await start([good])
    try:
        stranger = PrivateKey.from_seed(b"\x09" * 32)
        async with aiohttp.ClientSession() as session, session.ws_connect(good.url) as ws:
            await ws.send_str(handshake.Hello(CHAIN, stranger.public_key.multikey,
                                              handshake.fresh_nonce()).to_frame())
            reply = await ws.receive(timeout=3)
            assert reply.type == aiohttp.WSMsgType.TEXT
            await ws.send_str(json.dumps({"t": "auth", "sig": "00" * 64}))
            msg = await ws.receive(timeout=3)
            assert msg.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED)
            assert good.net is not None and good.net.connected() == set()
    finally:
        assert good.net is not None
        await good.net.close()


async def test_validator_key_without_the_secret_cannot_replay_a_handshake() -> None:
    """An attacker who recorded a signature cannot reuse it: the acceptor's nonce is fresh."""
    nodes = make_nodes(2)
    await start(nodes[:1], validators={n.key.public_key.multikey for n in nodes})
    acceptor, victim = nodes
    victim_key = victim.key.public_key.multikey
    try:
        async with aiohttp.ClientSession() as session:
            recorded: bytes | None = None
            for attempt in range(2):
                async with session.ws_connect(acceptor.url) as ws:
                    dialer_nonce = b"\x07" * 32
                    await ws.send_str(handshake.Hello(CHAIN, victim_key, dialer_nonce).to_frame())
                    hello = handshake.parse_hello(await ws.receive_str(timeout=3), want_sig=True)
                    if attempt == 0:
                        # the legitimate victim signs this session's transcript (we hold its key here)
                        recorded = victim.key.sign(handshake.transcript(
                            "dialer", CHAIN, victim_key, hello.key, dialer_nonce, hello.nonce))
                    assert recorded is not None
                    await ws.send_str(json.dumps({"t": "auth", "sig": recorded.hex()}))
                    msg = await ws.receive(timeout=3)
                    if attempt == 0:
                        assert msg.type == aiohttp.WSMsgType.TEXT and json.loads(msg.data)["t"] == "ok"
                    else:
                        assert msg.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED)
    finally:
        assert acceptor.net is not None
        await acceptor.net.close()


async def test_dialer_refuses_a_peer_presenting_another_key() -> None:
    nodes = make_nodes(2)
    low, high = sorted(nodes, key=lambda n: n.key.public_key.raw)
    impostor_key = PrivateKey.from_seed(b"\x42" * 32)
    validators = {low.key.public_key.multikey, high.key.public_key.multikey,
                  impostor_key.public_key.multikey}
    # the impostor listens on high's address with its own (valid validator) key
    impostor = Node(impostor_key, high.port)
    await start([impostor], validators=validators)
    peers = (PeerConfig(url=high.url, public_key=high.key.public_key.multikey),)
    config = P2PConfig(port=low.port, reconnect_initial_ms=20, reconnect_max_ms=50)
    low.net = PeerNetwork(CHAIN, low.key, validators, peers, config, low.handle, low.metrics)
    await low.net.start()
    try:
        await asyncio.sleep(0.5)
        assert low.net.connected() == set()
    finally:
        await low.net.close()
        assert impostor.net is not None
        await impostor.net.close()


async def test_full_outbound_queue_drops_and_counts(cluster: list[Node]) -> None:
    await wait_for(lambda: all(len(n.net.connected()) == 2 for n in cluster))  # type: ignore[union-attr]
    a, b, _ = cluster
    assert a.net is not None
    peer = b.key.public_key.multikey
    sent = sum(a.net.send(peer, KIND_CONSENSUS, b"x" * 10) for _ in range(1000))
    assert sent < 1000
    dropped = a.metrics.peer_dropped.labels("queue_full")._value.get()
    assert dropped == 1000 - sent
    await wait_for(lambda: len(b.received) == sent)


async def test_frames_from_a_removed_validator_are_dropped(cluster: list[Node]) -> None:
    await wait_for(lambda: all(len(n.net.connected()) == 2 for n in cluster))  # type: ignore[union-attr]
    a, b, c = cluster
    assert b.net is not None and a.net is not None
    b.net.set_validators({b.key.public_key.multikey, c.key.public_key.multikey})
    a.net.broadcast(KIND_CONSENSUS, b"late")
    await wait_for(lambda: len(c.received) == 1)
    await asyncio.sleep(0.1)
    assert b.received == []
    assert b.metrics.peer_dropped.labels("not_validator")._value.get() == 1


async def test_reconnects_after_a_peer_restarts(cluster: list[Node]) -> None:
    await wait_for(lambda: all(len(n.net.connected()) == 2 for n in cluster))  # type: ignore[union-attr]
    a, b, _ = cluster
    assert b.net is not None and a.net is not None
    await b.net.close()
    await wait_for(lambda: b.key.public_key.multikey not in a.net.connected())  # type: ignore[union-attr]
    keys = {n.key.public_key.multikey for n in cluster}
    peers = tuple(PeerConfig(url=n.url, public_key=n.key.public_key.multikey) for n in cluster)
    config = P2PConfig(port=b.port, reconnect_initial_ms=20, reconnect_max_ms=100)
    b.net = PeerNetwork(CHAIN, b.key, keys, peers, config, b.handle, b.metrics)
    await b.net.start()
    await wait_for(lambda: len(b.net.connected()) == 2)  # type: ignore[union-attr]
    await wait_for(lambda: b.key.public_key.multikey in a.net.connected())  # type: ignore[union-attr]


async def test_unauthenticated_connections_are_bounded() -> None:
    node = make_nodes(1)[0]
    await start([node])
    try:
        async with aiohttp.ClientSession() as session:
            idle = [await session.ws_connect(node.url) for _ in range(MAX_PENDING_HANDSHAKES)]
            with pytest.raises(aiohttp.WSServerHandshakeError) as info:
                await session.ws_connect(node.url)
            assert info.value.status == 503
            assert node.metrics.peer_dropped.labels("handshake_limit")._value.get() == 1
            for ws in idle:
                await ws.close()
    finally:
        assert node.net is not None
        await node.net.close()
