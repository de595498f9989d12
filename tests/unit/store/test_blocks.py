"""Committing real blocks: one durable transaction per block, continuity, reads, reopen, concurrency."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from ledgr.crypto import sha256
from ledgr.errors import IntegrityError, StorageError, VerificationFailed
from ledgr.ledger.certified import verify_certified_read, verify_operation_included
from ledgr.ledger.formats import operation_hash
from ledgr.ledger.state import TIP_KEY, MemoryState, did_head_key
from ledgr.ledger.state import Tip as LedgerTip
from ledgr.store import Store
from ledgr.store.env import BLOCKS, META, QCS
from ledgr.store.keys import data_key
from ledgr.store.reads import certified_read, find_operation, latest_block, load_block
from ledgr.store.view import META_TIP
from tests.unit.store.workload import DidWorkload


def _chain(path: Path, blocks: int, ops: int = 10, seed: str = "blocks") -> tuple[Store, DidWorkload]:
    workload = DidWorkload.for_seed(seed)
    store = Store.open(path)
    store.initialize_genesis(workload.genesis)
    for _ in range(blocks):
        _advance(store, workload, ops)
    return store, workload


def _advance(store: Store, workload: DidWorkload, ops: int) -> None:
    with store.snapshot() as view:
        block, qc, result = workload.next_block(view, ops)
    assert result.all_accepted
    store.commit_block(block, qc, result)


def _txn_id(store: Store) -> int:
    return int(store._env.info()["last_txnid"])


def test_a_block_and_all_its_writes_are_one_transaction(tmp_path: Path) -> None:
    store, workload = _chain(tmp_path / "node", blocks=1)
    with store:
        with store.snapshot() as view:
            block, qc, result = workload.next_block(view, 50)
        assert len(result.state_writes) > 50 and result.smt_nodes
        before = _txn_id(store)
        store.commit_block(block, qc, result)
        assert _txn_id(store) == before + 1
        for key, value in result.state_writes.items():
            assert store.get(key) == value
        for node_hash, node in result.smt_nodes.items():
            assert store.get_node(node_hash) == node


def test_reopen_gives_the_same_tip_roots_and_state(tmp_path: Path) -> None:
    store, _ = _chain(tmp_path / "node", blocks=4)
    with store:
        tip = store.tip()
        state = store.read(lambda view: dict(view.iter_db(b"state")))
        nodes = store.read(lambda view: dict(view.iter_db(b"smt")))
    assert tip is not None and tip.height == 4
    with Store.open(tmp_path / "node") as again:
        assert again.tip() == tip
        with again.snapshot() as view:
            assert dict(view.iter_db(b"state")) == state
            assert dict(view.iter_db(b"smt")) == nodes
            raw = view.get(TIP_KEY)
            assert raw is not None and LedgerTip.decode(raw).app_root == tip.app_root


def test_store_roots_match_an_in_memory_replay(tmp_path: Path) -> None:
    workload = DidWorkload.for_seed("memory")
    memory = MemoryState()
    from ledgr.ledger.genesis import genesis_writes

    writes, nodes, _root = genesis_writes(workload.genesis)
    memory.apply_writes(writes, nodes)
    with Store.open(tmp_path / "node") as store:
        store.initialize_genesis(workload.genesis)
        for _ in range(3):
            block, qc, result = workload.next_block(memory, 8)
            memory.apply(result)
            store.commit_block(block, qc, result)
            tip = store.tip()
            assert tip is not None and tip.app_root == block.header.app_root
        for key, value in memory.values.items():
            assert store.get(key) == value


def test_commit_refuses_gaps_forks_and_mismatched_parts(tmp_path: Path) -> None:
    store, workload = _chain(tmp_path / "node", blocks=1)
    with store:
        with store.snapshot() as view:
            block, qc, result = workload.next_block(view, 4)
        first = store.read(lambda v: load_block(v, 1))
        assert first is not None
        with pytest.raises(StorageError, match="QC certifies a different block"):
            store.commit_block(block, first.qc, result)
        forged = type(result)(state_writes=result.state_writes, smt_nodes=result.smt_nodes,
                              app_root=sha256(b"x"), receipts=result.receipts)
        with pytest.raises(StorageError, match="app_root differs"):
            store.commit_block(block, qc, forged)
        store.commit_block(block, qc, result)
        with pytest.raises(StorageError, match="does not follow the stored tip"):
            store.commit_block(block, qc, result)
        tip = store.tip()
        assert tip is not None and tip.height == 2


def test_commit_refuses_a_wrong_prev_hash(tmp_path: Path) -> None:
    from ledgr.store import BlockCommit

    store, _ = _chain(tmp_path / "node", blocks=1)
    with store:
        tip = store.tip()
        assert tip is not None
        batch = BlockCommit(height=2, prev_hash=sha256(b"not the tip"), block_hash=sha256(b"b"),
                            app_root=tip.app_root, block_bytes=b"b", qc_bytes=b"q", state_writes={},
                            smt_nodes={})
        with pytest.raises(StorageError, match="prev_hash"):
            store.commit(batch)
        assert store.tip() == tip


def test_reads_block_latest_operation_and_certified_state(tmp_path: Path) -> None:
    store, workload = _chain(tmp_path / "node", blocks=3, ops=6)
    with store, store.snapshot() as view:
        latest = latest_block(view)
        assert latest is not None and latest.block.height == 3
        second = load_block(view, 2)
        assert second is not None and second.qc.block_hash == second.block.hash()
        assert load_block(view, 4) is None
        op = second.block.operations[1]
        found = find_operation(view, operation_hash(op))
        assert found is not None and found.location.height == 2 and found.location.index == 1
        assert found.envelope == op
        size = len(second.block.operations)
        verify_operation_included(op, 1, size, found.tx_proof, second.block.header)
        with pytest.raises(VerificationFailed):
            verify_operation_included(op, 0, size, found.tx_proof, second.block.header)
        assert find_operation(view, sha256(b"unknown")) is None

        did = workload.did_of(1, 0)
        served = certified_read(view, did_head_key(did))
        assert served.value is not None
        checked = verify_certified_read(key=served.key, value=served.value, smt_proof=served.proof,
                                        header=served.block.header, qc=served.qc,
                                        validator_set=workload.validators, now_ms=served.block.header.time_ms)
        assert checked.height == 3
        absent = certified_read(view, did_head_key("did:ledgr:11111111111111111111"))
        assert absent.value is None
        verify_certified_read(key=absent.key, value=None, smt_proof=absent.proof, header=absent.block.header,
                              qc=absent.qc, validator_set=workload.validators,
                              now_ms=absent.block.header.time_ms)
        with pytest.raises(VerificationFailed):
            verify_certified_read(key=served.key, value=served.value + b" ", smt_proof=served.proof,
                                  header=served.block.header, qc=served.qc,
                                  validator_set=workload.validators, now_ms=served.block.header.time_ms)


def test_concurrent_readers_see_whole_blocks_while_the_writer_commits(tmp_path: Path) -> None:
    store, workload = _chain(tmp_path / "node", blocks=1, ops=4)
    errors: list[str] = []
    seen: set[int] = set()
    stop = threading.Event()

    def reader() -> None:
        while not stop.is_set():
            with store.snapshot() as view:
                tip = view.tip()
                raw = view.get(TIP_KEY)
                assert tip is not None and raw is not None
                ledger_tip = LedgerTip.decode(raw)
                latest = latest_block(view)
                if (ledger_tip.height, ledger_tip.app_root) != (tip.height, tip.app_root) or \
                        latest is None or latest.block.header.app_root != tip.app_root:
                    errors.append(f"torn snapshot at {tip.height}")
                seen.add(tip.height)

    threads = [threading.Thread(target=reader) for _ in range(4)]
    for thread in threads:
        thread.start()
    try:
        for _ in range(12):
            _advance(store, workload, 20)
    finally:
        stop.set()
        for thread in threads:
            thread.join()
        store.close()
    assert not errors
    assert len(seen) > 1  # readers really overlapped with commits


def test_open_check_catches_a_tip_record_ahead_of_the_blocks(tmp_path: Path) -> None:
    store, _ = _chain(tmp_path / "node", blocks=2)
    with store:
        store._write(lambda txn: txn.delete((2).to_bytes(8, "big"), db=store._dbs[BLOCKS]))
    with pytest.raises(IntegrityError, match="tip record says height 2"):
        Store.open(tmp_path / "node")


def test_open_check_catches_a_qc_for_another_block(tmp_path: Path) -> None:
    store, _ = _chain(tmp_path / "node", blocks=2)
    with store:
        first_qc = store.read(lambda v: v.qc_bytes(1))
        store._write(lambda txn: txn.put((2).to_bytes(8, "big"), first_qc, db=store._dbs[QCS]))
    with pytest.raises(IntegrityError, match="QC stored at height 2 certifies a different block"):
        Store.open(tmp_path / "node")


def test_open_check_catches_a_tip_record_naming_another_block(tmp_path: Path) -> None:
    store, _ = _chain(tmp_path / "node", blocks=2)
    with store:
        tip = store.tip()
        assert tip is not None
        bad = type(tip)(tip.height, sha256(b"other"), tip.app_root)
        store._write(lambda txn: txn.put(META_TIP, bad.encode(), db=store._dbs[META]))
    with pytest.raises(IntegrityError, match="does not hash to the tip record"):
        Store.open(tmp_path / "node")


def test_open_check_catches_state_that_belongs_to_another_block(tmp_path: Path) -> None:
    store, _ = _chain(tmp_path / "node", blocks=2)
    with store:
        first = store.read(lambda v: load_block(v, 1))
        assert first is not None
        stale = LedgerTip(1, first.block.hash(), first.block.header.app_root, first.block.header.time_ms)
        store._write(lambda txn: txn.put(data_key(TIP_KEY), stale.encode(), db=store._dbs[b"state"]))
    with pytest.raises(IntegrityError, match="state's tip record does not describe block 2"):
        Store.open(tmp_path / "node")
