"""Puts the equivocation evidence this node detected on the ledger (issue 7).

Pending evidence (:class:`ledgr.node.evidence_log.EvidenceLog`) is turned into an ``evidence.submit``
operation signed with this validator's node key and enters through the node's own operation desk,
exactly like a client's operation (entry check, mempool, forwarded to the other validators). It is
submitted when detected, and again at most every :data:`RESUBMIT_HEIGHTS` heights while it is not
on the ledger (the envelope expired, a proposer dropped it, the node restarted before it was
committed). Submitting twice is harmless: the ledger stores one offence once (``evidence-exists``),
and any validator's submission is as good as ours. Observers and nodes outside the validator set do
not submit (the ledger only takes it from a current validator's node key); they still show what the
ledger holds.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from ledgr.errors import LedgrError
from ledgr.node.bridge import evidence_operation
from ledgr.node.logs import get_logger

if TYPE_CHECKING:
    from ledgr.node.runtime import Node

log = get_logger("ledgr.evidence")

VALIDITY_HEIGHTS = 50
RESUBMIT_HEIGHTS = 20


class EvidenceDesk:
    def __init__(self, node: Node) -> None:
        self.node = node
        self.attempted: dict[str, int] = {}  # ledger id -> height of the last submission
        self._task: asyncio.Task[None] | None = None

    def after_commit(self, height: int) -> None:
        """Every commit: take in newly committed evidence, then submit what is still pending."""
        evidence = self.node.evidence
        evidence.refresh_committed()
        for ident in [i for i in self.attempted if i not in evidence.pending]:
            del self.attempted[ident]
        self.kick()

    def kick(self) -> None:
        """Submit due pending evidence in the background (one task at a time)."""
        if not self.node.evidence.pending or (self._task is not None and not self._task.done()):
            return
        node = self.node
        if node.observer or node.me not in node.chain.validator_keys(node.chain.height + 1):
            return
        self._task = asyncio.ensure_future(self._submit_due())
        self._task.add_done_callback(_log_failure)

    async def _submit_due(self) -> None:
        node = self.node
        height = node.chain.height
        for ident, evidence in list(node.evidence.pending.items()):
            last = self.attempted.get(ident)
            if last is not None and height - last < RESUBMIT_HEIGHTS:
                continue
            self.attempted[ident] = height
            envelope = evidence_operation(evidence, node.key, height + VALIDITY_HEIGHTS)
            try:
                op_hash, _new = await node.desk.submit(envelope)
            except LedgrError as exc:
                if exc.extra.get("rule") == "evidence-exists":
                    node.evidence.pending.pop(ident, None)
                    continue
                log.warning("evidence_submit_failed", id=ident, error=exc.detail,
                            rule=exc.extra.get("rule"))
                continue
            log.info("evidence_submitted", id=ident, operation=op_hash)


def _log_failure(task: asyncio.Task[None]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.error("evidence_submit_crashed", error=repr(task.exception()))
