"""The operation desk: how signed operations enter the node, travel to the peers, and are reported.

Entry from a client (``POST /v1/operations``): size limit, strict envelope decoding (schema), then
the check against current state (signature of the current controller key, authorization, ``prev``,
``valid_until_height``) on a worker thread — Ed25519 verification releases the GIL, so it does not
stall the event loop. Accepted operations go into the mempool and are forwarded to every validator
in batches (``u32 count ‖ (u32 len ‖ envelope)*`` frames; everything accepted in one loop iteration
goes in one frame), so whichever validator proposes next has them.

Entry from a validator's forward: size limit and strict decoding only. The sender is an
authenticated validator that ran the full check on entry, and every operation is checked again
against state when a block is built (and when any validator re-executes it), so repeating the
signature and rule checks on all three nodes would only triple the CPU per operation. A misbehaving
validator can at most fill the (bounded) mempool with operations that the proposer then rejects.

Status (``GET /v1/operations/{hash}``): committed (location, header, QC, inclusion proof) from the
store, pending from the mempool, rejected (with the rule) from the mempool's rejection memory, else
404; ``wait`` blocks until a commit changes the answer or the time is up.
"""

from __future__ import annotations

import asyncio
import contextlib
import struct
from typing import TYPE_CHECKING, Any

from ledgr.crypto import sha256
from ledgr.errors import Conflict, LedgrError, NotFound, PeerError, RateLimited, TooLarge, Unavailable
from ledgr.node.logs import get_logger
from ledgr.node.mempool import PendingOp
from ledgr.node.peers import KIND_OPERATION
from ledgr.node.workers import SMALL_JOB_OPS

if TYPE_CHECKING:
    from ledgr.node.runtime import Node

log = get_logger("ledgr.ops")

FORWARD_MAX_OPS = 512
MAX_WAITED_OPS = 50000
CHECK_BATCH = 256
MAX_QUEUED_CHECKS = 10000
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
        self._waiters: dict[bytes, set[asyncio.Future[None]]] = {}
        self._check_queue: list[tuple[bytes, asyncio.Future[LedgrError | None]]] = []
        self._check_task: asyncio.Future[None] | None = None
        self._forwarded: list[bytes] = []
        self._forward_task: asyncio.Future[None] | None = None

    # ---- entry ---------------------------------------------------------------------------------

    async def submit(self, envelope: bytes) -> tuple[str, bool]:
        """Check and accept one operation; returns its hash (hex) and whether it was new."""
        node = self.node
        if node.observer:
            raise Unavailable("this is an observer node (it takes no writes); submit to a validator")
        if not node.takes_operations():
            # the node's state is not usable yet (empty, or a state-sync snapshot being downloaded):
            # an entry check against it would be wrong
            raise Unavailable("this node is still catching up with the network; retry shortly or "
                              "submit to another validator")
        limit = node.config.mempool.max_op_bytes
        if len(envelope) > limit:
            raise TooLarge(f"operation exceeds {limit} bytes", limit=limit)
        op_hash = sha256(envelope)
        if op_hash in node.mempool:
            return op_hash.hex(), False
        error = await self._checked(envelope)
        if error is not None:
            if isinstance(error, Conflict) and error.extra.get("rule") == "committed":
                return op_hash.hex(), False
            node.metrics.ops_rejected.labels("entry").inc()
            raise error
        if node.mempool.add(PendingOp(op_hash, envelope, None, node.clock.monotonic_s())):
            self._outbox.append(envelope)
            self._outbox_ready.set()
            node.metrics.mempool_size.set(len(node.mempool))
            node.driver.wake()
        return op_hash.hex(), True

    async def _checked(self, envelope: bytes) -> LedgrError | None:
        """Full entry check in the check worker; concurrent submissions share one batch."""
        if len(self._check_queue) >= MAX_QUEUED_CHECKS:
            raise RateLimited("too many operations are waiting to be checked; retry later")
        future: asyncio.Future[LedgrError | None] = asyncio.get_running_loop().create_future()
        self._check_queue.append((envelope, future))
        if self._check_task is None or self._check_task.done():
            self._check_task = asyncio.ensure_future(self._run_checks())
        return await future

    async def _run_checks(self) -> None:
        node = self.node
        while self._check_queue:
            batch, self._check_queue = self._check_queue[:CHECK_BATCH], self._check_queue[CHECK_BATCH:]
            try:
                verdicts = await node.chain.workers.check([e for e, _ in batch], node.chain.height + 1,
                                                          node.chain.tip_time_ms + 1, True, self._idle())
            except Exception as exc:  # a dead worker must fail the requests, not hang them
                log.error("check_worker_failed", error=str(exc) or type(exc).__name__)
                verdicts = [Unavailable("the operation checker is unavailable; retry")] * len(batch)
            for (_envelope, future), verdict in zip(batch, verdicts, strict=True):
                if not future.done():
                    future.set_result(verdict)

    def _idle(self) -> bool:
        """Few operations pending: the next block is small enough for the node's own thread."""
        return len(self.node.mempool) < SMALL_JOB_OPS

    def on_forwarded(self, payload: bytes) -> None:
        """A peer forwarded operations: decode them off the loop and add the well-formed ones."""
        if not self.node.takes_operations():
            # still without a usable state (e.g. downloading a state-sync snapshot): the validators
            # that forwarded them hold these operations; kept here, one committed below this node's
            # snapshot could never be matched to its commit and would be reported rejected
            self.node.metrics.ops_rejected.labels("not_started").inc()
            return
        cfg = self.node.config.mempool
        envelopes = decode_batch(payload, FORWARD_MAX_OPS, cfg.max_op_bytes)
        fresh = [e for e in envelopes if sha256(e) not in self.node.mempool]
        room = MAX_QUEUED_CHECKS - len(self._forwarded)
        if len(fresh) > room:
            self.node.metrics.ops_rejected.labels("forward_queue_full").inc(len(fresh) - max(room, 0))
            fresh = fresh[:max(room, 0)]
        if fresh:
            self._forwarded.extend(fresh)
            if self._forward_task is None or self._forward_task.done():
                self._forward_task = asyncio.ensure_future(self._drain_forwarded())
                self._forward_task.add_done_callback(lambda t: t.exception() if not t.cancelled() else None)

    async def _drain_forwarded(self) -> None:
        """One task admits forwarded operations, all that arrived meanwhile in one worker job
        (each job costs an IPC round trip; frames of one or two operations would multiply them)."""
        while self._forwarded:
            batch, self._forwarded = self._forwarded[:CHECK_BATCH], self._forwarded[CHECK_BATCH:]
            await self._admit_forwarded(batch)

    async def _admit_forwarded(self, envelopes: list[bytes]) -> None:
        node = self.node
        chain = node.chain
        verdicts = await chain.workers.check(envelopes, chain.height + 1, chain.tip_time_ms + 1, False,
                                             self._idle())
        now = node.clock.monotonic_s()
        added = 0
        for envelope, error in zip(envelopes, verdicts, strict=True):
            if error is not None:
                node.metrics.ops_rejected.labels("forwarded").inc()
                continue
            try:
                added += node.mempool.add(PendingOp(sha256(envelope), envelope, None, now))
            except LedgrError:
                node.metrics.ops_rejected.labels("mempool_full").inc()
                break
        node.metrics.mempool_size.set(len(node.mempool))
        if added:
            node.driver.wake()

    async def forward_loop(self) -> None:
        while True:
            await self._outbox_ready.wait()
            await asyncio.sleep(0)  # let the submissions of this loop iteration join the batch
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

    def notify(self, op_hashes: list[bytes]) -> None:
        """Wake the waiters of these operations (committed or rejected)."""
        for op_hash in op_hashes:
            for future in self._waiters.pop(op_hash, ()):
                if not future.done():
                    future.set_result(None)

    async def wait_status(self, op_hash: bytes, wait_s: float) -> dict[str, Any]:
        """The status, waiting up to ``wait_s`` for a pending (or not yet seen) operation to settle.

        Waiters are kept per operation hash and woken only by that operation's commit or
        rejection, so thousands of waiting clients cost nothing per block."""
        try:
            answer: dict[str, Any] | None = self.status(op_hash)
        except NotFound:
            answer = None
        if (answer is not None and answer["status"] != "pending") or wait_s <= 0:
            if answer is None:
                raise NotFound(f"no operation {op_hash.hex()} is known to this node")
            return answer
        if len(self._waiters) >= MAX_WAITED_OPS and op_hash not in self._waiters:
            raise RateLimited("too many clients are waiting for operations; retry later")
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        waiters = self._waiters.setdefault(op_hash, set())
        waiters.add(future)
        try:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(future, wait_s)
        finally:
            waiters.discard(future)
            if not waiters and self._waiters.get(op_hash) is waiters:
                del self._waiters[op_hash]
        return self.status(op_hash)
