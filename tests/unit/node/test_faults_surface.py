"""Operator-visible fault features: the slow-disk knob and equivocation evidence (issue 7)."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from prometheus_client import generate_latest

from ledgr.consensus.evidence import make_evidence
from ledgr.consensus.messages import Vote, VoteType
from ledgr.consensus.signing import Ed25519Signer
from ledgr.ledger.execute import execute_block
from ledgr.node.bridge import evidence_operation
from ledgr.node.certified import verify_state_answer
from ledgr.node.config import load_config
from ledgr.node.evidence_log import EvidenceLog, ledger_id
from ledgr.node.metrics import NodeMetrics
from ledgr.node.reads import state_json
from ledgr.node.writer import DurableWriter
from ledgr.store import Store
from tests.paths import ROOT
from tests.unit.consensus.harness import CHAIN, KEYS, signed_vote
from tests.unit.ledger.chain import CHAIN_ID as LEDGER_CHAIN_ID
from tests.unit.ledger.chain import Chain as LedgerChain

EXAMPLE = ROOT / "configs" / "node.example.toml"


def test_disk_delay_comes_from_the_fault_variable_or_the_store_section() -> None:
    assert load_config(EXAMPLE, environ={}).store.fault_delay_ms == 0
    assert load_config(EXAMPLE, environ={"LEDGR_FAULT_DISK_DELAY_MS": "40"}).store.fault_delay_ms == 40
    assert load_config(EXAMPLE, environ={"LEDGR_STORE_FAULT_DELAY_MS": "7"}).store.fault_delay_ms == 7


def test_the_writer_sleeps_before_each_durable_write() -> None:
    async def timed(writer: DurableWriter) -> float:
        started = time.monotonic()
        for _ in range(3):
            assert await writer.run(lambda x: x + 1, 1) == 2
        return time.monotonic() - started

    slow, fast = DurableWriter(60), DurableWriter(0)
    try:
        assert asyncio.run(timed(slow)) >= 0.18
        assert asyncio.run(timed(fast)) < 0.18
    finally:
        slow.close()
        fast.close()


def _evidence(round_: int = 1) -> object:
    a, b = signed_vote(2, VoteType.PREVOTE, 5, round_, "A"), signed_vote(2, VoteType.PREVOTE, 5, round_, "B")
    found = make_evidence(CHAIN, KEYS[2].public_key, a, b)
    assert found is not None
    return found


def test_detected_evidence_is_stored_pending_and_survives_a_restart(tmp_path: Path) -> None:
    metrics = NodeMetrics()
    evidence = _evidence()
    with Store.open(tmp_path / "data") as store:
        log = EvidenceLog(store, metrics.evidence)
        assert log.status() == {"count": 0, "recent": [], "uncommitted": {"count": 0, "recent": []}}
        assert log.record(evidence)  # type: ignore[arg-type]
        assert not log.record(evidence)  # type: ignore[arg-type]  # the same proof counts once
        assert log.record(_evidence(round_=2))  # type: ignore[arg-type]
        status = log.status()
        assert status["count"] == 0 and status["uncommitted"]["count"] == 2
        first = status["uncommitted"]["recent"][0]
        assert {k: first[k] for k in ("validator", "height", "round", "kind", "submittable")} == {
            "validator": KEYS[2].public_key.multikey, "height": 5, "round": 1, "kind": "equivocation",
            "submittable": True}
        assert len(log.pending) == 2
        # nothing is on the ledger yet, so nothing is counted as committed
        assert "ledgr_equivocation_evidence_total{" not in generate_latest(metrics.registry).decode()
    with Store.open(tmp_path / "data") as store:
        again = EvidenceLog(store, NodeMetrics().evidence)
        assert again.status()["uncommitted"]["count"] == 2 and len(again.pending) == 2
        assert not again.record(evidence)  # type: ignore[arg-type]
        writer = DurableWriter()
        try:
            assert asyncio.run(again.report(_evidence(round_=3), writer))  # type: ignore[arg-type]
            assert not asyncio.run(again.report(evidence, writer))  # type: ignore[arg-type]
        finally:
            writer.close()
        assert again.status()["uncommitted"]["count"] == 3
        assert again.status()["uncommitted"]["recent"][-1]["round"] == 3


def _commit(chain: LedgerChain, store: Store, operations: list[bytes]) -> None:
    block, _ = chain.commit(operations)
    with store.snapshot() as view:
        result = execute_block(view, block)
    store.commit_block(block, chain.qc(block), result)


def test_committed_evidence_is_read_from_the_ledger_counted_and_certified(tmp_path: Path) -> None:
    chain = LedgerChain.start()
    assert chain.genesis is not None
    culprit = chain.node_keys[1]
    votes = [Vote(VoteType.PRECOMMIT, 1, 0, value, -1, 1) for value in (b"\x0a" * 32, b"\x0b" * 32)]
    evidence = make_evidence(LEDGER_CHAIN_ID, culprit.public_key,
                             *[v.signed(Ed25519Signer(culprit).sign_vote(LEDGER_CHAIN_ID, v)) for v in votes])
    assert evidence is not None
    metrics = NodeMetrics()
    with Store.open(tmp_path / "data") as store:
        store.initialize_genesis(chain.genesis)
        _commit(chain, store, [])
        log = EvidenceLog(store, metrics.evidence)
        assert log.record(evidence)
        assert list(log.pending) == [ledger_id(evidence)]
        _commit(chain, store, [evidence_operation(evidence, chain.node_keys[0], 100)])
        fresh = log.refresh_committed()
        assert [e["validator_name"] for e in fresh] == ["v1"] and not log.pending
        assert log.refresh_committed() == []  # logged and counted once
        status = log.status()
        assert status["count"] == 1 and status["uncommitted"]["count"] == 0
        assert status["recent"][0]["id"] == ledger_id(evidence)
        assert status["recent"][0]["submitted_by"] == chain.node_keys[0].public_key.multikey
        label = f'ledgr_equivocation_evidence_total{{validator="{culprit.public_key.multikey}"}} 1.0'
        assert label in generate_latest(metrics.registry).decode()
        answer = state_json(store, "evidence", ledger_id(evidence), True)
        certified = verify_state_answer(answer, chain.validator_set)
        assert certified.height == 2 and certified.values["evidence"] is not None
    with Store.open(tmp_path / "data") as store:
        restarted = NodeMetrics()
        again = EvidenceLog(store, restarted.evidence)
        assert again.status()["count"] == 1 and not again.pending
        assert label in generate_latest(restarted.registry).decode()
