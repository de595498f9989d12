"""One direction of a proxied connection: read, split into units, apply faults, deliver on time.

Part of the fault proxy (proxy.py explains what each fault means over TCP). Units are delivered in
order of their due time; a unit's due time is ``now + delay + jitter`` but never earlier than the
previous unit's (TCP keeps order), except for a message chosen for reordering, which is held
``reorder_ms`` longer and may be overtaken. Pending bytes per direction are bounded; the reader waits
(TCP flow control towards the sender) when the bound is reached.
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import random
import socket
import struct
from typing import TYPE_CHECKING

from tests.faults.streams import DATA, RAW, StreamSplitter, Unit

if TYPE_CHECKING:
    from tests.faults.proxy import Faults, _Connection

READ_BYTES = 64 << 10
MAX_PENDING_BYTES = 32 << 20


class Pump:
    """One direction of a connection: read, split into units, apply faults, deliver on time."""

    def __init__(self, conn: _Connection, src: str, dst: str, reader: asyncio.StreamReader,
                 writer: asyncio.StreamWriter, splitter: StreamSplitter, rng: random.Random) -> None:
        self.conn = conn
        self.net = conn.proxy.network
        self.src = src
        self.dst = dst
        self.reader = reader
        self.writer = writer
        self.splitter = splitter
        self.rng = rng
        self.heap: list[tuple[float, int, bytes]] = []
        self.pending_bytes = 0
        self.seq = 0
        self.last_at = 0.0
        self.eof = False
        self.wake = asyncio.Event()
        self.space = asyncio.Event()

    def _count(self, what: str, n: int = 1) -> None:
        self.net.stats[f"{self.src}->{self.dst}:{what}"] += n

    def _rules(self) -> Faults:
        return self.net.rules(self.src, self.dst)

    async def _while(self, flag: str) -> None:
        while getattr(self._rules(), flag):
            await self.net.changed()

    async def run(self) -> None:
        deliver = asyncio.create_task(self._deliver())
        try:
            while True:
                await self._while("stall")
                data = await self.reader.read(READ_BYTES)
                if not data:
                    break
                for unit in self.splitter.feed(data):
                    await self._admit(unit)
            self.eof = True
            self.wake.set()
            await deliver
        except (ConnectionError, OSError):
            self.conn.reset("error")
        finally:
            deliver.cancel()

    async def _admit(self, unit: Unit) -> None:
        rules = self._rules()
        if rules.reject:
            self.conn.reset("reject")
            return
        late = False
        copies = 1
        if unit.kind == DATA:
            self._count("data")
            if rules.cut:
                self._count("cut")
                return
            if self.rng.random() < rules.reset:
                self.conn.reset("random")
                return
            if self.rng.random() < rules.drop:
                self._count("dropped")
                return
            if self.rng.random() < rules.duplicate:
                copies = 2
                self._count("duplicated")
            if self.rng.random() < rules.reorder:
                late = True
                self._count("reordered")
        elif unit.kind == RAW and rules.cut and self.splitter.opaque:
            await self._while("cut")
            rules = self._rules()
        for i in range(copies):
            await self._schedule(unit.data, rules, late and i == 0)
        self._count("units")

    async def _schedule(self, data: bytes, rules: Faults, late: bool) -> None:
        while self.pending_bytes + len(data) > MAX_PENDING_BYTES and self.heap:
            self.space.clear()
            await self.space.wait()
        now = asyncio.get_running_loop().time()
        at = now + (rules.delay_ms + rules.jitter_ms * self.rng.random()) / 1000
        if late:
            at += rules.reorder_ms / 1000
        else:
            at = max(at, self.last_at)
            self.last_at = at
        self.seq += 1
        heapq.heappush(self.heap, (at, self.seq, data))
        self.pending_bytes += len(data)
        self.wake.set()

    async def _deliver(self) -> None:
        try:
            await self._deliver_loop()
        except (ConnectionError, OSError, RuntimeError):
            self.conn.reset("error")

    async def _deliver_loop(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            if not self.heap:
                if self.eof:
                    if self.writer.can_write_eof():
                        with contextlib.suppress(OSError, RuntimeError):
                            self.writer.write_eof()
                    return
                self.wake.clear()
                await self.wake.wait()
                continue
            wait_s = self.heap[0][0] - loop.time()
            if wait_s > 0:
                self.wake.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self.wake.wait(), wait_s)
                continue
            await self._while("stall")
            _at, _seq, data = heapq.heappop(self.heap)
            self.pending_bytes -= len(data)
            self.space.set()
            self.writer.write(data)
            await self.writer.drain()


def abort(writer: asyncio.StreamWriter) -> None:
    """Close with an RST (SO_LINGER 0), as a crashed host or a REJECT rule would."""
    sock = writer.get_extra_info("socket")
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.transport.abort()
