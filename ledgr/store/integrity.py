"""Open-time integrity check: cheap, structural, run every time a node opens its store.

It catches what a crash, a bad restore or a hand-edited data directory can leave behind, before the
node signs anything with it: a store from a newer/older schema, a tip record that does not match the
last stored block and QC, a tip block whose hash, height or ``app_root`` disagrees with the tip record,
a QC that certifies some other block, a state whose own tip record (written by execution in the same
transaction) names another block, or a missing SMT root. It does not re-verify signatures or
re-execute history; that is :func:`ledgr.store.verify.verify_ledger` (``ledgr ledger verify``).
"""

from __future__ import annotations

from ledgr.errors import IntegrityError, LedgrError, StorageError
from ledgr.ledger.formats import Block, QuorumCertificate
from ledgr.ledger.smt import EMPTY
from ledgr.ledger.state import TIP_KEY
from ledgr.ledger.state import Tip as LedgerTip
from ledgr.store.env import BLOCK_HASHES, BLOCKS, QCS
from ledgr.store.view import StoreView


def check_open(view: StoreView) -> None:
    """Raise :class:`IntegrityError` naming the first inconsistency found in ``view``."""
    from ledgr.store.store import SCHEMA_VERSION

    try:
        version = view.schema_version()
    except ValueError as exc:
        raise IntegrityError("the store's schema version record is unreadable") from exc
    if version is None:
        raise IntegrityError("the store has no schema version record; it was not created by ledgr")
    if version != SCHEMA_VERSION:
        raise IntegrityError(
            f"the store has schema version {version}, this ledgr reads version {SCHEMA_VERSION}"
        )
    try:
        tip = view.tip()
    except StorageError as exc:
        raise IntegrityError(f"the store's tip record is damaged: {exc.detail}") from exc
    if tip is None:
        if view.count(BLOCKS) or view.count(QCS):
            raise IntegrityError("the store holds blocks but no tip record")
        return
    if view.genesis_hash() is None or view.chain_id() is None:
        raise IntegrityError("the store has a tip but no genesis hash or chain id")
    last_block = view.last_height_in(BLOCKS)
    last_qc = view.last_height_in(QCS)
    expected_last = None if tip.height == 0 else tip.height
    if last_block != expected_last or last_qc != expected_last:
        raise IntegrityError(
            f"the tip record says height {tip.height}, but the last stored block is {last_block} "
            f"and the last stored QC is {last_qc}"
        )
    expected = tip.height - _missing_history(view)  # a state-synced store lacks blocks below its anchor
    for name in (BLOCKS, QCS, BLOCK_HASHES):
        if view.count(name) != expected:
            raise IntegrityError(
                f"the store should hold {expected} {name.decode()} entries, it holds {view.count(name)}"
            )
    if tip.app_root != EMPTY and view.get_node(tip.app_root) is None:
        raise IntegrityError(f"the SMT root node {tip.app_root.hex()} of height {tip.height} is missing")
    if tip.height == 0:
        if tip.block_hash != view.genesis_hash():
            raise IntegrityError("the height-0 tip does not name the stored genesis hash")
        return
    _check_tip_block(view, tip.height, tip.block_hash, tip.app_root)


def _missing_history(view: StoreView) -> int:
    from ledgr.store.snapshot import missing_history

    try:
        return missing_history(view)
    except (KeyError, TypeError, ValueError, StorageError) as exc:
        raise IntegrityError("the store's back-fill record is unreadable") from exc


def _check_tip_block(view: StoreView, height: int, block_hash: bytes, app_root: bytes) -> None:
    raw_block = view.block_bytes(height)
    raw_qc = view.qc_bytes(height)
    assert raw_block is not None and raw_qc is not None  # counts and last keys checked above
    try:
        block = Block.decode(raw_block)
        qc = QuorumCertificate.decode(raw_qc)
    except LedgrError as exc:
        raise IntegrityError(f"the tip block or QC at height {height} does not decode: {exc.detail}") from exc
    if block.hash() != block_hash:
        raise IntegrityError(f"the stored block at height {height} does not hash to the tip record's hash")
    if block.header.height != height:
        raise IntegrityError(f"the stored block at height {height} says it is height {block.header.height}")
    if block.header.app_root != app_root:
        raise IntegrityError(f"the block at height {height} names a different app_root than the tip record")
    if qc.height != height or qc.block_hash != block_hash:
        raise IntegrityError(f"the QC stored at height {height} certifies a different block")
    if view.height_of_block(block_hash) != height:
        raise IntegrityError(f"the block-hash index does not map the tip block to height {height}")
    raw_state_tip = view.get(TIP_KEY)
    try:
        state_tip = None if raw_state_tip is None else LedgerTip.decode(raw_state_tip)
    except LedgrError as exc:
        raise IntegrityError(f"the ledger's tip record in state is unreadable: {exc.detail}") from exc
    if state_tip is None or (state_tip.height, state_tip.block_hash, state_tip.app_root) != (
            height, block_hash, app_root):
        raise IntegrityError(f"the state's tip record does not describe block {height}: state and blocks "
                             "disagree")
