"""Peer transport: one authenticated WebSocket per pair of validators (aiohttp).

Who dials: of two validators, the one with the smaller public key dials the other; the other only
accepts. So each pair shares exactly one connection, and a restarted dialer simply replaces its old
connection. The handshake is :mod:`ledgr.node.handshake`.

Frames after the handshake are binary: one kind byte ‖ payload. The transport does not look into
payloads; the runtime does.

Bounds and drop policy (a slow or dead peer can never exhaust memory):
- outbound, per peer: at most ``queue_messages`` frames and 64 MiB queued; a frame that does not fit
  is dropped and counted (``ledgr_peer_messages_dropped_total{reason="queue_full"}``). Consensus
  recovers from drops by its timeout rebroadcast, block sync by retrying, mempool forwarding by the
  author's retry. Frames to a peer that is not connected are dropped (``not_connected``).
- inbound: aiohttp refuses frames above ``max_message_bytes``; the handler must not block (the
  runtime puts frames on its own bounded queue and drops on overflow).
- no permessage-deflate (disabled explicitly on both sides): signatures and hashes barely compress,
  and deflating every proposal on the event loop would cost CPU for little gain.
- frames from a key that left the validator set are dropped (``not_validator``).
- sync clients: an authenticated key outside the validator set (an observer node, a validator
  that is about to join, or one that was removed) may stay connected, at most
  ``MAX_SYNC_CLIENTS`` at a time, but only its STATUS and sync frames are taken; consensus messages
  and forwarded operations from it are dropped (``not_validator``), and broadcasts skip it.
- who dials: the smaller key dials; the larger key dials only when no link has existed for
  ``FALLBACK_DIAL_S`` (a validator added later knows the others' addresses, they may not know its
  address); a node outside the validator set dials every configured peer, and a validator never
  dials a configured peer outside the set (so each pair still has one connection).
- at most ``MAX_PENDING_HANDSHAKES`` unauthenticated connections at a time (each has
  ``handshake_timeout_ms`` to authenticate); more are answered 503 (``handshake_limit``).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import aiohttp
from aiohttp import web

from ledgr.crypto import PrivateKey, PublicKey
from ledgr.errors import PeerError
from ledgr.node import handshake, tls
from ledgr.node.config import P2PConfig, PeerConfig
from ledgr.node.logs import get_logger
from ledgr.node.metrics import NodeMetrics

PATH = "/p2p"
MAX_QUEUED_BYTES = 64 << 20
MAX_PENDING_HANDSHAKES = 32
MAX_SYNC_CLIENTS = 16
FALLBACK_DIAL_S = 3.0

KIND_CONSENSUS = 1
KIND_OPERATION = 2
KIND_SYNC_REQUEST = 3
KIND_SYNC_RESPONSE = 4
KIND_STATUS = 5
KIND_SNAPSHOT = 6
SYNC_CLIENT_KINDS = frozenset({KIND_SYNC_REQUEST, KIND_SYNC_RESPONSE, KIND_STATUS, KIND_SNAPSHOT})
KIND_NAMES = {KIND_CONSENSUS: "consensus", KIND_OPERATION: "operation", KIND_SYNC_REQUEST: "sync_request",
              KIND_SYNC_RESPONSE: "sync_response", KIND_STATUS: "status", KIND_SNAPSHOT: "snapshot"}

MessageHandler = Callable[[str, int, bytes], None]

log = get_logger("ledgr.peers")


@dataclass
class _Link:
    """One authenticated connection and its bounded outbound queue."""

    key: str
    ws: web.WebSocketResponse | aiohttp.ClientWebSocketResponse
    queue: asyncio.Queue[bytes]
    queued_bytes: int = 0
    writer: asyncio.Task[None] | None = None
    closed: asyncio.Event = field(default_factory=asyncio.Event)


class PeerNetwork:
    """Connections to the other validators of one chain."""

    def __init__(self, chain_id: str, key: PrivateKey, validators: set[str], peers: tuple[PeerConfig, ...],
                 config: P2PConfig, on_message: MessageHandler, metrics: NodeMetrics) -> None:
        self.chain_id = chain_id
        self.key = key
        self.me = key.public_key.multikey
        self.validators = set(validators)
        self.peers = {p.public_key: p for p in peers if p.public_key != self.me}
        self.config = config
        self.on_message = on_message
        self.metrics = metrics
        self.links: dict[str, _Link] = {}
        self._tasks: list[asyncio.Task[None]] = []
        self._runner: web.AppRunner | None = None
        self._session: aiohttp.ClientSession | None = None
        self._closing = False
        self.on_connect: Callable[[str], None] | None = None
        self._handshaking = 0
        self.last_frame_s: dict[str, float] = {}  # per peer key: when its last frame arrived

    # ---- lifecycle -------------------------------------------------------------------------

    async def start(self) -> None:
        app = web.Application(client_max_size=1024)
        app.router.add_get(PATH, self._accept)
        self._runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.config.host, self.config.port, reuse_address=True,
                           ssl_context=tls.server_context(self.config.tls_cert_file,
                                                          self.config.tls_key_file, "p2p"))
        await site.start()
        self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=None, connect=5),
                                              connector=aiohttp.TCPConnector(
                                                  ssl=tls.client_context(self.config.tls_ca_file)))
        for peer in self.peers.values():
            self._tasks.append(asyncio.create_task(self._dial_forever(peer)))

    async def close(self) -> None:
        self._closing = True
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        for link in list(self.links.values()):
            await self._drop_link(link)
        if self._session is not None:
            await self._session.close()
        if self._runner is not None:
            await self._runner.cleanup()

    def set_validators(self, validators: set[str]) -> None:
        """Adopt a new validator set: frames from removed keys are dropped from now on."""
        self.validators = set(validators)

    def last_message_ms_ago(self, key: str) -> int | None:
        """Milliseconds since ``key``'s last frame (None if none yet): shows one-way cuts."""
        seen = self.last_frame_s.get(key)
        return None if seen is None else int((time.monotonic() - seen) * 1000)

    def connected(self) -> set[str]:
        return set(self.links)

    def _sync_clients(self) -> int:
        return sum(1 for key in self.links if key not in self.validators)

    # ---- sending ---------------------------------------------------------------------------

    def send(self, peer: str, kind: int, payload: bytes) -> bool:
        link = self.links.get(peer)
        if link is None:
            self.metrics.peer_dropped.labels("not_connected").inc()
            return False
        frame = bytes([kind]) + payload
        if link.queue.full() or link.queued_bytes + len(frame) > MAX_QUEUED_BYTES:
            self.metrics.peer_dropped.labels("queue_full").inc()
            return False
        link.queued_bytes += len(frame)
        link.queue.put_nowait(frame)
        return True

    def broadcast(self, kind: int, payload: bytes) -> None:
        """To every connected validator (sync clients only get what is addressed to them)."""
        for peer in list(self.links):
            if peer in self.validators:
                self.send(peer, kind, payload)

    # ---- connections -----------------------------------------------------------------------

    def _i_dial(self, other: str) -> bool:
        return self.me not in self.validators or self.key.public_key.raw < raw_key(other)

    def _never_dial(self, other: str) -> bool:
        """A validator leaves a configured peer outside the set to dial it (a sync client)."""
        return self.me in self.validators and other not in self.validators

    async def _dial_forever(self, peer: PeerConfig) -> None:
        delay_ms = self.config.reconnect_initial_ms
        loop = asyncio.get_running_loop()
        unlinked_since = loop.time()
        while not self._closing:
            if peer.public_key in self.links:
                unlinked_since = loop.time()
                await asyncio.sleep(0.5)
                continue
            if self._never_dial(peer.public_key) or (
                    not self._i_dial(peer.public_key) and loop.time() - unlinked_since < FALLBACK_DIAL_S):
                await asyncio.sleep(0.5)
                continue
            try:
                await self._dial_once(peer)
                delay_ms = self.config.reconnect_initial_ms
            except asyncio.CancelledError:
                raise
            except (TimeoutError, PeerError, aiohttp.ClientError, OSError) as exc:
                log.debug("peer_dial_failed", peer=peer.url, error=str(exc) or type(exc).__name__)
            except Exception as exc:  # never let one odd failure end this peer's dialer for good
                log.warning("peer_dial_error", peer=peer.url, error_type=type(exc).__name__, error=str(exc))
            jitter = random.uniform(0.5, 1.0)
            await asyncio.sleep(delay_ms * jitter / 1000)
            delay_ms = min(delay_ms * 2, self.config.reconnect_max_ms)

    async def _dial_once(self, peer: PeerConfig) -> None:
        assert self._session is not None
        timeout_s = self.config.handshake_timeout_ms / 1000
        # the whole opening (TCP, TLS, HTTP upgrade) is bounded, not only the TCP connect: a peer
        # that accepts TCP and never answers the upgrade must not hold the dialer forever
        ws = await asyncio.wait_for(
            self._session.ws_connect(peer.url, max_msg_size=self.config.max_message_bytes, heartbeat=5.0,
                                     autoping=True, compress=0), timeout_s)
        async with ws:
            try:
                async with asyncio.timeout(timeout_s):
                    key = await self._dial_handshake(peer, ws, timeout_s)
            except TypeError as exc:  # aiohttp's WSMessageTypeError: closed or broken mid-handshake
                raise PeerError(f"peer {peer.url} closed the connection during the handshake") from exc
            await self._serve_link(key, ws)

    async def _dial_handshake(self, peer: PeerConfig, ws: aiohttp.ClientWebSocketResponse,
                              timeout_s: float) -> str:
        """Dialer side of the signed handshake (``ledgr.node.handshake``); returns the peer's key."""
        my_nonce = handshake.fresh_nonce()
        await ws.send_str(handshake.Hello(self.chain_id, self.me, my_nonce).to_frame())
        reply = handshake.parse_hello(await ws.receive_str(timeout=timeout_s), want_sig=True)
        if reply.chain_id != self.chain_id:
            raise PeerError(f"peer {peer.url} is on chain {reply.chain_id!r}")
        if reply.key != peer.public_key:
            raise PeerError(f"peer {peer.url} presented a different validator key")
        assert reply.sig is not None
        handshake.check_signature(reply.key, handshake.transcript(
            "acceptor", self.chain_id, self.me, reply.key, my_nonce, reply.nonce), reply.sig)
        sig = handshake.sign(self.key, handshake.transcript(
            "dialer", self.chain_id, self.me, reply.key, my_nonce, reply.nonce))
        await ws.send_str(json.dumps({"t": "auth", "sig": sig.hex()}))
        handshake.parse_frame(await ws.receive_str(timeout=timeout_s), "ok")
        return reply.key

    async def _accept(self, request: web.Request) -> web.StreamResponse:
        if self._handshaking >= MAX_PENDING_HANDSHAKES:
            self.metrics.peer_dropped.labels("handshake_limit").inc()
            raise web.HTTPServiceUnavailable(text="too many pending peer handshakes")
        self._handshaking += 1
        try:
            return await self._accept_counted(request)
        finally:
            self._handshaking -= 1

    async def _accept_counted(self, request: web.Request) -> web.StreamResponse:
        ws = web.WebSocketResponse(max_msg_size=self.config.max_message_bytes, heartbeat=5.0, compress=False)
        await ws.prepare(request)
        timeout_s = self.config.handshake_timeout_ms / 1000
        try:
            hello = handshake.parse_hello(await ws.receive_str(timeout=timeout_s), want_sig=False)
            if hello.chain_id != self.chain_id:
                raise PeerError(f"peer is on chain {hello.chain_id!r}")
            if hello.key == self.me:
                raise PeerError("peer presented this node's own key")
            if hello.key not in self.validators and self._sync_clients() >= MAX_SYNC_CLIENTS:
                raise PeerError(f"peer key is not a validator and {MAX_SYNC_CLIENTS} sync clients are "
                                "connected")
            my_nonce = handshake.fresh_nonce()
            sig = handshake.sign(self.key, handshake.transcript(
                "acceptor", self.chain_id, hello.key, self.me, hello.nonce, my_nonce))
            await ws.send_str(handshake.Hello(self.chain_id, self.me, my_nonce, sig).to_frame())
            their_sig = handshake.parse_sig(await ws.receive_str(timeout=timeout_s))
            handshake.check_signature(hello.key, handshake.transcript(
                "dialer", self.chain_id, hello.key, self.me, hello.nonce, my_nonce), their_sig)
            await ws.send_str('{"t": "ok"}')
        except (TimeoutError, PeerError, TypeError, aiohttp.WSServerHandshakeError) as exc:
            log.warning("peer_refused", remote=request.remote, reason=str(exc) or type(exc).__name__)
            await ws.close(code=aiohttp.WSCloseCode.POLICY_VIOLATION, message=b"handshake refused")
            return ws
        self._handshaking -= 1  # authenticated: no longer counts against the pre-auth limit
        try:
            await self._serve_link(hello.key, ws)
        finally:
            self._handshaking += 1
        return ws

    async def _serve_link(self, key: str,
                          ws: web.WebSocketResponse | aiohttp.ClientWebSocketResponse) -> None:
        old = self.links.get(key)
        if old is not None:
            await self._drop_link(old)
        link = _Link(key, ws, asyncio.Queue(maxsize=self.config.queue_messages))
        link.writer = asyncio.create_task(self._write_loop(link))
        self.links[key] = link
        self.metrics.peers_connected.set(len(self.links))
        log.info("peer_connected", peer=key[:16])
        if self.on_connect is not None:
            self.on_connect(key)
        try:
            async for msg in ws:
                if msg.type != aiohttp.WSMsgType.BINARY or not msg.data:
                    if msg.type in (aiohttp.WSMsgType.ERROR, aiohttp.WSMsgType.CLOSE):
                        break
                    continue
                data: bytes = msg.data
                self.metrics.peer_received_bytes.labels(KIND_NAMES.get(data[0], "other")).inc(len(data))
                if key not in self.validators and data[0] not in SYNC_CLIENT_KINDS:
                    self.metrics.peer_dropped.labels("not_validator").inc()
                    continue
                self.last_frame_s[key] = time.monotonic()
                self.on_message(key, data[0], data[1:])
        finally:
            if self.links.get(key) is link:
                del self.links[key]
                self.metrics.peers_connected.set(len(self.links))
                log.info("peer_disconnected", peer=key[:16])
            await self._drop_link(link)

    async def _write_loop(self, link: _Link) -> None:
        try:
            while True:
                frame = await link.queue.get()
                link.queued_bytes -= len(frame)
                await link.ws.send_bytes(frame)
        except (ConnectionError, RuntimeError, aiohttp.ClientError):
            await link.ws.close()

    async def _drop_link(self, link: _Link) -> None:
        if link.writer is not None and link.writer is not asyncio.current_task():
            link.writer.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await link.writer
        with contextlib.suppress(Exception):
            await link.ws.close()


@functools.lru_cache(maxsize=64)
def raw_key(multikey: str) -> bytes:
    """A peer's raw Ed25519 key from its multikey; memoized (a handful of validators, looked up for
    every consensus frame)."""
    return PublicKey.from_multikey(multikey).raw
