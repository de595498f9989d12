"""Full re-verification of a stored ledger from genesis (``ledgr ledger verify``).

Trust nothing in the data directory except the genesis document the operator supplies: replay every
block into a fresh scratch store and check, for each height h (consensus.md §1.5, catch-up rules):

* the block decodes, is height h, and is indexed under its hash;
* its QC certifies it under the validator set *for height h*, derived from the replayed state (so
  validator changes are followed exactly as a catching-up node follows them);
* re-executing it (``execute_block``: chain id, height, ``prev_hash``, time, ``tx_root``, validator
  hashes, every operation's authorization) gives the header's ``app_root``;
* every accepted operation is indexed at (h, index).

Finally the replayed state and SMT must equal the stored ones entry by entry (a damaged state value
would not change any root, since roots are computed from the SMT, so this is checked separately).
The source is read through one snapshot, so the check is consistent even beside a live node.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from itertools import zip_longest
from pathlib import Path

from ledgr.errors import IntegrityError, LedgrError
from ledgr.ledger.execute import execute_block
from ledgr.ledger.formats import Block, QuorumCertificate, verify_qc
from ledgr.ledger.genesis import Genesis
from ledgr.ledger.queries import validator_set_for_height
from ledgr.store.env import OPS, SMT, STATE, StoreSettings
from ledgr.store.store import Store
from ledgr.store.view import StoreView

Progress = Callable[[int, int], None]  # (heights verified, total heights)
SCRATCH_SETTINGS = StoreSettings(durable=False)


@dataclass(frozen=True)
class VerifyReport:
    height: int
    operations: int
    state_entries: int
    smt_nodes: int
    app_root: bytes


def verify_ledger(source: str | Path | Store, genesis: Genesis, progress: Progress | None = None,
                  *, scratch_dir: str | Path | None = None) -> VerifyReport:
    """Re-verify the ledger in ``source`` from ``genesis``; raise :class:`IntegrityError` on any fault."""
    if isinstance(source, Store):
        return _verify_store(source, genesis, progress, scratch_dir)
    with Store.open(source, readonly=True) as store:
        return _verify_store(store, genesis, progress, scratch_dir)


def _verify_store(store: Store, genesis: Genesis, progress: Progress | None,
                  scratch_dir: str | Path | None) -> VerifyReport:
    with tempfile.TemporaryDirectory(prefix="ledgr-verify-", dir=scratch_dir) as tmp, \
            Store.open(Path(tmp) / "replay", SCRATCH_SETTINGS) as replay, store.snapshot() as view:
        tip = view.tip()
        if tip is None:
            raise IntegrityError("the store holds no ledger (no genesis)")
        if view.genesis_hash() != genesis.hash():
            raise IntegrityError("the store was initialised from a different genesis document")
        replay.initialize_genesis(genesis)
        operations = 0
        expected = 1
        for height, raw_block, raw_qc in view.iter_blocks(1):
            if height != expected:
                raise IntegrityError(f"block {expected} is missing (next stored block is {height})")
            block, qc = _decode(height, raw_block, raw_qc)
            operations += _verify_block(view, replay, height, block, qc)
            if progress is not None:
                progress(height, tip.height)
            expected += 1
        if expected - 1 != tip.height:
            raise IntegrityError(f"the store's tip is {tip.height} but blocks end at {expected - 1}")
        replayed_tip = replay.tip()
        assert replayed_tip is not None
        if replayed_tip != tip:
            raise IntegrityError("the replayed tip differs from the stored tip record")
        if view.count(OPS) != operations:
            raise IntegrityError(
                f"the operation index holds {view.count(OPS)} entries, expected {operations}")
        with replay.snapshot() as replayed:
            entries = _compare(view, replayed, STATE, "state")
            nodes = _compare(view, replayed, SMT, "SMT node")
        if progress is not None and tip.height == 0:
            progress(0, 0)
        return VerifyReport(tip.height, operations, entries, nodes, tip.app_root)


def _decode(height: int, raw_block: bytes, raw_qc: bytes | None) -> tuple[Block, QuorumCertificate]:
    if raw_qc is None:
        raise IntegrityError(f"block {height} has no stored QC")
    try:
        block, qc = Block.decode(raw_block), QuorumCertificate.decode(raw_qc)
    except LedgrError as exc:
        raise IntegrityError(f"block {height} or its QC does not decode: {exc.detail}") from exc
    if block.height != height:
        raise IntegrityError(f"the block stored at height {height} says it is height {block.height}")
    return block, qc


def _verify_block(view: StoreView, replay: Store, height: int, block: Block, qc: QuorumCertificate) -> int:
    """Check one block against the replayed state, then apply it there; return its accepted op count."""
    block_hash = block.hash()
    if view.height_of_block(block_hash) != height:
        raise IntegrityError(f"block {height} is not indexed under its hash")
    with replay.snapshot() as state:
        try:
            verify_qc(qc, block.header, validator_set_for_height(state, height))
            result = execute_block(state, block)
        except LedgrError as exc:
            raise IntegrityError(f"block {height} does not verify: {exc.detail}") from exc
    if result.app_root != block.header.app_root:
        raise IntegrityError(f"block {height}: re-execution gives a different app_root than its header")
    accepted = [r for r in result.receipts if r.accepted]
    for receipt in accepted:
        location = view.op_location(receipt.hash)
        if location is None or (location.height, location.index) != (height, receipt.index):
            raise IntegrityError(f"operation {receipt.hash.hex()} of block {height} is not indexed there")
    replay.commit_block(block, qc, result)
    return len(accepted)


def _compare(stored: StoreView, replayed: StoreView, db: bytes, what: str) -> int:
    count = 0
    pairs: Iterator[tuple[tuple[bytes, bytes] | None, tuple[bytes, bytes] | None]] = zip_longest(
        stored.iter_db(db), replayed.iter_db(db))
    for ours, theirs in pairs:
        if ours != theirs:
            key = (ours or theirs or (b"", b""))[0]
            raise IntegrityError(f"stored {what} {key.hex()[:40]} differs from the replayed ledger")
        count += 1
    return count
