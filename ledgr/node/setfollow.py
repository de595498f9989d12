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

from typing import TYPE_CHECKING

from ledgr.errors import InvalidInput, LedgrError, PeerError
from ledgr.ledger.formats import Block, verify_qc
from ledgr.ledger.formats import QuorumCertificate as LedgerQC
from ledgr.ledger.operations import decode_operation
from ledgr.ledger.validators import ValidatorSet
from ledgr.node.logs import get_logger

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


async def validator_set_at(node: Node, target: int, trusted: ValidatorSet) -> ValidatorSet:
    """The set that signs ``target``, reached from ``trusted`` (height 1's set) through verified QCs."""
    current = trusted
    candidates: dict[bytes, ValidatorSet] = {}
    announced_next = trusted.hash()
    height = 1
    while height < target:
        blocks = await node.sync.fetch(height)
        if not blocks or blocks[0].height != height:
            raise PeerError(f"no peer served block {height} for following validator-set changes")
        for synced in blocks:
            if synced.height != height or height >= target:
                break
            block = Block.decode(synced.block)
            header = block.header
            if header.validators_hash != current.hash():
                # only the set the previous *verified* header announced may take over
                announced = candidates.get(header.validators_hash)
                if announced is None or header.validators_hash != announced_next:
                    raise PeerError(f"block {height} is signed by a validator set that was not announced")
                current = announced
            try:
                verify_qc(LedgerQC.decode(synced.qc), header, current)
            except (InvalidInput, LedgrError) as exc:
                raise PeerError(f"block {height}: {exc.detail}") from exc
            for proposed in _proposed_sets(block):
                if len(candidates) < MAX_CANDIDATES:
                    candidates[proposed.hash()] = proposed
            announced_next = header.next_validators_hash
            if announced_next != current.hash() and announced_next not in candidates:
                raise PeerError(f"block {height} announces a validator set no earlier block proposed")
            height += 1
    if announced_next != current.hash():  # header S-1 announced the set that signs S
        current = candidates[announced_next]
    log.info("validator_sets_followed", to_height=target, validators=[v.name for v in current.validators])
    return current
