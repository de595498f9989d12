"""Operator-visible fault features: the slow-disk knob and equivocation evidence (issue 7)."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from prometheus_client import generate_latest

from ledgr.consensus.evidence import make_evidence
from ledgr.consensus.messages import VoteType
from ledgr.node.config import load_config
from ledgr.node.evidence_log import EvidenceLog
from ledgr.node.metrics import NodeMetrics
from ledgr.node.writer import DurableWriter
from ledgr.store import Store
from tests.paths import ROOT
from tests.unit.consensus.harness import CHAIN, KEYS, signed_vote

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


def test_evidence_is_stored_counted_and_survives_a_restart(tmp_path: Path) -> None:
    metrics = NodeMetrics()
    evidence = _evidence()
    with Store.open(tmp_path / "data") as store:
        log = EvidenceLog(store, metrics.evidence)
        assert log.status() == {"count": 0, "recent": []}
        assert log.record(evidence)  # type: ignore[arg-type]
        assert not log.record(evidence)  # type: ignore[arg-type]  # the same proof counts once
        assert log.record(_evidence(round_=2))  # type: ignore[arg-type]
        status = log.status()
        assert status["count"] == 2
        assert status["recent"][0] == {"validator": KEYS[2].public_key.multikey, "height": 5, "round": 1,
                                       "kind": "equivocation"}
        text = generate_latest(metrics.registry).decode()
        assert f'ledgr_equivocation_evidence_total{{validator="{KEYS[2].public_key.multikey}"}} 2.0' in text
    with Store.open(tmp_path / "data") as store:
        again = EvidenceLog(store, NodeMetrics().evidence)
        assert again.status()["count"] == 2
        assert not again.record(evidence)  # type: ignore[arg-type]
        writer = DurableWriter()
        try:
            assert asyncio.run(again.report(_evidence(round_=3), writer))  # type: ignore[arg-type]
            assert not asyncio.run(again.report(evidence, writer))  # type: ignore[arg-type]
        finally:
            writer.close()
        assert again.status()["count"] == 3 and again.status()["recent"][-1]["round"] == 3
