"""The memos of pure per-operation work (``ledgr.ledger.memo``) never change an outcome."""

from __future__ import annotations

import pytest

from ledgr.errors import OperationRejected
from ledgr.ledger import memo
from ledgr.ledger.execute import execute_block
from ledgr.ledger.genesis import genesis_writes
from ledgr.ledger.operations import SIGNATURE_DOMAIN, decode_operation
from ledgr.ledger.state import MemoryState
from tests.unit.store.workload import DidWorkload


def _state(workload: DidWorkload) -> MemoryState:
    state = MemoryState()
    writes, nodes, _root = genesis_writes(workload.genesis)
    state.apply_writes(writes, nodes)
    return state


def test_warm_and_cold_execution_give_the_same_block_result() -> None:
    workload = DidWorkload.for_seed("memo")
    state = _state(workload)
    memo.clear()
    block, built = workload.build(state, [workload.create(1, i) for i in range(20)])
    warm = execute_block(state, block)
    memo.clear()
    cold = execute_block(state, block)
    assert warm.app_root == cold.app_root == built.app_root == block.header.app_root
    assert warm.state_writes == cold.state_writes
    assert warm.receipts == cold.receipts and warm.all_accepted


def test_decoding_is_remembered_per_exact_bytes_only() -> None:
    workload = DidWorkload.for_seed("memo-bytes")
    envelope = workload.create(1, 0)
    memo.clear()
    first = decode_operation(envelope)
    assert decode_operation(bytes(envelope)) is first
    with pytest.raises(OperationRejected):
        decode_operation(envelope + b"\x00")  # trailing byte: a different input, decoded afresh


def test_a_failed_signature_is_never_remembered_and_a_good_one_is_keyed_by_key() -> None:
    workload = DidWorkload.for_seed("memo-sig")
    memo.clear()
    op = decode_operation(workload.create(1, 0))
    good = workload.did_key(1, 0).public_key
    other = workload.did_key(1, 1).public_key
    assert not op.signature_valid(other)
    assert (op.hash, other.raw) not in memo.VERIFIED
    assert op.signature_valid(good)
    assert memo.VERIFIED[(op.hash, good.raw)] is True
    assert not op.signature_valid(other)  # the other key still fails: the memo is per key
    assert good.verify(SIGNATURE_DOMAIN + op.payload, op.signature)


def test_memos_are_bounded() -> None:
    bounded: memo.Memo[int, int] = memo.Memo(limit=3)
    for i in range(10):
        bounded.remember(i, i * i)
    assert list(bounded) == [7, 8, 9]
    assert bounded.get_or_compute(9, lambda: -1) == 81
    assert bounded.get_or_compute(11, lambda: 121) == 121 and 7 not in bounded


def test_memo_evicts_the_oldest_insertion_first_and_stays_bounded() -> None:
    from ledgr.ledger.memo import Memo

    memo: Memo[int, str] = Memo(3)
    for i in range(10):
        assert memo.remember(i, str(i)) == str(i)
        assert len(memo) <= 3
    assert list(memo) == [7, 8, 9]
    memo.remember(7, "again")  # re-inserting keeps the key's place; it is still the oldest
    memo.remember(10, "10")
    assert list(memo) == [8, 9, 10]
    assert memo.get_or_compute(11, lambda: "eleven") == "eleven" and 8 not in memo
