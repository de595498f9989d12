"""Pruning SMT pages of old versions: the kept trees stay whole, the ledger still verifies and grows."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from ledgr.cli import cli
from ledgr.crypto import sha256
from ledgr.errors import IntegrityError, InvalidInput, InvariantViolation
from ledgr.ledger.execute import execute_block
from ledgr.ledger.smt import prove, verify_proof
from ledgr.ledger.state import did_head_key
from ledgr.store import Store
from ledgr.store.env import SMT
from ledgr.store.prune import prune_smt, reachable_pages
from ledgr.store.reads import load_block
from ledgr.store.verify import verify_ledger
from tests.unit.store.workload import DidWorkload


def _grow(store: Store, workload: DidWorkload, blocks: int, ops: int = 8) -> None:
    for _ in range(blocks):
        with store.snapshot() as view:
            block, qc, result = workload.next_block(view, ops)
        store.commit_block(block, qc, result)


def _root(store: Store, height: int) -> bytes:
    found = store.read(lambda view: load_block(view, height))
    assert found is not None
    return found.block.header.app_root


def test_prune_keeps_recent_trees_whole_and_the_ledger_verifiable(tmp_path: Path) -> None:
    workload = DidWorkload.for_seed("prune")
    with Store.open(tmp_path / "node") as store:
        store.initialize_genesis(workload.genesis)
        _grow(store, workload, 12)
        before = store.read(lambda view: view.count(SMT))
        report = prune_smt(store, keep_heights=3)
        assert report.pages_deleted > 0 and report.kept_from_height == 10
        assert store.read(lambda view: view.count(SMT)) == before - report.pages_deleted
        with store.snapshot() as view:
            for height in (10, 11, 12):  # kept roots: every DID proves against them
                root = _root(store, height)
                for created_at in range(1, 11):
                    key = did_head_key(workload.did_of(created_at, 0))
                    proof = prove(view.get_node, root, sha256(key))
                    assert proof.leaf is not None
            old = _root(store, 5)
            with pytest.raises(InvariantViolation, match="missing"):
                prove(view.get_node, old, sha256(did_head_key(workload.did_of(1, 0))))
            tip_root = _root(store, 12)
            key = did_head_key(workload.did_of(3, 1))
            value = view.get(key)
            assert value is not None
            proof = prove(view.get_node, tip_root, sha256(key))
            assert verify_proof(tip_root, sha256(key), sha256(value), proof)
        _grow(store, workload, 3)  # the pruned store keeps executing and committing blocks
        assert verify_ledger(store, workload.genesis).height == 15
    with Store.open(tmp_path / "node") as again:
        tip = again.tip()
        assert tip is not None and tip.height == 15
        with again.snapshot() as view:
            block = workload.next_block(view, 4)[0]
            assert execute_block(view, block).app_root == block.header.app_root


def test_prune_with_a_window_covering_everything_deletes_nothing(tmp_path: Path) -> None:
    workload = DidWorkload.for_seed("prune-none")
    with Store.open(tmp_path / "node") as store:
        store.initialize_genesis(workload.genesis)
        _grow(store, workload, 3)
        assert prune_smt(store, keep_heights=10).pages_deleted == 0
        with pytest.raises(InvalidInput):
            prune_smt(store, keep_heights=0)


@pytest.mark.parametrize("height", [5, 6])
def test_verify_after_prune_catches_a_missing_page_of_a_kept_tree(tmp_path: Path, height: int) -> None:
    workload = DidWorkload.for_seed("prune-damage")
    with Store.open(tmp_path / "node") as store:
        store.initialize_genesis(workload.genesis)
        _grow(store, workload, 6)
        prune_smt(store, keep_heights=2)
        assert verify_ledger(store, workload.genesis).height == 6
        root = _root(store, height)
        # drop one page of a kept tree other than its root (the open check looks at the tip root)
        with store.snapshot() as view:
            victim = next(page for page in reachable_pages(view.get_node, [root]) if page != root)
        store.delete_smt_pages([victim])
        with pytest.raises(IntegrityError, match="SMT is incomplete"):
            verify_ledger(store, workload.genesis)


def test_cli_prune(tmp_path: Path) -> None:
    workload = DidWorkload.for_seed("prune-cli")
    with Store.open(tmp_path / "node") as store:
        store.initialize_genesis(workload.genesis)
        _grow(store, workload, 5, ops=4)
    result = CliRunner().invoke(cli, ["ledger", "prune", "--data-dir", str(tmp_path / "node"),
                                      "--keep-heights", "2"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["kept_from_height"] == 4 and summary["pages_deleted"] > 0
    verify = CliRunner().invoke(cli, ["ledger", "verify", "--data-dir", str(tmp_path / "node")])
    assert verify.exit_code == 0, verify.output


def test_a_second_prune_never_claims_trees_an_earlier_one_deleted(tmp_path: Path) -> None:
    """A wider window after a narrow prune (or after a state sync, which records the same marker)
    keeps from the earlier bound: the older trees are gone, and verify goes by the marker."""
    workload = DidWorkload.for_seed("prune-twice")
    with Store.open(tmp_path / "node") as store:
        store.initialize_genesis(workload.genesis)
        _grow(store, workload, 8)
        assert prune_smt(store, keep_heights=2).kept_from_height == 7
        _grow(store, workload, 2)
        wider = prune_smt(store, keep_heights=8)  # would start at 3, whose tree is gone
        assert wider.kept_from_height == 7 and wider.pages_deleted == 0
        assert verify_ledger(store, workload.genesis).height == 10
