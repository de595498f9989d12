"""Block sync executes block N+1 while block N is being committed (``ledgr.node.workers``
``_execute_ahead_on``): over an overlay of N's writes it must give exactly what executing N+1 after
committing N gives, and it must refuse (None) when it does not hold N's result."""

from __future__ import annotations

from pathlib import Path

import pytest

from ledgr.ledger.formats import Block, QuorumCertificate
from ledgr.node import workers
from ledgr.store.store import Store
from tests.unit.store.workload import DidWorkload


def reference_chain(tmp_path: Path, workload: DidWorkload,
                    blocks: int) -> list[tuple[Block, QuorumCertificate]]:
    """Blocks built and committed one by one on a separate store (the network's chain)."""
    out = []
    with Store.open(tmp_path / "reference") as store:
        store.initialize_genesis(workload.genesis)
        for _ in range(blocks):
            with store.snapshot() as view:
                block, qc, result = workload.next_block(view, 40)
            store.commit_block(block, qc, result)
            out.append((block, qc))
    return out


@pytest.fixture(autouse=True)
def fresh_results(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(workers, "_executed", {})


def test_block_executed_over_its_uncommitted_parent_matches_the_chain(tmp_path: Path) -> None:
    workload = DidWorkload.for_seed("ahead")
    chain = reference_chain(tmp_path, workload, 4)
    with Store.open(tmp_path / "syncing") as store:
        store.initialize_genesis(workload.genesis)
        results = []
        for block, _qc in chain[:3]:  # blocks 2 and 3 update DIDs created by 1 and 2: read the overlay
            result = workers._execute_ahead_on(store, block.encode())
            assert isinstance(result, workers.BlockResult)
            assert result.app_root == block.header.app_root
            results.append(result)
        assert store.tip().height == 0  # nothing was committed meanwhile
        for (block, qc), result in zip(chain[:3], results, strict=True):
            store.commit_block(block, qc, result)
        fourth = workers._execute_ahead_on(store, chain[3][0].encode())
        assert isinstance(fourth, workers.BlockResult)
        assert fourth.app_root == chain[3][0].header.app_root
        assert all(entry[0] > 3 for entry in workers._executed.values())  # committed ones were dropped


def test_without_the_parent_result_it_declines_instead_of_guessing(tmp_path: Path) -> None:
    workload = DidWorkload.for_seed("ahead-missing")
    chain = reference_chain(tmp_path, workload, 2)
    with Store.open(tmp_path / "syncing") as store:
        store.initialize_genesis(workload.genesis)
        assert workers._execute_ahead_on(store, chain[1][0].encode()) is None
        # the ordinary path reports why: block 2 does not follow the committed tip
        outcome = workers._execute_on(store, chain[1][0].encode())
        assert isinstance(outcome, tuple) and outcome[0] == "VerificationFailed"
