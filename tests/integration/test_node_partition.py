"""Network partitions between real node processes (consensus.md §4.7): every peer link goes through a
userspace TCP proxy on 127.0.0.1 that the test can cut and heal.

Cutting both links of one node while the others take writes: the majority keeps committing, the
isolated node stalls; after healing, it reconnects (with backoff), catches up by block sync while
consensus runs, and agrees on the chain. Cutting one link only (node0–node2) leaves every node
with a quorum path: all three keep committing.
"""

from __future__ import annotations

import asyncio
import json
import random
import re
import threading
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from ledgr.crypto import PrivateKey
from ledgr.ledger.genesis import Genesis
from ledgr.node import testnet as tn
from ledgr.node.authoring import create_did

pytestmark = [pytest.mark.integration, pytest.mark.timeout(240)]


@dataclass
class Link:
    """One proxied peer link: listens on ``port``, forwards to ``target``; ``cut`` drops it."""

    port: int
    target: int
    cut: bool = False
    writers: list[asyncio.StreamWriter] = field(default_factory=list)


class Proxies:
    """TCP proxies in a background event loop (the test itself stays synchronous)."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.links: dict[tuple[int, int], Link] = {}
        self._thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self._thread.start()
        self._servers: list[asyncio.base_events.Server] = []

    def add(self, pair: tuple[int, int], port: int, target: int) -> None:
        link = Link(port, target)
        self.links[pair] = link
        asyncio.run_coroutine_threadsafe(self._serve(link), self.loop).result(5)

    async def _serve(self, link: Link) -> None:
        async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            if link.cut:
                writer.close()
                return
            try:
                up_reader, up_writer = await asyncio.open_connection("127.0.0.1", link.target)
            except OSError:
                writer.close()
                return
            link.writers += [writer, up_writer]

            async def pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
                try:
                    while data := await src.read(65536):
                        dst.write(data)
                        await dst.drain()
                except (ConnectionError, OSError):
                    pass
                finally:
                    dst.close()

            await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))

        self._servers.append(await asyncio.start_server(handle, "127.0.0.1", link.port))

    def set_cut(self, pair: tuple[int, int], cut: bool) -> None:
        def apply() -> None:
            link = self.links[tuple(sorted(pair))]  # type: ignore[index]
            link.cut = cut
            if cut:
                for writer in link.writers:
                    writer.close()
                link.writers.clear()

        self.loop.call_soon_threadsafe(apply)

    def close(self) -> None:
        for server in self._servers:
            self.loop.call_soon_threadsafe(server.close)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(5)


def free_ports(count: int) -> list[int]:
    for _ in range(200):
        base = random.randrange(20000, 60000, 40)
        ports = list(range(base, base + count))
        if all(tn.port_free(p) for p in ports):
            return ports
    raise RuntimeError("no free port range")


@pytest.fixture(scope="module")
def net(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[list[tn.TestnetNode], Proxies, Genesis]]:
    directory: Path = tmp_path_factory.mktemp("partition") / "net"
    ports = free_ports(9)
    nodes = tn.create(directory, 3, ports[0], consensus={"heartbeat_ms": 2000, "timeout_propose_ms": 500})
    proxies = Proxies()
    proxy_ports = iter(ports[6:])
    for a, b in ((0, 1), (0, 2), (1, 2)):
        proxy = next(proxy_ports)
        proxies.add((a, b), proxy, 0)
        # both directions of the pair use the same proxy; it forwards to whichever node is dialled
        for here, there in ((a, b), (b, a)):
            config = Path(nodes[here].config)
            text = config.read_text()
            text = re.sub(rf"ws://127\.0\.0\.1:{nodes[there].p2p_port}/p2p",
                          f"ws://127.0.0.1:{proxy}/p2p", text)
            config.write_text(text)
    # which side dials is decided by key order; point each proxy at the side that listens
    keys = [tn.validator_key(n).public_key.raw for n in nodes]
    for (a, b), link in proxies.links.items():
        link.target = nodes[b if keys[a] < keys[b] else a].p2p_port
    try:
        for node in nodes:
            tn.start_node(node)
        tn.save_manifest(directory, nodes)
        tn.wait_committed(nodes, 1, 60)
        genesis = Genesis.from_json(json.loads((directory / "genesis.json").read_text()))
        yield nodes, proxies, genesis
    finally:
        tn.stop_nodes(nodes)
        proxies.close()


def height(node: tn.TestnetNode) -> int:
    status = tn.status_of(node.url)
    return -1 if status is None else int(status["height"])


def write(node: tn.TestnetNode, genesis: Genesis, wait_s: float = 15) -> dict[str, Any]:
    _did, envelope = create_did(PrivateKey.generate(), genesis.chain_id, max(0, height(node)))
    request = urllib.request.Request(f"{node.url}/v1/operations?wait={wait_s}", data=envelope, method="POST",
                                     headers={"Content-Type": "application/octet-stream"})
    with urllib.request.urlopen(request, timeout=wait_s + 10) as response:
        return dict(json.loads(response.read()))


def wait_until(predicate: Any, timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def block_hash(node: tn.TestnetNode, at: int) -> str:
    with urllib.request.urlopen(f"{node.url}/v1/blocks/{at}", timeout=5) as response:
        return str(json.loads(response.read())["hash"])


def test_an_isolated_node_stalls_then_catches_up_after_healing(
        net: tuple[list[tn.TestnetNode], Proxies, Genesis]) -> None:
    nodes, proxies, genesis = net
    proxies.set_cut((0, 2), True)
    proxies.set_cut((1, 2), True)
    wait_until(lambda: not any(v["connected"] for v in tn.status_of(nodes[2].url)["validators"]  # type: ignore[index]
                               if not v["self"]), 20, "node2 to lose its peers")
    isolated_at = height(nodes[2])
    committed = [write(nodes[i % 2], genesis) for i in range(6)]
    assert all(c["status"] == "committed" for c in committed), committed
    assert height(nodes[2]) == isolated_at, "an isolated node cannot commit alone"
    proxies.set_cut((0, 2), False)
    proxies.set_cut((1, 2), False)
    target = max(c["height"] for c in committed)
    wait_until(lambda: height(nodes[2]) >= target, 60, "node2 to catch up after healing")
    assert block_hash(nodes[2], target) == block_hash(nodes[0], target)
    answer = write(nodes[2], genesis)
    assert answer["status"] == "committed"


def test_one_cut_link_leaves_every_node_committing(
        net: tuple[list[tn.TestnetNode], Proxies, Genesis]) -> None:
    nodes, proxies, genesis = net
    proxies.set_cut((0, 2), True)
    try:
        for i in range(6):
            answer = write(nodes[i % 3], genesis)
            assert answer["status"] == "committed", answer
        top = answer["height"]
        wait_until(lambda: min(height(n) for n in nodes) >= top, 20, "all nodes to reach the last block")
        assert len({block_hash(n, top) for n in nodes}) == 1
    finally:
        proxies.set_cut((0, 2), False)
