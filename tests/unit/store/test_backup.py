"""Backup (consistent copy of a live store) and restore (refuses to clobber; leaves a marker)."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from ledgr.crypto import sha256
from ledgr.errors import StorageError
from ledgr.store import Store
from ledgr.store.backup import backup, read_backup, restore


def _new_store(path: Path) -> Store:
    store = Store.open(path)
    root = sha256(b"root")
    store.initialize(genesis_hash=sha256(b"g"), chain_id="c", state_writes={b"k": b"v"},
                     smt_nodes={root: b"node"}, app_root=root)
    store.put_consensus_state(b"last_signed=h4")
    return store


def test_backup_records_height_and_consensus_state(tmp_path: Path) -> None:
    with _new_store(tmp_path / "node") as store:
        info = backup(store, tmp_path / "bk", time_ms=1_700_000_000_000)
    assert info.height == 0 and info.has_consensus_state
    assert not (tmp_path / "bk" / "lock.mdb").exists()  # a backup is just its data file
    record = read_backup(tmp_path / "bk")
    assert record["kind"] == "ledgr-backup"
    assert record["height"] == 0
    assert record["block_hash"] == sha256(b"g").hex()
    assert record["taken_at_ms"] == 1_700_000_000_000


def test_backup_refuses_a_non_empty_target_and_its_own_data_dir(tmp_path: Path) -> None:
    (tmp_path / "bk").mkdir()
    (tmp_path / "bk" / "x").write_text("keep me")
    with _new_store(tmp_path / "node") as store:
        with pytest.raises(StorageError, match="not an empty directory"):
            backup(store, tmp_path / "bk", time_ms=1)
        with pytest.raises(StorageError, match="inside the node's data directory"):
            backup(store, tmp_path / "node" / "bk", time_ms=1)
    assert (tmp_path / "bk" / "x").read_text() == "keep me"


def test_restore_into_empty_dir_leaves_a_restored_marker(tmp_path: Path) -> None:
    with _new_store(tmp_path / "node") as store:
        backup(store, tmp_path / "bk", time_ms=10)
    marker = restore(tmp_path / "bk", tmp_path / "restored", time_ms=20)
    assert marker["height"] == 0 and marker["restored_at_ms"] == 20
    with Store.open(tmp_path / "restored") as restored:
        assert restored.get(b"k") == b"v"
        assert restored.get_consensus_state() == b"last_signed=h4"
        got = restored.restore_marker()
        assert got is not None and got["height"] == 0 and got["has_consensus_state"] is True
        restored.clear_restore_marker()
        assert restored.restore_marker() is None


def test_restore_refuses_a_non_empty_data_dir_unless_forced(tmp_path: Path) -> None:
    with _new_store(tmp_path / "node") as store:
        backup(store, tmp_path / "bk", time_ms=10)
        store.put_record("tokens", b"newer", b"data")
    with pytest.raises(StorageError, match="not empty"):
        restore(tmp_path / "bk", tmp_path / "node", time_ms=30)
    with Store.open(tmp_path / "node") as store:
        assert store.get_record("tokens", b"newer") == b"data"
    restore(tmp_path / "bk", tmp_path / "node", time_ms=30, force=True)
    kept = tmp_path / "node.replaced-30"
    assert (kept / "data.mdb").is_file()
    with Store.open(tmp_path / "node") as store:
        assert store.get_record("tokens", b"newer") is None
        assert store.restore_marker() is not None


def test_restore_rejects_a_plain_store_that_is_not_a_backup(tmp_path: Path) -> None:
    _new_store(tmp_path / "node").close()
    with pytest.raises(StorageError, match="not a backup"):
        restore(tmp_path / "node", tmp_path / "out", time_ms=1)
    with pytest.raises(StorageError, match="not a ledgr backup"):
        restore(tmp_path / "empty", tmp_path / "out", time_ms=1)


def test_backup_of_a_live_store_is_consistent(tmp_path: Path) -> None:
    """A writer thread keeps committing while the backup copies; the copy is one snapshot."""
    store = _new_store(tmp_path / "node")
    stop = threading.Event()
    written: list[int] = []

    def writer() -> None:
        i = 0
        while not stop.is_set():
            # two records per transaction: a consistent copy has both or neither
            store._write(lambda txn, i=i: (txn.put(b"=a%d" % i, b"1", db=store._dbs[b"tokens"]),
                                           txn.put(b"=b%d" % i, b"1", db=store._dbs[b"tokens"])))
            written.append(i)
            i += 1

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        while len(written) < 20:
            stop.wait(0.01)
        backup(store, tmp_path / "bk", time_ms=1)
    finally:
        stop.set()
        thread.join()
        store.close()
    with Store.open(tmp_path / "bk") as copy:
        values = copy.record_values("tokens")
    assert len(values) % 2 == 0 and len(values) >= 40


def test_restore_refuses_a_data_dir_held_by_a_running_node(tmp_path: Path) -> None:
    with _new_store(tmp_path / "node") as store:
        backup(store, tmp_path / "bk", time_ms=1)
        with pytest.raises(StorageError, match="stop the node"):
            restore(tmp_path / "bk", tmp_path / "node", time_ms=2, force=True)
        assert store.get(b"k") == b"v"
    assert not (tmp_path / "node.replaced-2").exists()
