"""The LMDB environment: durable flags, named databases, key guard, map growth, records."""

from __future__ import annotations

from pathlib import Path

import pytest

from ledgr.crypto import sha256
from ledgr.errors import ConfigError, IntegrityError, InvariantViolation, StorageError
from ledgr.store import SCHEMA_VERSION, Store, StoreSettings
from ledgr.store import keys as store_keys
from ledgr.store.env import DB_NAMES, MIB
from ledgr.store.view import META_SCHEMA


def _genesis(store: Store, writes: dict[bytes, bytes | None] | None = None) -> None:
    root = sha256(b"root")
    store.initialize(
        genesis_hash=sha256(b"genesis"),
        chain_id="test-chain",
        state_writes=writes or {b"k": b"v"},
        smt_nodes={root: b"root-node"},
        app_root=root,
    )


def test_environment_is_opened_durably(tmp_path: Path) -> None:
    with Store.open(tmp_path / "node") as store:
        flags = store.env_flags
    # A kill test cannot see a missing fsync: assert the settings that make commits durable.
    assert flags["sync"] is True
    assert flags["metasync"] is True
    assert flags["map_async"] is False
    assert flags["writemap"] is False
    assert flags["lock"] is True


def test_default_settings_are_durable_and_explicit() -> None:
    settings = StoreSettings()
    assert settings.durable is True
    assert settings.map_size_bytes > 10 * MIB  # py-lmdb's default would be 10 MiB


def test_every_named_database_exists_after_open(tmp_path: Path) -> None:
    import lmdb

    Store.open(tmp_path / "node").close()
    env = lmdb.open(str(tmp_path / "node"), max_dbs=32, readonly=True)
    try:
        with env.begin() as txn:
            names = {bytes(key) for key, _ in txn.cursor()}
    finally:
        env.close()
    assert set(DB_NAMES) <= names


def test_new_store_records_schema_version_and_has_no_tip(tmp_path: Path) -> None:
    with Store.open(tmp_path / "node") as store:
        assert store.read(lambda v: v.schema_version()) == SCHEMA_VERSION
        assert store.tip() is None


def test_genesis_is_recorded_and_survives_reopen(tmp_path: Path) -> None:
    with Store.open(tmp_path / "node") as store:
        _genesis(store)
    with Store.open(tmp_path / "node") as store:
        tip = store.tip()
        assert tip is not None and tip.height == 0
        assert tip.block_hash == sha256(b"genesis")
        assert store.get(b"k") == b"v"
        assert store.get_node(sha256(b"root")) == b"root-node"
        assert store.read(lambda v: v.chain_id()) == "test-chain"


def test_initialize_refuses_a_different_genesis(tmp_path: Path) -> None:
    with Store.open(tmp_path / "node") as store:
        _genesis(store)
        with pytest.raises(StorageError, match="different genesis"):
            store.initialize(genesis_hash=sha256(b"other"), chain_id="x", state_writes={},
                             smt_nodes={}, app_root=sha256(b"root"))


def test_wrong_schema_version_fails_the_open_check(tmp_path: Path) -> None:
    with Store.open(tmp_path / "node") as store:
        store._write(lambda txn: txn.put(META_SCHEMA, b"99", db=store._dbs[b"meta"]))
    with pytest.raises(IntegrityError, match="schema version 99"):
        Store.open(tmp_path / "node")


def test_missing_smt_root_fails_the_open_check(tmp_path: Path) -> None:
    with Store.open(tmp_path / "node") as store:
        _genesis(store)
        store._write(lambda txn: txn.delete(sha256(b"root"), db=store._dbs[b"smt"]))
    with pytest.raises(IntegrityError, match="SMT root node"):
        Store.open(tmp_path / "node")


def test_long_state_keys_are_hashed_under_the_lmdb_limit(tmp_path: Path) -> None:
    long_key = b"did/" + b"x" * 2000
    with Store.open(tmp_path / "node") as store:
        _genesis(store, {long_key: b"long", b"short": b"s"})
        assert store.get(long_key) == b"long"
        assert store.get(b"short") == b"s"
        assert store.get(long_key + b"y") is None
    assert len(store_keys.data_key(long_key)) <= 511
    assert store_keys.data_key(long_key) != store_keys.data_key(store_keys.data_key(long_key)[1:])


def test_fixed_layout_key_guard_rejects_oversized_keys(tmp_path: Path) -> None:
    with pytest.raises(InvariantViolation, match="511"):
        store_keys.checked_key(b"h" * 512)
    with pytest.raises(InvariantViolation):
        store_keys.checked_key(b"")
    with Store.open(tmp_path / "node") as store, pytest.raises(InvariantViolation):
        store.get_node(b"n" * 600)


def test_map_grows_when_full(tmp_path: Path) -> None:
    settings = StoreSettings(map_size_bytes=1 * MIB, max_map_size_bytes=64 * MIB)
    with Store.open(tmp_path / "node", settings) as store:
        _genesis(store)
        store.put_record("keystore", b"big", b"\x01" * (4 * MIB))
        assert store.map_size_bytes >= 4 * MIB
        assert store.get_record("keystore", b"big") == b"\x01" * (4 * MIB)


def test_a_write_larger_than_its_size_hint_still_grows_the_map(tmp_path: Path) -> None:
    """The fallback: LMDB reports MDB_MAP_FULL, the transaction is aborted, the map grown, retried."""
    settings = StoreSettings(map_size_bytes=2 * MIB, max_map_size_bytes=64 * MIB)
    with Store.open(tmp_path / "node", settings) as store:
        keystore = store._dbs[b"keystore"]
        calls: list[int] = []

        def write(txn: object) -> None:
            calls.append(1)
            for i in range(4):
                txn.put(b"=big%d" % i, b"\x01" * MIB, db=keystore)  # type: ignore[attr-defined]

        store._write(write)  # no size hint: the map is full on the first attempt
        assert len(calls) >= 2
        assert len(store.record_values("keystore")) == 4


def test_full_store_at_its_ceiling_gives_a_clear_error(tmp_path: Path) -> None:
    settings = StoreSettings(map_size_bytes=1 * MIB, max_map_size_bytes=2 * MIB)
    with Store.open(tmp_path / "node", settings) as store:
        with pytest.raises(StorageError, match="store is full"):
            store.put_record("tokens", b"big", b"\x01" * (4 * MIB))
        # the failed write left nothing behind and the store still works
        assert store.get_record("tokens", b"big") is None
        store.put_record("tokens", b"small", b"ok")
        assert store.get_record("tokens", b"small") == b"ok"


def test_settings_are_validated() -> None:
    with pytest.raises(ConfigError):
        StoreSettings(map_size_bytes=1024)
    with pytest.raises(ConfigError):
        StoreSettings(map_size_bytes=8 * MIB, max_map_size_bytes=4 * MIB)


def test_consensus_state_is_opaque_and_durable(tmp_path: Path) -> None:
    with Store.open(tmp_path / "node") as store:
        assert store.get_consensus_state() is None
        store.put_consensus_state(b"\x00h=5,r=1,last_signed=...")
    with Store.open(tmp_path / "node") as store:
        assert store.get_consensus_state() == b"\x00h=5,r=1,last_signed=..."


def test_records_put_get_delete_and_list(tmp_path: Path) -> None:
    with Store.open(tmp_path / "node") as store:
        store.put_record("tokens", b"t1", b"one")
        store.put_record("tokens", b"t2" * 300, b"two")
        assert sorted(store.record_values("tokens")) == [b"one", b"two"]
        assert store.delete_record("tokens", b"t1") is True
        assert store.delete_record("tokens", b"t1") is False
        assert store.record_values("tokens") == [b"two"]
        with pytest.raises(InvariantViolation, match="unknown record database"):
            store.put_record("state", b"k", b"v")


def test_write_while_holding_a_snapshot_in_the_same_thread_is_refused(tmp_path: Path) -> None:
    with (
        Store.open(tmp_path / "node") as store,
        store.snapshot(),
        pytest.raises(InvariantViolation, match="snapshot"),
    ):
        store.put_record("tokens", b"k", b"v")


def test_readonly_open_of_missing_store_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(StorageError, match="no ledgr store"):
        Store.open(tmp_path / "nothing", readonly=True)


def test_closed_store_refuses_use(tmp_path: Path) -> None:
    store = Store.open(tmp_path / "node")
    store.close()
    with pytest.raises(StorageError, match="closed"):
        store.tip()


def test_a_map_grown_by_another_process_is_adopted(tmp_path: Path) -> None:
    """The node (a writer process) grows the map while e.g. `ledgr ledger verify` has it open read-only."""
    import subprocess
    import sys

    settings = StoreSettings(map_size_bytes=1 * MIB, max_map_size_bytes=256 * MIB)
    with Store.open(tmp_path / "node", settings) as store:
        _genesis(store)
    with Store.open(tmp_path / "node", settings, readonly=True) as reader:
        before = reader.map_size_bytes
        assert before < 8 * MIB
        code = (
            "from pathlib import Path; from ledgr.store import Store, StoreSettings\n"
            f"s = Store.open(Path({str(tmp_path / 'node')!r}), StoreSettings(map_size_bytes={MIB}, "
            f"max_map_size_bytes={256 * MIB}))\n"
            "s.put_record('keystore', b'big', b'\\x02' * (8 << 20)); s.close()\n"
        )
        subprocess.run([sys.executable, "-c", code], check=True)
        assert reader.get_record("keystore", b"big") == b"\x02" * (8 * MIB)  # adopted the new size
        assert reader.map_size_bytes >= 8 * MIB > before


def test_only_one_writable_store_per_data_directory(tmp_path: Path) -> None:
    import subprocess
    import sys

    def other_process(readonly: bool) -> subprocess.CompletedProcess[str]:
        code = ("from ledgr.store import Store\n"
                f"s = Store.open({str(tmp_path / 'node')!r}, readonly={readonly}); print(s.tip().height)")
        return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)

    with Store.open(tmp_path / "node") as store:
        _genesis(store)
        with pytest.raises(StorageError, match="in use by another ledgr process"):
            Store.open(tmp_path / "node")
        second = other_process(readonly=False)
        assert second.returncode != 0 and "in use by another ledgr process" in second.stderr
        reader = other_process(readonly=True)  # readers (verify, backup, info) need no lock
        assert reader.returncode == 0 and reader.stdout.strip() == "0"
    with Store.open(tmp_path / "node") as again:  # released on close
        assert again.tip() is not None


def test_map_growth_waits_for_concurrent_readers(tmp_path: Path) -> None:
    """Readers in other threads keep reading while the writer grows the map several times."""
    import threading

    settings = StoreSettings(map_size_bytes=1 * MIB, max_map_size_bytes=256 * MIB)
    errors: list[BaseException] = []
    reads = [0]
    stop = threading.Event()
    with Store.open(tmp_path / "node", settings) as store:
        _genesis(store)

        def reader() -> None:
            try:
                while not stop.is_set():
                    with store.snapshot() as view:
                        assert view.get(b"k") == b"v"
                    reads[0] += 1
            except BaseException as exc:
                errors.append(exc)

        threads = [threading.Thread(target=reader) for _ in range(3)]
        for thread in threads:
            thread.start()
        try:
            for i in range(6):
                store.put_record("keystore", b"r%d" % i, b"\x03" * MIB)
        finally:
            stop.set()
            for thread in threads:
                thread.join()
        assert store.map_size_bytes >= 8 * MIB  # grew at least three times
        assert len(store.record_values("keystore")) == 6
    assert not errors
    assert reads[0] > 0


def test_a_corrupt_data_file_is_a_clear_storage_error(tmp_path: Path) -> None:
    (tmp_path / "node").mkdir()
    (tmp_path / "node" / "data.mdb").write_bytes(b"not an lmdb file" * 512)
    with pytest.raises(StorageError, match="cannot open store"):
        Store.open(tmp_path / "node")
