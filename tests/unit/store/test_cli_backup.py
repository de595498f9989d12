"""``ledgr backup`` / ``ledgr restore`` through click: JSON out, one-line errors, exit codes."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from ledgr.cli import cli
from ledgr.crypto import sha256
from ledgr.store import Store


def _make_store(path: Path) -> None:
    root = sha256(b"root")
    with Store.open(path) as store:
        store.initialize(genesis_hash=sha256(b"g"), chain_id="c", state_writes={b"k": b"v"},
                         smt_nodes={root: b"node"}, app_root=root)


def test_backup_then_restore_round_trip(tmp_path: Path) -> None:
    _make_store(tmp_path / "node")
    runner = CliRunner()
    node, bk, new = str(tmp_path / "node"), str(tmp_path / "bk"), str(tmp_path / "new")
    result = runner.invoke(cli, ["backup", "--data-dir", node, "--out", bk])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["kind"] == "ledgr-backup"

    result = runner.invoke(cli, ["restore", "--from", bk, "--data-dir", node])
    assert result.exit_code == 1
    assert "refusing to restore" in result.stderr and "Traceback" not in result.output

    result = runner.invoke(cli, ["restore", "--from", bk, "--data-dir", new])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["restored_at_ms"] > 0
    with Store.open(tmp_path / "new") as store:
        assert store.get(b"k") == b"v"
        assert store.restore_marker() is not None


def test_backup_of_a_missing_store_is_one_line(tmp_path: Path) -> None:
    args = ["backup", "--data-dir", str(tmp_path / "none"), "--out", str(tmp_path / "b")]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 1
    assert result.stderr.strip().startswith("error:") and len(result.stderr.strip().splitlines()) == 1
