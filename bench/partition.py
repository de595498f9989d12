"""Commit latency while one node of three is partitioned away (issue 7 "Evidence").

A three-validator network with a seeded fault proxy on every peer link (``tests.faults.cluster``:
the same cluster the partition tests use, built by the genesis ceremony, production consensus
timeouts unless ``--fast``). A paced open-loop ``did.create`` load (``--rate`` ops/s, fresh keys,
pre-signed) is written to the two majority nodes in three phases of ``--phase-s`` seconds:

1. *connected*: all links up;
2. *partitioned*: ``node2`` isolated from both peers (its links stall), the load continues on
   node0/node1, which hold a quorum (q = 2 of 3) and keep committing. Every height whose round-0
   proposer is the isolated node needs a second round; until the majority notices that it cannot
   hear the isolated node (no STATUS frame for 3 s on a stalled link; at once on a refused one) such a
   round waits the whole propose timeout, afterwards only ``timeout_silent_proposer_ms``. Figures are
   also given for the operations submitted from 4 s into each phase;
3. *healed*: links restored; the isolated node catches up while the load continues (the time until
   it is within one height of the majority is reported).

Latency is client-observed, from the start of ``POST /v1/operations?wait=30`` to the answer
``committed``. Run:  .venv/bin/python -m bench.partition [--rate 100] [--phase-s 10] [--fast]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shlex
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

from bench.cluster import client_run, percentile
from ledgr.node.config import ConsensusConfig
from ledgr.node.loadgen import presign
from tests.faults.cluster import FAST_CONSENSUS, FaultCluster

VICTIM = 2
SETTLED_AFTER_S = 4.0  # a stalled link is noticed within 3 s (no STATUS frame): figures after that
MAJORITY = [0, 1]


def round_changes(url: str) -> float:
    text = urllib.request.urlopen(f"{url}/v1/metrics", timeout=5).read().decode()
    for line in text.splitlines():
        if line.startswith("ledgr_consensus_round_changes_total "):
            return float(line.split()[1])
    return 0.0


def caught_up_after(cluster: FaultCluster, healed_at: float, timeout_s: float = 120.0) -> float:
    """Seconds from the heal until the isolated node is within one height of the majority."""
    while time.monotonic() - healed_at < timeout_s:
        if cluster.height(VICTIM) >= max(cluster.height(i) for i in MAJORITY) - 1:
            return time.monotonic() - healed_at
        time.sleep(0.1)
    raise SystemExit("the healed node did not catch up within 120 s")


async def load(cluster: FaultCluster, rate: float, seconds: float) -> dict[str, float]:
    status = cluster.status(MAJORITY[0])
    assert status is not None
    envelopes = presign(int(rate * seconds), status["chain_id"], int(status["height"]))
    urls = [cluster.urls[i] for i in MAJORITY]
    started = time.monotonic()
    result = await client_run(urls, envelopes, rate)
    wall = time.monotonic() - started
    lat = result.latencies_ms()
    settled = sorted((r.latency_s or 0.0) * 1000 for r in result.committed
                     if r.submitted_s - started >= SETTLED_AFTER_S)
    return {"submitted": float(len(result.records)), "committed": float(len(result.committed)),
            "errors": float(sum(1 for r in result.records if r.error)),
            "p50_ms": percentile(lat, 0.5), "p99_ms": percentile(lat, 0.99), "max_ms": max(lat, default=0.0),
            "settled_p50_ms": percentile(settled, 0.5), "settled_p99_ms": percentile(settled, 0.99),
            "wall_s": wall}


def show(name: str, figures: dict[str, float], rounds: float) -> None:
    print(f"{name:>12}: submitted {figures['submitted']:.0f}, committed {figures['committed']:.0f}, "
          f"errors {figures['errors']:.0f}, p50 {figures['p50_ms']:.1f} ms, p99 {figures['p99_ms']:.1f} ms, "
          f"max {figures['max_ms']:.0f} ms (from {SETTLED_AFTER_S:.0f} s on: "
          f"p50 {figures['settled_p50_ms']:.1f}, p99 {figures['settled_p99_ms']:.1f} ms), "
          f"round changes on the majority {rounds:.0f}", flush=True)


async def main(args: argparse.Namespace) -> dict[str, Any]:
    consensus = dict(FAST_CONSENSUS) if args.fast else {
        "timeout_propose_ms": ConsensusConfig.timeout_propose_ms,
        "timeout_prevote_ms": ConsensusConfig.timeout_prevote_ms,
        "timeout_precommit_ms": ConsensusConfig.timeout_precommit_ms,
        "heartbeat_ms": ConsensusConfig.heartbeat_ms}
    directory = Path(tempfile.mkdtemp(prefix="ledgr-partition-")) / "net"
    out: dict[str, Any] = {"consensus": consensus}
    with FaultCluster(directory, 3, seed=args.seed, consensus=consensus) as cluster:
        print(f"cluster: {', '.join(cluster.urls)}; consensus {consensus}", flush=True)
        await load(cluster, 50.0, 3.0)  # warm-up

        def rounds() -> float:
            return sum(round_changes(cluster.urls[i]) for i in MAJORITY)

        before = rounds()
        out["connected"] = await load(cluster, args.rate, args.phase_s)
        show("connected", out["connected"], rounds() - before)
        cluster.faults.isolate(cluster.names[VICTIM], mode="stall")
        before = rounds()
        out["partitioned"] = await load(cluster, args.rate, args.phase_s)
        show("partitioned", out["partitioned"], rounds() - before)
        frozen = cluster.height(VICTIM)
        gap = max(cluster.height(i) for i in MAJORITY) - frozen
        cluster.faults.heal()
        healed_at = time.monotonic()
        before = rounds()
        watcher = asyncio.create_task(asyncio.to_thread(caught_up_after, cluster, healed_at))
        out["healed"] = await load(cluster, args.rate, args.phase_s)
        show("healed", out["healed"], rounds() - before)
        out["victim_height_at_heal"] = frozen
        out["victim_gap_at_heal"] = gap
        out["caught_up_s_after_heal"] = await watcher
        print(f"isolated node: {gap} heights behind when healed (at {frozen}); within one height of the "
              f"majority {out['caught_up_s_after_heal']:.2f} s after the heal, under the load", flush=True)
        final = cluster.converged()
        print(f"converged at height {final}", flush=True)
    return out


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=100.0)
    parser.add_argument("--phase-s", type=float, default=10.0)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--fast", action="store_true", help="the fault tests' short timeouts")
    parser.add_argument("--json", action="store_true")
    arguments = parser.parse_args()
    print("command:", shlex.join([sys.executable, *sys.argv]), flush=True)
    figures = asyncio.run(main(arguments))
    if arguments.json:
        print(json.dumps(figures, indent=2))
