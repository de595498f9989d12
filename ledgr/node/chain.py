"""The node's chain: the LMDB store plus the pure ledger, as the runtime uses them.

Everything the runtime does with blocks goes through here: building a block for a proposal,
re-executing a proposed block before voting (execute-before-vote: its ``app_root`` must match),
committing a decided block with its QC in one durable transaction, and verifying synced blocks
(QC of that height's validator set, re-execution, ``app_root``). Execution results of blocks this
node built or validated are kept (bounded) so a decided block is not executed twice.

Thread use: building and validating run on a worker thread (they only read committed state through
short LMDB read transactions); commits run on the writer thread; the rest on the event loop.
"""

from __future__ import annotations

import asyncio
import json
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ledgr.consensus.events import Decide
from ledgr.consensus.messages import QuorumCertificate as CoreQC
from ledgr.consensus.validators import ValidatorSet as CoreValidatorSet
from ledgr.crypto import sha256
from ledgr.errors import ConfigError, InvalidInput, LedgrError, StorageError
from ledgr.ledger.execute import BlockResult
from ledgr.ledger.formats import Block
from ledgr.ledger.formats import QuorumCertificate as LedgerQC
from ledgr.ledger.formats import verify_qc as verify_ledger_qc
from ledgr.ledger.genesis import Genesis, genesis_writes
from ledgr.ledger.records import parse_validator_record
from ledgr.ledger.state import VALIDATORS_KEY, Tip, read_tip
from ledgr.ledger.validators import ValidatorSet
from ledgr.node import bridge, reads
from ledgr.node.config import NodeConfig
from ledgr.node.logs import get_logger
from ledgr.node.mempool import Mempool
from ledgr.node.wire import SyncedBlock
from ledgr.node.workers import LedgerWorkers
from ledgr.node.writer import DurableWriter
from ledgr.store.store import Store
from ledgr.store.view import OpLocation

log = get_logger("ledgr.chain")

MAX_CACHED_RESULTS = 16
SMALL_AHEAD_OPS = 8  # smaller blocks execute after the previous commit (on the node's thread)
MAX_GENESIS_BYTES = 1 << 20


@dataclass(frozen=True)
class Built:
    block_hash: bytes
    block_bytes: bytes
    rejected: list[tuple[bytes, str]]


@dataclass(frozen=True)
class Committed:
    height: int
    op_hashes: list[bytes]
    time_ms: int
    core_qc: CoreQC


def load_genesis(path: Path) -> Genesis:
    try:
        if path.stat().st_size > MAX_GENESIS_BYTES:
            raise ConfigError(f"genesis file {path} is larger than {MAX_GENESIS_BYTES} bytes")
        value = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ConfigError(f"genesis file {path} does not exist") from exc
    except (OSError, ValueError) as exc:
        raise ConfigError(f"cannot read genesis file {path}: {exc}") from exc
    try:
        return Genesis.from_json(value)
    except InvalidInput as exc:
        raise ConfigError(f"genesis file {path}: {exc.detail}") from exc


@dataclass(frozen=True)
class _HeightSet:
    validators: ValidatorSet
    core: CoreValidatorSet
    keys: frozenset[str]


class Chain:
    def __init__(self, store: Store, genesis: Genesis, config: NodeConfig, me: bytes) -> None:
        self.me = me
        self.store = store
        self.genesis = genesis
        self.config = config
        self.chain_id = genesis.chain_id
        self.genesis_hash_hex = genesis.hash().hex()
        self._results: OrderedDict[bytes, tuple[Block, BlockResult]] = OrderedDict()
        self._tip: Tip = read_tip(store)
        self._sets: dict[int, _HeightSet] = {}
        self._receipts = reads.ReceiptCache()
        self.workers = LedgerWorkers(config.data_dir, store)

    @classmethod
    def open(cls, config: NodeConfig, me: bytes) -> Chain:
        genesis = load_genesis(config.genesis_file)
        store = Store.open(config.data_dir)
        tip = store.tip()
        if tip is None:
            writes, nodes, root = genesis_writes(genesis)
            store.initialize(genesis_hash=genesis.hash(), chain_id=genesis.chain_id, state_writes=writes,
                             smt_nodes=nodes, app_root=root)
        else:
            stored = store.read(lambda view: view.genesis_hash())
            if stored != genesis.hash():
                store.close()
                raise ConfigError(f"data directory {config.data_dir} holds another chain than "
                                  f"{config.genesis_file} describes (genesis hash differs)")
        return cls(store, genesis, config, me)

    def close(self) -> None:
        self.workers.close()
        self.store.close()

    # ---- tip and validator sets -----------------------------------------------------------------

    @property
    def height(self) -> int:
        return self._tip.height

    @property
    def tip_time_ms(self) -> int:
        return self._tip.time_ms

    @property
    def tip(self) -> Tip:
        return self._tip

    def reload_tip(self) -> None:
        """Re-read the tip after the store was changed underneath (state sync installed a snapshot)."""
        self._tip = read_tip(self.store)
        self._sets.clear()
        self._results.clear()

    def _height_set(self, height: int) -> _HeightSet:
        """The set that votes on ``height`` (known for the next two heights, by the H+2 rule) with its
        consensus-core form and node keys, derived once per height."""
        cached = self._sets.get(height)
        if cached is not None:
            return cached
        raw = self.store.get(VALIDATORS_KEY)
        if raw is None:
            raise StorageError("the store holds no validator record")
        found = parse_validator_record(raw).set_for_height(height)
        if len(self._sets) > 8:
            self._sets.clear()
        entry = _HeightSet(found, bridge.core_validators(found),
                           frozenset(v.node_key.multikey for v in found.validators))
        self._sets[height] = entry
        return entry

    def validator_set(self, height: int) -> ValidatorSet:
        return self._height_set(height).validators

    def core_validators(self, height: int) -> CoreValidatorSet:
        return self._height_set(height).core

    def validator_keys(self, height: int) -> set[str]:
        """The node keys (multikey) of ``height``'s set; a fresh set the caller may change."""
        return set(self._height_set(height).keys)

    def validator_entries(self, height: int) -> list[dict[str, str]]:
        return [{"name": v.name, "node_key": v.node_key.multikey}
                for v in self.validator_set(height).validators]

    def quorum(self, height: int) -> int:
        return self.validator_set(height).quorum

    # ---- operations -----------------------------------------------------------------------------

    def op_location(self, op_hash: bytes) -> OpLocation | None:
        return self.store.read(lambda view: view.op_location(op_hash))

    # ---- blocks ---------------------------------------------------------------------------------

    async def build(self, height: int, time_ms: int, mempool: Mempool) -> Built:
        limit = min(self.config.mempool.block_max_ops, int(self.genesis.params["max_block_ops"]))
        candidates = mempool.batch(limit, self.config.mempool.block_max_bytes)
        envelopes = [c.raw for c in candidates]
        block, result = await self.workers.build(self.chain_id, height, time_ms, self._tip.block_hash,
                                                 self.me, envelopes, len(envelopes) or None)
        rejected: list[tuple[bytes, str]] = []
        if len(block.operations) < len(envelopes):
            accepted = {sha256(e) for e in block.operations}
            dropped = [c for c in candidates if c.op_hash not in accepted]
            verdicts = await self.workers.check([c.raw for c in dropped], height, self.tip_time_ms + 1, True)
            for candidate, error in zip(dropped, verdicts, strict=True):
                if error is not None:
                    rule = error.extra.get("rule")
                    rejected.append((candidate.op_hash, f"{rule}: {error.detail}" if rule else error.detail))
        block_bytes = block.encode()
        return Built(self._remember(block, result), block_bytes, rejected)

    def _remember(self, block: Block, result: BlockResult) -> bytes:
        block_hash = block.hash()
        self._results[block_hash] = (block, result)
        self._results.move_to_end(block_hash)
        while len(self._results) > MAX_CACHED_RESULTS:
            self._results.popitem(last=False)
        return block_hash

    async def validate(self, height: int, value_id: bytes, block_bytes: bytes, time_ms: int) -> bool:
        """Re-execute a proposed block (in a worker process) and compare its ``app_root``."""
        try:
            block = Block.decode(block_bytes)
            header = block.header
            if block.hash() != value_id or header.height != height or header.time_ms != time_ms:
                return False
            if value_id in self._results:
                return True
            if height != self.height + 1:
                return False
            result = await self.workers.execute(block_bytes, len(block.operations))
        except LedgrError as exc:
            log.info("block_invalid", height=height, error=exc.detail)
            return False
        if result.app_root != header.app_root:
            log.info("block_invalid", height=height, error="app_root differs from re-execution")
            return False
        self._remember(block, result)
        return True

    async def commit_decided(self, decide: Decide, writer: DurableWriter) -> Committed:
        """Store a decided block with its QC (one durable transaction)."""
        cached = self._results.get(decide.value_id)
        if cached is None:
            block = Block.decode(decide.block)
            result = await self.workers.execute(decide.block, len(block.operations))
            if result.app_root != block.header.app_root:
                raise StorageError(f"decided block {decide.height} does not re-execute to its app_root")
        else:
            block, result = cached
        qc = bridge.ledger_qc(decide.qc, self.validator_set(decide.height).size)
        return await self._commit(block, result, qc, decide.block, decide.qc, writer)

    async def apply_synced_run(self, blocks: list[SyncedBlock], writer: DurableWriter,
                               on_commit: Callable[[Committed, SyncedBlock], None],
                               on_ahead: Callable[[], None]) -> int:
        """Verify and store consecutive synced blocks, executing block N+1 while block N commits.

        Each block is checked before it is stored: its QC against the validator set of its height
        (known two heights ahead of the committed tip, so N+1's set is known while N is still being
        committed), re-execution, ``app_root``; each block has its own durable commit, in order.
        Only the execution of N+1 overlaps the commit of N (in the worker, over N's writes, see
        ``LedgerWorkers.execute_ahead``); the two cores of a small server then both work. Stops at
        the first bad block (raised after the blocks before it are stored); returns how many
        blocks were stored.
        """
        stored = 0
        next_height = self.height + 1
        pending: asyncio.Future[Committed] | None = None
        pending_block: SyncedBlock | None = None
        try:
            for synced in blocks:
                block = Block.decode(synced.block)
                qc = LedgerQC.decode(synced.qc)
                height = block.header.height
                if height != next_height:
                    raise InvalidInput(f"synced block {height} does not follow block {next_height - 1}")
                verify_ledger_qc(qc, block.header, self.validator_set(height))
                result = None
                if pending is not None and len(block.operations) > SMALL_AHEAD_OPS:
                    result = await self.workers.execute_ahead(synced.block)
                    if result is not None:
                        on_ahead()
                if pending is not None and pending_block is not None:
                    on_commit(await pending, pending_block)
                    pending, stored = None, stored + 1
                if result is None:
                    result = await self.workers.execute(synced.block, len(block.operations))
                if result.app_root != block.header.app_root:
                    raise InvalidInput(f"synced block {height} re-executes to another app_root")
                pending = asyncio.ensure_future(
                    self._commit(block, result, qc, synced.block, bridge.core_qc(qc), writer))
                pending_block = synced
                next_height += 1
        finally:
            if pending is not None and pending_block is not None:
                on_commit(await pending, pending_block)
                stored += 1
        return stored

    async def _commit(self, block: Block, result: BlockResult, qc: LedgerQC, block_bytes: bytes,
                      core_qc: CoreQC, writer: DurableWriter) -> Committed:
        """Store the block unless a racing path (consensus vs. block sync) already stored it; the
        check runs on the writer thread, so it is atomic with respect to every other commit."""
        header = block.header
        stored = await writer.run(self._commit_if_next, block, qc, result)
        if not stored:
            return Committed(header.height, [], header.time_ms, core_qc)
        self._tip = Tip(header.height, block.hash(), header.app_root, header.time_ms)
        self._sets.clear()
        self._results.clear()
        return Committed(header.height, [sha256(e) for e in block.operations], header.time_ms, core_qc)

    def _commit_if_next(self, block: Block, qc: LedgerQC, result: BlockResult) -> bool:
        tip = self.store.tip()
        if tip is not None and block.header.height <= tip.height:
            return False
        self.store.commit_block(block, qc, result)
        return True

    def blocks_for_sync(self, from_height: int, count: int, max_bytes: int) -> list[SyncedBlock]:
        def collect(view: Any) -> list[SyncedBlock]:
            out: list[SyncedBlock] = []
            size = 0
            for height in range(from_height, from_height + count):
                block, qc = view.block_bytes(height), view.qc_bytes(height)
                if block is None or qc is None:
                    break
                size += len(block) + len(qc)
                if out and size > max_bytes:
                    break
                out.append(SyncedBlock(height, bytes(block), bytes(qc)))
            return out

        return self.store.read(collect)

    def record_evidence(self, evidence: Any) -> None:
        from ledgr.consensus.evidence import encode_evidence

        raw = encode_evidence(evidence)
        self.store.put_record("consensus", b"evidence/" + sha256(raw), raw)

    # ---- reads for the API (one snapshot each; see ledgr.node.reads) ----------------------------

    def block_json(self, height: int) -> dict[str, Any] | None:
        return reads.block_json(self.store, height)

    def op_receipt(self, op_hash: bytes) -> dict[str, Any] | None:
        return reads.op_receipt(self.store, op_hash, self._receipts)

    def tip_json(self) -> dict[str, Any]:
        return reads.tip_json(self.store)

    def state_json(self, kind: str, ident: str, with_proof: bool) -> dict[str, Any]:
        return reads.state_json(self.store, kind, ident, with_proof)
