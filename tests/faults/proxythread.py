"""Running a :class:`~tests.faults.proxy.FaultNetwork` on its own event loop in a daemon thread.

Integration tests and the soak command drive node processes and a client workload from their own
code; the proxies must keep forwarding meanwhile, so they get a loop of their own. Every control
call is marshalled onto that loop and waits for its result.
"""

from __future__ import annotations

import asyncio
import ssl
import threading
from collections import Counter
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from tests.faults.proxy import FaultNetwork, Faults, LinkProxy

T = TypeVar("T")
CALL_TIMEOUT_S = 30.0


class ProxyThread:
    """``with ProxyThread(seed) as faults: faults.add_link(...); faults.partition(...)``."""

    def __init__(self, seed: int, default: Faults | None = None) -> None:
        self.seed = seed
        self._default = default
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="fault-proxy", daemon=True)
        self._network: FaultNetwork | None = None

    def __enter__(self) -> ProxyThread:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> None:
        self._thread.start()

        async def build() -> FaultNetwork:
            return FaultNetwork(self.seed, self._default)

        self._network = self._await(build())

    def stop(self) -> None:
        if self._network is not None:
            self._await(self._network.close())
            self._network = None
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=CALL_TIMEOUT_S)
        self._loop.close()

    def _await(self, coro: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(CALL_TIMEOUT_S)

    def call(self, fn: Callable[[FaultNetwork], T]) -> T:
        """Run ``fn(network)`` on the proxy loop and return its result."""
        network = self._network
        assert network is not None, "ProxyThread not started"

        async def run() -> T:
            return fn(network)

        result: T = self._await(run())
        return result

    # ---- the FaultNetwork surface ----------------------------------------------------------

    def add_link(self, client: str, server: str, upstream_port: int, listen_port: int = 0,
                 tls: ssl.SSLContext | None = None) -> int:
        """Start a link proxy; returns the port ``client`` must dial instead of ``server``."""
        assert self._network is not None
        proxy: LinkProxy = self._await(self._network.add_link(client, server, upstream_port, listen_port,
                                                              tls=tls))
        return proxy.port

    def set(self, src: str, dst: str, faults: Faults) -> None:
        self.call(lambda n: n.set(src, dst, faults))

    def set_default(self, faults: Faults) -> None:
        self.call(lambda n: n.set_default(faults))

    def partition(self, *groups: Iterable[str], mode: str = "stall") -> None:
        frozen = [set(g) for g in groups]
        self.call(lambda n: n.partition(*frozen, mode=mode))

    def isolate(self, node: str, mode: str = "stall") -> None:
        self.call(lambda n: n.isolate(node, mode=mode))

    def cut(self, src: str, dst: str) -> None:
        self.call(lambda n: n.cut(src, dst))

    def heal(self) -> None:
        self.call(lambda n: n.heal())

    def clear(self) -> None:
        self.call(lambda n: n.clear())

    def retarget(self, client: str, server: str, upstream_port: int, as_name: str | None = None) -> None:
        self.call(lambda n: n.retarget(client, server, upstream_port, as_name))

    def reset_connections(self, a: str | None = None, b: str | None = None) -> int:
        return self.call(lambda n: n.reset_connections(a, b))

    def stats(self) -> Counter[str]:
        return self.call(lambda n: Counter(n.stats))
