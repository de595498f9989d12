"""A seeded fault proxy for peer links on 127.0.0.1 (consensus.md §4.3, §4.7; issue 7).

``tc netem`` does not exist on these machines, so faults are made in user space: every peer link
``client → server`` gets its own listening :class:`LinkProxy` that forwards to the server's real
port, and the dialling node's config names the proxy instead of the peer. One :class:`FaultNetwork`
holds the rules per *direction* ``(src, dst)`` between node names and every proxy consults it for
each unit it forwards, so a test can partition and heal at run time.

What each fault means over TCP (see :mod:`tests.faults.streams` for the units):

- ``delay_ms`` + ``jitter_ms``: every unit waits ``delay + U(0, jitter)``; order within a direction
  is kept (a TCP stream cannot reorder), so jitter only spreads arrivals.
- ``drop`` / ``duplicate`` / ``reorder``: per WebSocket *message* (a complete data frame), never per
  byte — a lost message, a repeated message, or a message held back ``reorder_ms`` so later ones
  overtake it. Opaque streams are never mutated (see streams.py).
- ``reset``: per message, the probability that the whole connection is aborted with a TCP RST.
- ``cut``: message-level one-way partition — data messages in this direction are discarded while
  control frames (ping/pong) still pass, so the connection stays up. This is the meaningful
  "A→B cut while B→A flows": a real one-way packet loss would kill TCP in both directions.
- ``stall``: TCP-level blackhole — nothing is read from the sender nor delivered; bytes are withheld,
  not lost, and flow again on heal (the sender sees flow control; heartbeats time out).
- ``reject``: connections between the pair are reset and new ones are refused with an RST (a
  stopped host or a firewall REJECT); applies to both directions of a connection.

Randomness: each connection direction draws from ``Random(f"{seed}/{src}->{dst}/{conn}")``, so a
given seed makes the same decisions for the same sequence of messages.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import random
import ssl
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from tests.faults.pump import Pump, abort
from tests.faults.streams import LinkMode, StreamSplitter

CONNECT_TIMEOUT_S = 5.0
MODES = ("stall", "cut", "reject")


@dataclass(frozen=True)
class Faults:
    """Faults applied to one direction ``src → dst``."""

    delay_ms: float = 0.0
    jitter_ms: float = 0.0
    drop: float = 0.0
    duplicate: float = 0.0
    reorder: float = 0.0
    reorder_ms: float = 50.0
    reset: float = 0.0
    cut: bool = False
    stall: bool = False
    reject: bool = False

    def healed(self) -> Faults:
        return dataclasses.replace(self, cut=False, stall=False, reject=False)


class FaultNetwork:
    """The rules for every direction between named nodes, and the proxies that apply them.

    Use it from the event loop that runs the proxies (or through :class:`ProxyThread`).
    """

    def __init__(self, seed: int, default: Faults | None = None) -> None:
        self.seed = seed
        self.default = default or Faults()
        self.stats: Counter[str] = Counter()
        self._rules: dict[tuple[str, str], Faults] = {}
        self._proxies: list[LinkProxy] = []
        self._changed = asyncio.Event()

    # ---- rules -------------------------------------------------------------------------------

    def rules(self, src: str, dst: str) -> Faults:
        return self._rules.get((src, dst), self.default)

    def set(self, src: str, dst: str, faults: Faults) -> None:
        self._rules[(src, dst)] = faults
        self._notify()

    def update(self, src: str, dst: str, **changes: float | bool) -> None:
        self.set(src, dst, dataclasses.replace(self.rules(src, dst), **changes))  # type: ignore[arg-type]

    def set_default(self, faults: Faults) -> None:
        """Noise on every direction that has no rule of its own."""
        self.default = faults
        self._notify()

    def nodes(self) -> set[str]:
        return {name for proxy in self._proxies for name in (proxy.client, proxy.server)}

    def partition(self, *groups: Iterable[str], mode: str = "stall") -> None:
        """Split the nodes into ``groups``; every direction between two groups gets ``mode``.

        Nodes named in no group form one more group together.
        """
        if mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}")
        sides = [set(g) for g in groups]
        rest = self.nodes() - set().union(*sides)
        if rest:
            sides.append(rest)
        side_of = {name: i for i, side in enumerate(sides) for name in side}
        for a, i in side_of.items():
            for b, j in side_of.items():
                if i != j:
                    self._rules[(a, b)] = dataclasses.replace(self.rules(a, b), **{mode: True})
        self._notify()
        if mode == "reject":
            for a, i in side_of.items():
                for b, j in side_of.items():
                    if i < j:
                        self.reset_connections(a, b)

    def isolate(self, node: str, mode: str = "stall") -> None:
        self.partition({node}, mode=mode)

    def cut(self, src: str, dst: str) -> None:
        """One-way message loss ``src → dst`` while ``dst → src`` flows."""
        self.update(src, dst, cut=True)

    def heal(self) -> None:
        """End every partition; per-direction noise (delay, drop, …) stays."""
        self._rules = {pair: rule.healed() for pair, rule in self._rules.items()}
        self.default = self.default.healed()
        self._notify()

    def clear(self) -> None:
        """No faults at all."""
        self._rules.clear()
        self.default = Faults()
        self._notify()

    def _notify(self) -> None:
        self._changed.set()
        self._changed = asyncio.Event()

    async def changed(self) -> None:
        await self._changed.wait()

    # ---- proxies -----------------------------------------------------------------------------

    async def add_link(self, client: str, server: str, upstream_port: int, listen_port: int = 0,
                       host: str = "127.0.0.1", tls: ssl.SSLContext | None = None) -> LinkProxy:
        """Start a proxy for connections that ``client`` opens to ``server`` (at ``upstream_port``).

        With ``tls``, the proxy terminates TLS like an operator's reverse proxy (the client dials
        ``wss://``; the upstream is plain), and the faults still see every WebSocket frame.
        """
        proxy = LinkProxy(self, client, server, host, upstream_port)
        await proxy.start(listen_port, tls)
        self._proxies.append(proxy)
        return proxy

    def retarget(self, client: str, server: str, upstream_port: int, as_name: str | None = None) -> None:
        """New connections from ``client`` to ``server`` now reach ``upstream_port`` (as if ``server``'s
        address now led to another machine, named ``as_name`` for the rules); open ones are reset."""
        for proxy in self._proxies:
            if (proxy.client, proxy.server) == (client, server):
                proxy.upstream_port = upstream_port
                proxy.server = as_name or server
                proxy.reset_all()
                return
        raise KeyError(f"no link {client} -> {server}")

    def reset_connections(self, a: str | None = None, b: str | None = None) -> int:
        """Abort (RST) open connections between ``a`` and ``b`` (None = any); returns how many."""
        count = 0
        for proxy in self._proxies:
            ends = {proxy.client, proxy.server}
            if (a is None or a in ends) and (b is None or b in ends):
                count += proxy.reset_all()
        return count

    async def close(self) -> None:
        for proxy in self._proxies:
            await proxy.close()
        self._proxies.clear()


class LinkProxy:
    """Listens on 127.0.0.1 and forwards each connection from ``client`` to ``server``."""

    def __init__(self, network: FaultNetwork, client: str, server: str, host: str,
                 upstream_port: int) -> None:
        self.network = network
        self.client = client
        self.server = server
        self.host = host
        self.upstream_port = upstream_port
        self.port = 0
        self.accepted = 0
        self._server: asyncio.Server | None = None
        self._conns: set[_Connection] = set()

    async def start(self, listen_port: int = 0, tls: ssl.SSLContext | None = None) -> None:
        self._server = await asyncio.start_server(self._on_accept, self.host, listen_port, ssl=tls)
        self.port = self._server.sockets[0].getsockname()[1]

    def reset_all(self) -> int:
        conns = list(self._conns)
        for conn in conns:
            conn.reset("manual")
        return len(conns)

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
        for conn in list(self._conns):
            conn.reset("closing")
        for conn in list(self._conns):
            await conn.done.wait()
        if self._server is not None:
            with contextlib.suppress(Exception):
                await self._server.wait_closed()

    async def _on_accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.accepted += 1
        number = self.accepted
        net = self.network
        if net.rules(self.client, self.server).reject or net.rules(self.server, self.client).reject:
            net.stats[f"{self.client}->{self.server}:refused"] += 1
            abort(writer)
            return
        try:
            up_reader, up_writer = await asyncio.wait_for(
                asyncio.open_connection(self.host, self.upstream_port), CONNECT_TIMEOUT_S)
        except (OSError, TimeoutError):
            net.stats[f"{self.client}->{self.server}:upstream_failed"] += 1
            abort(writer)
            return
        conn = _Connection(self, number, (reader, writer), (up_reader, up_writer))
        self._conns.add(conn)
        try:
            await conn.run()
        finally:
            self._conns.discard(conn)


class _Connection:
    def __init__(self, proxy: LinkProxy, number: int,
                 downstream: tuple[asyncio.StreamReader, asyncio.StreamWriter],
                 upstream: tuple[asyncio.StreamReader, asyncio.StreamWriter]) -> None:
        self.proxy = proxy
        self.writers = (downstream[1], upstream[1])
        self.done = asyncio.Event()
        self.was_reset = False
        mode = LinkMode()
        seed = proxy.network.seed
        c, s = proxy.client, proxy.server
        self.pumps = (
            Pump(self, c, s, downstream[0], upstream[1], StreamSplitter(mode, client_side=True),
                  random.Random(f"{seed}/{c}->{s}/{number}")),
            Pump(self, s, c, upstream[0], downstream[1], StreamSplitter(mode, client_side=False),
                  random.Random(f"{seed}/{s}->{c}/{number}")),
        )
        self._tasks: list[asyncio.Task[None]] = []

    async def run(self) -> None:
        self._tasks = [asyncio.create_task(p.run()) for p in self.pumps]
        try:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        finally:
            for writer in self.writers:
                with contextlib.suppress(Exception):
                    writer.close()
            self.done.set()

    def reset(self, why: str) -> None:
        if self.was_reset:
            return
        self.was_reset = True
        self.proxy.network.stats[f"{self.proxy.client}->{self.proxy.server}:reset_{why}"] += 1
        for writer in self.writers:
            abort(writer)
        for task in self._tasks:
            if task is not asyncio.current_task():
                task.cancel()

