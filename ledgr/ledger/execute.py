"""Deterministic block execution: ``execute_block`` (validators) and ``build_block`` (proposer).

Same state + same block bytes → same writes → same ``app_root`` on every machine (consensus.md §1.3,
execute-before-vote). Operations run in block order, each against the writes of those before it;
a rejected operation changes nothing and gets a receipt naming the rule it broke. At the end of the
block, every written key is folded into the sparse Merkle tree in one batch.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from ledgr.crypto import sha256
from ledgr.errors import InvariantViolation, LedgrError, OperationRejected, VerificationFailed
from ledgr.ledger.context import ExecContext
from ledgr.ledger.formats import Block, Header, tx_root
from ledgr.ledger.genesis import evidence_max_age_heights
from ledgr.ledger.limits import MAX_STATE_KEY_BYTES
from ledgr.ledger.operations import Operation, decode_operation
from ledgr.ledger.queries import read_chain_record, read_validator_record
from ledgr.ledger.records import ChainRecord, ValidatorRecord, encode
from ledgr.ledger.rules_did import apply_did_create, apply_did_deactivate, apply_did_update
from ledgr.ledger.rules_evidence import apply_evidence_submit
from ledgr.ledger.rules_registry import (
    apply_resource_create,
    apply_statuslist_create,
    apply_statuslist_update,
)
from ledgr.ledger.rules_validators import apply_validators_update
from ledgr.ledger.smt import apply_updates
from ledgr.ledger.state import (
    TIP_KEY,
    VALIDATORS_KEY,
    Overlay,
    StateReader,
    Tip,
    is_meta_key,
    read_tip,
)
from ledgr.ledger.validator_history import record_activation

Handler = Callable[[Overlay, Operation, ExecContext], None]
HANDLERS: dict[str, Handler] = {
    "did.create": apply_did_create,
    "did.update": apply_did_update,
    "did.deactivate": apply_did_deactivate,
    "statuslist.create": apply_statuslist_create,
    "statuslist.update": apply_statuslist_update,
    "resource.create": apply_resource_create,
    "validators.update": apply_validators_update,
    "evidence.submit": apply_evidence_submit,
}


@dataclass(frozen=True, slots=True)
class OperationReceipt:
    """Outcome of one operation of a block: accepted, or rejected with the rule it broke."""

    hash: bytes
    index: int
    accepted: bool
    rule: str | None = None
    detail: str | None = None


@dataclass(frozen=True, slots=True)
class BlockResult:
    """Everything a store persists for one block, in one durable transaction.

    ``state_writes`` keys are at most 511 bytes; a ``0x00``-prefixed key is meta (not in the SMT).
    ``validators_hash``/``next_validators_hash`` are the values the header must carry.
    """

    state_writes: dict[bytes, bytes | None]
    smt_nodes: dict[bytes, bytes]
    app_root: bytes
    receipts: tuple[OperationReceipt, ...]
    tx_root: bytes = b""
    validators_hash: bytes = b""
    next_validators_hash: bytes = b""

    @property
    def all_accepted(self) -> bool:
        return all(r.accepted for r in self.receipts)


@dataclass(frozen=True, slots=True)
class _Outcome:
    writes: dict[bytes, bytes | None]
    receipts: tuple[OperationReceipt, ...]
    accepted: tuple[bytes, ...]
    validators_hash: bytes
    next_validators_hash: bytes


def apply_operation(state: Overlay, envelope: bytes, ctx: ExecContext) -> Operation:
    """Decode, check and apply one operation onto ``state``; raise OperationRejected (nothing written)."""
    op = decode_operation(envelope)
    if op.chain_id != ctx.chain.chain_id:
        raise OperationRejected(f"operation is for chain {op.chain_id!r}, not {ctx.chain.chain_id!r}",
                                rule="wrong-chain")
    if ctx.height > op.valid_until_height:
        raise OperationRejected(f"operation expired at height {op.valid_until_height}", rule="expired")
    scratch = Overlay(state)
    try:
        HANDLERS[op.type](scratch, op, ctx)
    except OperationRejected:
        raise
    except LedgrError as exc:
        # any other input error inside a rule is still a rejection, never a failed block
        raise OperationRejected(exc.detail, rule="malformed") from exc
    state.writes.update(scratch.writes)
    return op


def _run(reader: StateReader, chain: ChainRecord, height: int, time_ms: int, proposer: bytes,
         operations: tuple[bytes, ...] | list[bytes], limit: int | None) -> _Outcome:
    """Apply operations in order. ``limit`` None: keep every receipt (a received block);
    otherwise skip rejected candidates and stop after ``limit`` accepted ones (building a block)."""
    state = Overlay(reader)
    validators = read_validator_record(state)
    signing_set = validators.set_for_height(height)
    if all(v.node_key.raw != proposer for v in signing_set.validators):
        raise VerificationFailed("the proposer is not a validator of this height", check="proposer")
    validators_hash = signing_set.hash()
    if validators.pending is not None and validators.activates_at is not None \
            and height >= validators.activates_at:
        record_activation(state, validators.active, height, evidence_max_age_heights(chain.params))
        validators = ValidatorRecord(active=validators.pending, pending=None, activates_at=None,
                                     version_hash=validators.version_hash)
        state.put(VALIDATORS_KEY, encode(validators.to_json()))
    ctx = ExecContext(chain=chain, height=height, time_ms=time_ms)
    receipts: list[OperationReceipt] = []
    accepted: list[bytes] = []
    for envelope in operations:
        if limit is not None and len(accepted) >= limit:
            break
        index = len(receipts)
        try:
            apply_operation(state, envelope, ctx)
        except OperationRejected as exc:
            if limit is None:
                receipts.append(OperationReceipt(sha256(envelope), index, False,
                                                 str(exc.extra.get("rule", "rejected")), exc.detail))
            continue
        receipts.append(OperationReceipt(sha256(envelope), index, True))
        accepted.append(envelope)
    after = read_validator_record(state)
    return _Outcome(writes=state.writes, receipts=tuple(receipts), accepted=tuple(accepted),
                    validators_hash=validators_hash,
                    next_validators_hash=after.set_for_height(height + 1).hash())


def _fold(reader: StateReader, tip: Tip,
          writes: dict[bytes, bytes | None]) -> tuple[bytes, dict[bytes, bytes]]:
    if any(len(k) > MAX_STATE_KEY_BYTES for k in writes):
        raise InvariantViolation("a state key exceeds 511 bytes (long ids must be hashed)")
    updates = {sha256(k): None if v is None else sha256(v)
               for k, v in writes.items() if not is_meta_key(k)}
    return apply_updates(reader.get_node, tip.app_root, updates)


def _check_continuity(tip: Tip, chain_id: str, header_chain_id: str, height: int, prev_hash: bytes,
                      time_ms: int) -> None:
    if header_chain_id != chain_id:
        raise VerificationFailed(f"block is for chain {header_chain_id!r}, not {chain_id!r}",
                                 check="chain-id")
    if height != tip.height + 1:
        raise VerificationFailed(f"block height {height} does not follow {tip.height}", check="height")
    if prev_hash != tip.block_hash:
        raise VerificationFailed("block prev_hash is not the hash of the last block", check="prev-hash")
    if time_ms <= tip.time_ms:
        raise VerificationFailed("block time must be later than the previous block's", check="time")


def execute_block(reader: StateReader, block: Block) -> BlockResult:
    """Validator side: re-execute ``block`` over committed state.

    Raises VerificationFailed when the header does not continue the chain (chain id, height,
    prev_hash, time), its ``tx_root``/validator hashes are wrong, or it holds an operation the rules
    reject. The caller compares ``result.app_root`` with ``block.header.app_root`` before voting for
    or storing the block.

    Every operation in a valid block is accepted (a proposer's :func:`build_block` leaves rejected
    candidates out, so only a faulty proposer makes such a block, and validators vote nil on it).
    That makes a ``tx_root`` inclusion proof under a commit QC a proof of *acceptance*, checkable
    without trusting the node that serves it, and lets a node that state-synced index the history it
    back-fills without re-executing it.
    """
    header = block.header
    tip = read_tip(reader)
    chain = read_chain_record(reader)
    _check_continuity(tip, chain.chain_id, header.chain_id, header.height, header.prev_hash,
                      header.time_ms)
    if len(block.operations) > int(chain.params["max_block_ops"]):
        raise VerificationFailed("block holds more operations than the chain allows", check="size")
    root_of_ops = block.computed_tx_root()
    if root_of_ops != header.tx_root:
        raise VerificationFailed("tx_root does not match the block's operations", check="tx-root")
    outcome = _run(reader, chain, header.height, header.time_ms, header.proposer, block.operations,
                   limit=None)
    refused = next((r for r in outcome.receipts if not r.accepted), None)
    if refused is not None:
        raise VerificationFailed(f"block operation {refused.index} is one the ledger rejects "
                                 f"({refused.rule}): a block holds accepted operations only",
                                 check="rejected-operation")
    if (outcome.validators_hash, outcome.next_validators_hash) != (header.validators_hash,
                                                                   header.next_validators_hash):
        raise VerificationFailed("header validator hashes do not match the ledger's validator set",
                                 check="validators-hash")
    app_root, nodes = _fold(reader, tip, outcome.writes)
    writes = dict(outcome.writes)
    writes[TIP_KEY] = Tip(header.height, header.hash(), app_root, header.time_ms).encode()
    return BlockResult(state_writes=writes, smt_nodes=nodes, app_root=app_root, receipts=outcome.receipts,
                       tx_root=root_of_ops, validators_hash=outcome.validators_hash,
                       next_validators_hash=outcome.next_validators_hash)


def build_block(reader: StateReader, *, chain_id: str, height: int, time_ms: int, prev_hash: bytes,
                proposer: bytes, operations: list[bytes],
                max_ops: int | None = None) -> tuple[Block, BlockResult]:
    """Proposer side: apply ``operations`` in order, drop the rejected ones, fill tx_root/app_root.

    Receipts of the result describe the operations *in the block* (indexes are block positions);
    rejected candidates are left out (the mempool learns why from :func:`check_operation`); at most
    ``max_block_ops`` (chain parameter, or ``max_ops`` if smaller) are taken.
    """
    tip = read_tip(reader)
    chain = read_chain_record(reader)
    _check_continuity(tip, chain.chain_id, chain_id, height, prev_hash, time_ms)
    limit = int(chain.params["max_block_ops"])
    if max_ops is not None:
        limit = min(limit, max_ops)
    outcome = _run(reader, chain, height, time_ms, proposer, operations, limit=limit)
    accepted = outcome.accepted
    app_root, nodes = _fold(reader, tip, outcome.writes)
    root_of_ops = tx_root(accepted)
    header = Header(chain_id=chain_id, height=height, time_ms=time_ms, prev_hash=prev_hash,
                    tx_root=root_of_ops, app_root=app_root, validators_hash=outcome.validators_hash,
                    next_validators_hash=outcome.next_validators_hash, proposer=proposer)
    writes = dict(outcome.writes)
    writes[TIP_KEY] = Tip(height, header.hash(), app_root, time_ms).encode()
    result = BlockResult(state_writes=writes, smt_nodes=nodes, app_root=app_root, receipts=outcome.receipts,
                         tx_root=root_of_ops, validators_hash=outcome.validators_hash,
                         next_validators_hash=outcome.next_validators_hash)
    return Block(header=header, operations=accepted), result


def check_operation(reader: StateReader, envelope: bytes, *, height: int, time_ms: int) -> Operation:
    """Mempool admission: would ``envelope`` be accepted in a block at ``height`` on this state?

    Raises OperationRejected naming the rule broken; writes nothing.
    """
    ctx = ExecContext(chain=read_chain_record(reader), height=height, time_ms=time_ms)
    return apply_operation(Overlay(reader), envelope, ctx)
