"""The operation desk: how signed operations enter the node, travel to the peers, and are reported.

Entry (``POST /v1/operations`` or a peer's forward): size limit, strict envelope decoding, then the
check against current state (signature of the current controller key, authorization, ``prev``,
``valid_until_height``) on a worker thread — Ed25519 verification releases the GIL, so it does not
stall the event loop. Accepted operations go into the mempool; the ones that came over HTTP are
forwarded to every validator in batches (``u32 count ‖ (u32 len ‖ envelope)*`` frames, at most every
``FORWARD_INTERVAL_S``), so whichever validator proposes next has them.

Status (``GET /v1/operations/{hash}``): committed (location, header, QC, inclusion proof) from the
store, pending from the mempool, rejected (with the rule) from the mempool's rejection memory, else
404; ``wait`` blocks until a commit changes the answer or the time is up.
"""

from __future__ import annotations

import asyncio
import struct
from typing import TYPE_CHECKING, Any

from ledgr.errors import LedgrError, NotFound, PeerError, TooLarge
from ledgr.node.logs import get_logger
from ledgr.node.mempool import PendingOp
from ledgr.node.peers import KIND_OPERATION

if TYPE_CHECKING:
    from ledgr.node.runtime import Node

log = get_logger("ledgr.ops")

FORWARD_INTERVAL_S = 0.002
FORWARD_MAX_OPS = 512
_U32 = struct.Struct(">I")


def encode_batch(envelopes: list[bytes]) -> bytes:
    return _U32.pack(len(envelopes)) + b"".join(_U32.pack(len(e)) + e for e in envelopes)


def decode_batch(data: bytes, max_ops: int, max_op_bytes: int) -> list[bytes]:
    if len(data) < 4:
        raise PeerError("truncated operation batch")
    (count,) = _U32.unpack_from(data, 0)
    if count > max_ops:
        raise PeerError("operation batch too large")
    pos = 4
    out = []
    for _ in range(count):
        if pos + 4 > len(data):
            raise PeerError("truncated operation batch")
        (size,) = _U32.unpack_from(data, pos)
        pos += 4
        if size > max_op_bytes or pos + size > len(data):
            raise PeerError("malformed operation batch")
        out.append(data[pos:pos + size])
        pos += size
    if pos != len(data):
        raise PeerError("trailing bytes in operation batch")
    return out


class OperationDesk:
    def __init__(self, node: Node) -> None:
        self.node = node
        self._outbox: list[bytes] = []
        self._outbox_ready = asyncio.Event()

    # ---- entry ---------------------------------------------------------------------------------

    async def submit(self, envelope: bytes) -> tuple[str, bool]:
        """Check and accept one operation; returns its hash (hex) and whether it was new."""
        node = self.node
        limit = node.config.mempool.max_op_bytes
        if len(envelope) > limit:
            raise TooLarge(f"operation exceeds {limit} bytes", limit=limit)
        op = node.chain.decode_envelope(envelope)
        op_hash: bytes = op.hash
        if op_hash in node.mempool or node.chain.op_location(op_hash) is not None:
            return op_hash.hex(), False
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(node.checker, node.chain.precheck, op)
        if node.mempool.add(PendingOp(op_hash, envelope, op, node.clock.monotonic_s())):
            self._outbox.append(envelope)
            self._outbox_ready.set()
            node.metrics.mempool_size.set(len(node.mempool))
            node.driver.wake()
        return op_hash.hex(), True

    def on_forwarded(self, payload: bytes) -> None:
        """A peer forwarded operations: check them off the loop and add the good ones."""
        cfg = self.node.config.mempool
        envelopes = decode_batch(payload, FORWARD_MAX_OPS, cfg.max_op_bytes)
        task = asyncio.ensure_future(self._admit_forwarded(envelopes))
        task.add_done_callback(lambda t: t.exception() if not t.cancelled() else None)

    async def _admit_forwarded(self, envelopes: list[bytes]) -> None:
        node = self.node
        loop = asyncio.get_running_loop()
        checked = await loop.run_in_executor(node.checker, self._check_many, envelopes)
        now = node.clock.monotonic_s()
        for envelope, op in checked:
            try:
                node.mempool.add(PendingOp(op.hash, envelope, op, now))
            except LedgrError:
                node.metrics.ops_rejected.labels("mempool_full").inc()
                break
        node.metrics.mempool_size.set(len(node.mempool))
        if checked:
            node.driver.wake()

    def _check_many(self, envelopes: list[bytes]) -> list[tuple[bytes, Any]]:
        node = self.node
        out = []
        for envelope in envelopes:
            try:
                op = node.chain.decode_envelope(envelope)
                if op.hash in node.mempool or node.chain.op_location(op.hash) is not None:
                    continue
                node.chain.precheck(op)
            except LedgrError:
                node.metrics.ops_rejected.labels("forwarded").inc()
                continue
            out.append((envelope, op))
        return out

    async def forward_loop(self) -> None:
        while True:
            await self._outbox_ready.wait()
            await asyncio.sleep(FORWARD_INTERVAL_S)
            self._outbox_ready.clear()
            while self._outbox:
                batch, self._outbox = self._outbox[:FORWARD_MAX_OPS], self._outbox[FORWARD_MAX_OPS:]
                self.node.peers.broadcast(KIND_OPERATION, encode_batch(batch))

    # ---- status --------------------------------------------------------------------------------

    def status(self, op_hash: bytes) -> dict[str, Any]:
        node = self.node
        committed = node.chain.op_receipt(op_hash)
        if committed is not None:
            return {"status": "committed", **committed}
        if op_hash in node.mempool:
            return {"status": "pending", "hash": op_hash.hex()}
        reason = node.mempool.rejection(op_hash)
        if reason is not None:
            return {"status": "rejected", "hash": op_hash.hex(), "reason": reason}
        raise NotFound(f"no operation {op_hash.hex()} is known to this node")

    async def wait_status(self, op_hash: bytes, wait_s: float) -> dict[str, Any]:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + wait_s
        while True:
            try:
                answer = self.status(op_hash)
            except NotFound:
                answer = None
            if answer is not None and answer["status"] != "pending":
                return answer
            remaining = deadline - loop.time()
            if remaining <= 0:
                if answer is None:
                    raise NotFound(f"no operation {op_hash.hex()} is known to this node")
                return answer
            await self.node.wait_commit(remaining)
