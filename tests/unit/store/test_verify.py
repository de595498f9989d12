"""verify_ledger / ``ledgr ledger verify``: a clean ledger passes, every kind of tampering is caught."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from ledgr.cli import cli
from ledgr.errors import IntegrityError
from ledgr.ledger.formats import Block, QuorumCertificate
from ledgr.ledger.state import did_head_key
from ledgr.store import Store
from ledgr.store.env import BLOCKS, QCS, STATE
from ledgr.store.keys import data_key, height_key
from ledgr.store.verify import verify_ledger
from tests.unit.store.workload import DidWorkload


def _ledger(path: Path, blocks: int = 4, ops: int = 6) -> DidWorkload:
    workload = DidWorkload.for_seed("verify")
    with Store.open(path) as store:
        store.initialize_genesis(workload.genesis)
        for _ in range(blocks):
            with store.snapshot() as view:
                block, qc, result = workload.next_block(view, ops)
            store.commit_block(block, qc, result)
    return workload


def _tamper(path: Path, db: bytes, key: bytes, value: bytes) -> None:
    with Store.open(path, check=False) as store:
        store._write(lambda txn: txn.put(key, value, db=store._dbs[db]))


def test_a_clean_ledger_verifies_with_progress(tmp_path: Path) -> None:
    workload = _ledger(tmp_path / "node")
    calls: list[tuple[int, int]] = []
    report = verify_ledger(tmp_path / "node", workload.genesis, lambda *args: calls.append(args))
    assert report.height == 4
    assert report.operations == 24
    assert calls == [(1, 4), (2, 4), (3, 4), (4, 4)]
    with Store.open(tmp_path / "node") as store:
        tip = store.tip()
        assert tip is not None and report.app_root == tip.app_root


def test_a_different_genesis_is_refused(tmp_path: Path) -> None:
    _ledger(tmp_path / "node", blocks=1)
    with pytest.raises(IntegrityError, match="different genesis"):
        verify_ledger(tmp_path / "node", DidWorkload.for_seed("other").genesis)


def test_a_changed_state_value_is_caught(tmp_path: Path) -> None:
    workload = _ledger(tmp_path / "node")
    key = data_key(did_head_key(workload.did_of(1, 0)))
    _tamper(tmp_path / "node", STATE, key, b'{"forged": true}')
    Store.open(tmp_path / "node").close()  # the cheap open check cannot see this …
    with pytest.raises(IntegrityError, match=r"stored state .* differs from the replayed ledger"):
        verify_ledger(tmp_path / "node", workload.genesis)  # … the full verification does


def test_a_forged_qc_signature_is_caught(tmp_path: Path) -> None:
    workload = _ledger(tmp_path / "node")
    with Store.open(tmp_path / "node") as store:
        raw = store.read(lambda v: v.qc_bytes(2))
    assert raw is not None
    qc = QuorumCertificate.decode(raw)
    forged = QuorumCertificate(qc.height, qc.round, qc.block_hash, qc.signer_count, qc.signer_bitmap,
                               (bytes(64), *qc.signatures[1:]))
    _tamper(tmp_path / "node", QCS, height_key(2), forged.encode())
    with pytest.raises(IntegrityError, match="block 2 does not verify: QC signature"):
        verify_ledger(tmp_path / "node", workload.genesis)


def test_a_qc_below_quorum_is_caught(tmp_path: Path) -> None:
    workload = _ledger(tmp_path / "node")
    with Store.open(tmp_path / "node") as store:
        raw = store.read(lambda v: v.qc_bytes(3))
    assert raw is not None
    qc = QuorumCertificate.decode(raw)
    weak = QuorumCertificate.from_votes(qc.height, qc.round, qc.block_hash, qc.signer_count,
                                        {qc.signer_indexes()[0]: qc.signatures[0]})
    _tamper(tmp_path / "node", QCS, height_key(3), weak.encode())
    with pytest.raises(IntegrityError, match="block 3 does not verify: QC has 1 signatures"):
        verify_ledger(tmp_path / "node", workload.genesis)


def test_a_block_with_swapped_operations_is_caught(tmp_path: Path) -> None:
    workload = _ledger(tmp_path / "node")
    with Store.open(tmp_path / "node") as store:
        raw = store.read(lambda v: v.block_bytes(2))
    assert raw is not None
    block = Block.decode(raw)
    swapped = Block(block.header, tuple(reversed(block.operations)))
    _tamper(tmp_path / "node", BLOCKS, height_key(2), swapped.encode())
    with pytest.raises(IntegrityError, match="block 2 does not verify: tx_root"):
        verify_ledger(tmp_path / "node", workload.genesis)


def test_cli_verify_exit_codes(tmp_path: Path) -> None:
    workload = _ledger(tmp_path / "node", blocks=2)
    runner = CliRunner()
    ok = runner.invoke(cli, ["ledger", "verify", "--data-dir", str(tmp_path / "node")])
    assert ok.exit_code == 0, ok.output
    summary = json.loads(ok.stdout)
    assert summary["ok"] is True and summary["height"] == 2

    genesis_file = tmp_path / "genesis.json"
    genesis_file.write_text(json.dumps(workload.genesis.to_json()))
    (tmp_path / "scratch").mkdir()
    mine = runner.invoke(cli, ["ledger", "verify", "--data-dir", str(tmp_path / "node"),
                               "--genesis", str(genesis_file), "--scratch-dir", str(tmp_path / "scratch")])
    assert mine.exit_code == 0 and json.loads(mine.stdout)["genesis"] == "given"
    assert not any((tmp_path / "scratch").iterdir())  # the replay is cleaned up

    _tamper(tmp_path / "node", STATE, data_key(did_head_key(workload.did_of(1, 0))), b"{}")
    bad = runner.invoke(cli, ["ledger", "verify", "--data-dir", str(tmp_path / "node")])
    assert bad.exit_code == 1
    assert "differs from the replayed ledger" in bad.stderr and "Traceback" not in bad.output


def test_cli_info_shows_the_tip(tmp_path: Path) -> None:
    _ledger(tmp_path / "node", blocks=2, ops=3)
    result = CliRunner().invoke(cli, ["ledger", "info", "--data-dir", str(tmp_path / "node")])
    assert result.exit_code == 0, result.output
    info = json.loads(result.stdout)
    assert info["height"] == 2 and info["indexed_operations"] == 6
    assert info["chain_id"] and info["restored"] is None
