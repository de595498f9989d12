"""Cluster benchmark: a local three-node testnet under DID write load (issue 5 "Evidence").

Measures, on this machine (nodes and load generator share it):

1. committed ``did.create`` operations per second at saturation, two ways:
   *burst* — ``--saturation-ops`` pre-signed operations offered at once (round-robin over the
   nodes; comparable with the first figures in docs/benchmarks.md), and *sustained* — a paced
   open-loop overload (``--overload-rate`` ops/s for ``--overload-s`` seconds, more than the
   cluster can take); each reports the commit rate between the 10th and the 90th percentile of
   commit times, so the ramp-up and the drain (last, partly filled blocks) do not distort it.
   The sustained figure is the steady capacity with entry checks competing with blocks, as in
   real use; a burst front-loads the checks and overstates it;
2. commit latency p50/p99 at light load (``--light-rate`` ops/s, paced open loop);
3. commit latency p50/p99 at 70 % of the *sustained* rate: a paced open-loop load (one submission
   every 1/rate seconds, independent of answers; up to 20,000 in flight) for ``--phase-s`` seconds
   after a short settling run at the same rate, which is not measured.

Latency is client-observed: from the start of ``POST /v1/operations?wait=30`` to its answer saying
``committed`` (one HTTP request per operation; a still-pending answer is followed by
``GET /v1/operations/{hash}?wait=``).

Run:  .venv/bin/python bench/cluster.py [--saturation-ops 6000] [--overload-rate 2000] [--overload-s 10]
      [--light-rate 20] [--phase-s 15]
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import gc
import json
import os
import shlex
import sys
import tempfile
import time
from pathlib import Path

from ledgr.node import testnet as tn
from ledgr.node.loadgen import LoadResult, presign, run_rate


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def sustained_rate(result: LoadResult) -> float:
    """Commits per second between the 10th and 90th percentile of commit times."""
    times = sorted(r.committed_s for r in result.committed if r.committed_s is not None)
    if len(times) < 10:
        return 0.0
    low, high = times[len(times) // 10], times[(9 * len(times)) // 10]
    inside = sum(1 for t in times if low <= t <= high)
    return inside / max(1e-9, high - low)


def summarize(name: str, result: LoadResult, wall_s: float) -> dict[str, float]:
    lat = result.latencies_ms()
    committed = result.committed
    first = min((r.submitted_s for r in result.records), default=0.0)
    last = max((r.committed_s or 0.0 for r in committed), default=0.0)
    span = max(1e-9, last - first)
    out = {
        "submitted": float(len(result.records)),
        "committed": float(len(committed)),
        "errors": float(sum(1 for r in result.records if r.error)),
        "committed_per_s": len(committed) / span if committed else 0.0,
        "sustained_per_s": sustained_rate(result),
        "p50_ms": percentile(lat, 0.50),
        "p99_ms": percentile(lat, 0.99),
        "wall_s": wall_s,
    }
    print(f"{name:>12}: submitted {len(result.records)}, committed {len(committed)}, "
          f"errors {int(out['errors'])}, {out['committed_per_s']:.0f} committed ops/s "
          f"(sustained {out['sustained_per_s']:.0f}/s), "
          f"p50 {out['p50_ms']:.1f} ms, p99 {out['p99_ms']:.1f} ms", flush=True)
    reasons = collections.Counter(r.error[:90] for r in result.records if r.error)
    for reason, count in reasons.most_common(3):
        print(f"{'':>14}{count} x {reason}", flush=True)
    return out


async def phase(urls: list[str], chain_id: str, height: int, count: int, rate: float,
                max_in_flight: int = 20000) -> tuple[LoadResult, float]:
    """Paced open loop at ``rate`` (at most ``max_in_flight`` requests outstanding)."""
    envelopes = presign(count, chain_id, height)
    start = time.monotonic()
    result = await client_run(urls, envelopes, rate, max_in_flight)
    return result, time.monotonic() - start


async def client_run(urls: list[str], envelopes: list[tuple[str, bytes]], rate: float,
                     max_in_flight: int = 20000) -> LoadResult:
    """``run_rate`` with the load generator's own cyclic GC off for the phase: its collections over
    the pre-signed operations, tasks and records (0.1 s each at ~100 k objects, seen with a
    ``gc.callbacks`` probe) would be counted as the nodes' latency. Re-enabled afterwards."""
    gc.collect()
    gc.disable()
    try:
        return await run_rate(urls, envelopes, rate, wait_s=30.0, max_in_flight=max_in_flight)
    finally:
        gc.enable()


def lift_client_rate_limit() -> None:
    """The load generator is one client IP; the API's per-client limit (``api.rate_per_s``, 200/s
    per IP by default) would otherwise cap the offered load at ~600 ops/s over three nodes and be
    measured as the ledger's capacity. Lifted through the nodes' environment overrides."""
    os.environ["LEDGR_API_RATE_PER_S"] = "1000000"
    os.environ["LEDGR_API_RATE_BURST"] = "1000000"


async def main(args: argparse.Namespace) -> dict[str, object]:
    lift_client_rate_limit()
    directory = Path(tempfile.mkdtemp(prefix="ledgr-bench-")) / "net"
    nodes = tn.up(directory, args.nodes, tn.free_base_port(args.nodes), timeout_s=60)
    try:
        urls = [n.url for n in nodes]
        status = tn.status_of(urls[0])
        assert status is not None
        chain_id = status["chain_id"]
        print(f"testnet: {args.nodes} nodes at {', '.join(urls)}", flush=True)
        warm, _ = await phase(urls, chain_id, status["height"], 300, 100.0)
        summarize("warm-up", warm, 0)
        height = int(tn.status_of(urls[0])["height"])  # type: ignore[index]
        light_count = int(args.light_rate * args.phase_s)
        light, wall = await phase(urls, chain_id, height, light_count, args.light_rate)
        light_s = summarize("light", light, wall)
        height = int(tn.status_of(urls[0])["height"])  # type: ignore[index]
        sat, wall = await phase(urls, chain_id, height, args.saturation_ops, 1e6, max_in_flight=1500)
        sat_s = summarize("burst", sat, wall)
        height = int(tn.status_of(urls[0])["height"])  # type: ignore[index]
        over, wall = await phase(urls, chain_id, height, int(args.overload_rate * args.overload_s),
                                 args.overload_rate, max_in_flight=4000)
        over_s = summarize(f"overload ({args.overload_rate:.0f}/s)", over, wall)
        rate70 = 0.7 * over_s["sustained_per_s"]
        height = int(tn.status_of(urls[0])["height"])  # type: ignore[index]
        await phase(urls, chain_id, height, max(50, int(rate70 * 2)), rate70)  # settle at the rate
        height = int(tn.status_of(urls[0])["height"])  # type: ignore[index]
        at70, wall = await phase(urls, chain_id, height, max(100, int(rate70 * args.phase_s)), rate70)
        at70_s = summarize(f"70% ({rate70:.0f}/s)", at70, wall)
        final = [tn.status_of(u) for u in urls]
        roots = {s["app_root"] for s in final if s}
        heights = [s["height"] for s in final if s]
        print(f"final heights {heights}, distinct app_roots at tip: {len(roots)}", flush=True)
        return {"light": light_s, "burst": sat_s, "sustained": over_s, "at_70_percent": at70_s,
                "rate_70": rate70}
    finally:
        tn.stop_nodes(nodes)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nodes", type=int, default=3)
    parser.add_argument("--saturation-ops", type=int, default=6000)
    parser.add_argument("--overload-rate", type=float, default=2000.0)
    parser.add_argument("--overload-s", type=float, default=10.0)
    parser.add_argument("--light-rate", type=float, default=20.0)
    parser.add_argument("--phase-s", type=float, default=15.0)
    parser.add_argument("--json", action="store_true", help="also print the figures as JSON")
    arguments = parser.parse_args()
    print("command:", shlex.join([sys.executable, *sys.argv]), flush=True)
    figures = asyncio.run(main(arguments))
    if arguments.json:
        print(json.dumps(figures, indent=2))
