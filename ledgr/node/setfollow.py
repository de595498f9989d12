"""Following validator-set changes from genesis to a state-sync anchor without executing blocks
(consensus.md §3 item 4: "Verifiers follow validator-set changes sequentially"; CometBFT's
sequential light client).

A new node trusts its genesis set. To trust the QC of an anchor height ``S`` signed by a later set,
it walks the blocks 1..S: every block's QC must verify against the set the node holds for that
height. A change shows in the headers first: a change committed at H makes header H+1 announce it in
``next_validators_hash`` and header H+2 sign with it. The set itself is taken from a
``validators.update`` operation in an earlier block whose proposed set hashes to the announced value
(a rejected operation in a block is harmless: its set is not announced, so it is never used).
Blocks are downloaded but not executed, so this costs bandwidth and three signature checks per
block, not the replay.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ledgr.errors import InvalidInput, LedgrError, PeerError
from ledgr.ledger.formats import Block, verify_qc
from ledgr.ledger.formats import QuorumCertificate as LedgerQC
from ledgr.ledger.operations import decode_operation
from ledgr.ledger.validators import ValidatorSet
from ledgr.node.logs import get_logger
from ledgr.node.wire import SyncedBlock

if TYPE_CHECKING:
    from ledgr.node.runtime import Node

log = get_logger("ledgr.setfollow")

MAX_CANDIDATES = 64


def _proposed_sets(block: Block) -> list[ValidatorSet]:
    found = []
    for envelope in block.operations:
        try:
            op = decode_operation(envelope)
            if op.type == "validators.update":
                found.append(ValidatorSet.from_json(op.body.get("validator_set")))
        except (LedgrError, AttributeError):
            continue
    return found


class SetFollower:
    """Sequential verification of blocks from ``next_height`` on: each must extend the previous one
    (``prev_hash``), carry the operations its ``tx_root`` names, and hold a QC of the validator set of
    its height, which is followed through announced changes as described above. Used to reach a
    state-sync anchor's set (:func:`validator_set_at`) and to back-fill history below an anchor
    (``ledgr.node.backfill``); its state is plain JSON so a back-fill resumes after a restart."""

    def __init__(self, current: ValidatorSet, next_height: int = 1, prev_hash: bytes | None = None,
                 announced_next: bytes | None = None,
                 candidates: dict[bytes, ValidatorSet] | None = None) -> None:
        self.current = current
        self.next_height = next_height
        self.prev_hash = prev_hash
        self.announced_next = announced_next if announced_next is not None else current.hash()
        self.candidates = dict(candidates or {})

    def accept(self, synced: SyncedBlock) -> Block:
        """Check block ``next_height`` and advance; raises PeerError (nothing changes) if it fails."""
        height = self.next_height
        try:
            block = Block.decode(synced.block)
            qc = LedgerQC.decode(synced.qc)
        except LedgrError as exc:
            raise PeerError(f"block {height}: {exc.detail}") from exc
        header = block.header
        if synced.height != height or header.height != height:
            raise PeerError(f"expected block {height}, got {header.height}")
        if self.prev_hash is not None and header.prev_hash != self.prev_hash:
            raise PeerError(f"block {height} does not link to block {height - 1} (prev_hash differs)")
        if block.computed_tx_root() != header.tx_root:
            raise PeerError(f"block {height}: its operations do not match its tx_root")
        current = self.current
        if header.validators_hash != current.hash():
            # only the set the previous *verified* header announced may take over
            announced = self.candidates.get(header.validators_hash)
            if announced is None or header.validators_hash != self.announced_next:
                raise PeerError(f"block {height} is signed by a validator set that was not announced")
            current = announced
        try:
            verify_qc(qc, header, current)
        except (InvalidInput, LedgrError) as exc:
            raise PeerError(f"block {height}: {exc.detail}") from exc
        candidates = dict(self.candidates)
        for proposed in _proposed_sets(block):
            if len(candidates) < MAX_CANDIDATES:
                candidates[proposed.hash()] = proposed
        announced_next = header.next_validators_hash
        if announced_next != current.hash() and announced_next not in candidates:
            raise PeerError(f"block {height} announces a validator set no earlier block proposed")
        self.current, self.candidates, self.announced_next = current, candidates, announced_next
        self.prev_hash, self.next_height = block.hash(), height + 1
        return block

    def set_for_next(self) -> ValidatorSet:
        """The set that signs ``next_height`` (the one the last accepted header announced)."""
        if self.announced_next != self.current.hash():
            return self.candidates[self.announced_next]
        return self.current

    def to_json(self) -> dict[str, Any]:
        prev = None if self.prev_hash is None else self.prev_hash.hex()
        return {"next_height": self.next_height, "prev_hash": prev,
                "current": self.current.to_json(), "announced_next": self.announced_next.hex(),
                "candidates": [c.to_json() for c in self.candidates.values()]}

    @classmethod
    def from_json(cls, value: dict[str, Any]) -> SetFollower:
        candidates = [ValidatorSet.from_json(c) for c in value["candidates"]]
        prev = value["prev_hash"]
        return cls(ValidatorSet.from_json(value["current"]), int(value["next_height"]),
                   None if prev is None else bytes.fromhex(prev), bytes.fromhex(value["announced_next"]),
                   {c.hash(): c for c in candidates})


async def validator_set_at(node: Node, target: int, trusted: ValidatorSet) -> ValidatorSet:
    """The set that signs ``target``, reached from ``trusted`` (height 1's set) through verified QCs."""
    follower = SetFollower(trusted)
    while follower.next_height < target:
        height = follower.next_height
        blocks = await node.sync.fetch(height)
        if not blocks or blocks[0].height != height:
            raise PeerError(f"no peer served block {height} for following validator-set changes")
        for synced in blocks:
            if follower.next_height >= target:
                break
            follower.accept(synced)
    current = follower.set_for_next()  # header S-1 announced the set that signs S
    log.info("validator_sets_followed", to_height=target, validators=[v.name for v in current.validators])
    return current
