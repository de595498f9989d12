"""Fault soak: ``python -m tests.faults.soak --minutes N --seed S [--dir DIR]``.

Starts three real nodes behind fault proxies, runs the recorded workload for N minutes and, in a
seeded random schedule, applies one fault at a time — isolating a node (blackhole or reject), a
one-way cut, no-quorum partitions, noisy links (delay, drop, duplicate, reorder, resets), SIGKILL +
restart, a wipe + restart, a SIGSTOP pause, a slow disk (every durable write delayed) — holds it,
heals, and checks that the nodes converge. At the end it settles unknown writes, reads the final
state from every node and checks the whole history (linearizability per DID, certified-read
monotonicity). Prints a summary (and writes it with the history to DIR); exits 1 on any violation
or convergence failure.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import statistics
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

from ledgr.errors import LedgrError
from tests.faults.cluster import FaultCluster
from tests.faults.history import OK, UNKNOWN, WRITE
from tests.faults.linearizability import check
from tests.faults.proxy import Faults
from tests.faults.workload import Workload, WorkloadThread

SCENARIOS = ("isolate-stall", "isolate-reject", "one-way-cut", "no-quorum", "noise", "kill-restart",
             "wipe-restart", "pause", "slow-disk")


def apply(cluster: FaultCluster, scenario: str, victim: int, rng: random.Random) -> None:
    name = cluster.names[victim]
    if scenario == "isolate-stall":
        cluster.faults.isolate(name, mode="stall")
    elif scenario == "isolate-reject":
        cluster.faults.isolate(name, mode="reject")
    elif scenario == "one-way-cut":
        other = cluster.names[(victim + 1 + rng.randrange(cluster.count - 1)) % cluster.count]
        cluster.faults.cut(name, other)
    elif scenario == "no-quorum":
        cluster.faults.partition(*({n} for n in cluster.names), mode="stall")
    elif scenario == "noise":
        cluster.faults.set_default(Faults(delay_ms=rng.uniform(0, 5), jitter_ms=rng.uniform(0, 30),
                                          drop=rng.uniform(0, 0.1), duplicate=rng.uniform(0, 0.1),
                                          reorder=rng.uniform(0, 0.1), reorder_ms=30, reset=0.002))
    elif scenario in ("kill-restart", "wipe-restart"):
        cluster.kill(victim)
    elif scenario == "pause":
        cluster.pause(victim)
    elif scenario == "slow-disk":
        cluster.set_slow_disk(victim, rng.randrange(20, 100))
        cluster.kill(victim)
        cluster.restart(victim)


def heal(cluster: FaultCluster, scenario: str, victim: int) -> None:
    cluster.faults.clear()
    if scenario == "pause":
        cluster.resume(victim)
    elif scenario in ("kill-restart", "wipe-restart"):
        cluster.restart(victim, wipe=scenario == "wipe-restart")
    elif scenario == "slow-disk":
        cluster.set_slow_disk(victim, None)
        cluster.kill(victim)
        cluster.restart(victim)


def soak(minutes: float, seed: int, directory: Path) -> dict[str, Any]:
    rng = random.Random(seed)
    cluster = FaultCluster(directory / "net", count=3, seed=seed)
    summary: dict[str, Any] = {"seed": seed, "minutes": minutes, "cycles": [], "failures": []}
    cluster.start()
    workload = Workload(cluster.urls, cluster.genesis, seed)  # type: ignore[arg-type]
    thread = WorkloadThread(workload).start()
    deadline = time.monotonic() + minutes * 60
    try:
        while time.monotonic() < deadline:
            scenario, victim = rng.choice(SCENARIOS), rng.randrange(cluster.count)
            hold_s = rng.uniform(3, 12)
            time.sleep(rng.uniform(1, 3))
            started = time.monotonic()
            try:
                apply(cluster, scenario, victim, rng)
                time.sleep(hold_s)
                heal(cluster, scenario, victim)
                started = time.monotonic()
                height = cluster.wait_converged(90)
            except (AssertionError, LedgrError, OSError) as exc:
                summary["failures"].append(f"{scenario} on node{victim}: {type(exc).__name__}: {exc}")
                break
            summary["cycles"].append({"scenario": scenario, "victim": victim, "hold_s": round(hold_s, 1),
                                      "converge_s": round(time.monotonic() - started, 2), "height": height})
            print(f"[{len(summary['cycles'])}] {scenario} node{victim} held {hold_s:.1f}s, converged at "
                  f"height {height} in {time.monotonic() - started:.1f}s", flush=True)
    finally:
        cluster.faults.clear()
        for i in list(cluster.paused):
            cluster.resume(i)
        history = thread.stop()
        try:
            if not summary["failures"]:
                cluster.wait_converged(90)
                summary["settled_unknown_writes"] = asyncio.run(workload.settle())
                final = asyncio.run(workload.final_state())
                violations = check(history, final=final)
                summary["violations"] = [f"{v.kind} {v.key}: {v.detail}" for v in violations]
                summary["final_height"] = cluster.converged()
        finally:
            history.save(directory / "history.jsonl")
            stats = cluster.faults.stats()
            cluster.stop()
    writes = [op for op in history if op.kind == WRITE]
    latencies = sorted((op.complete_ns - op.invoke_ns) / 1e6 for op in writes
                       if op.status == OK and op.complete_ns is not None)
    summary["operations"] = dict(Counter(f"{op.kind}:{op.status}" for op in history))
    summary["writes_acknowledged"] = sum(1 for op in writes if op.status == OK)
    summary["writes_unknown"] = sum(1 for op in writes if op.status == UNKNOWN)
    if latencies:
        summary["write_latency_ms"] = {"p50": round(statistics.median(latencies), 1),
                                       "p99": round(latencies[int(0.99 * (len(latencies) - 1))], 1)}
    summary["scenarios"] = dict(Counter(c["scenario"] for c in summary["cycles"]))
    converge = [c["converge_s"] for c in summary["cycles"]]
    if converge:
        summary["converge_s"] = {"median": round(statistics.median(converge), 2), "max": max(converge)}
    summary["proxy"] = {k: v for k, v in sorted(stats.items()) if not k.endswith((":units", ":data"))}
    return summary


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.faults.soak", description=__doc__.split("\n")[0])
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--dir", type=Path, default=None, help="keep nodes, logs and history here")
    args = parser.parse_args(argv)
    directory = args.dir or Path(tempfile.mkdtemp(prefix="ledgr-soak-"))
    directory.mkdir(parents=True, exist_ok=True)
    summary = soak(args.minutes, args.seed, directory)
    summary["command"] = f"python -m tests.faults.soak --minutes {args.minutes:g} --seed {args.seed}"
    (directory / "summary.json").write_text(json.dumps(summary, indent=2))
    print(json.dumps({k: v for k, v in summary.items() if k != "cycles"}, indent=2))
    print(f"history and logs: {directory}")
    ok = not summary["failures"] and not summary.get("violations") and "violations" in summary
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
