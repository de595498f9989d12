"""Where does commit latency come from at a given load? A diagnostic companion to bench/cluster.py.

Starts a local three-node testnet, warms it up, then offers a paced open-loop ``did.create`` load
(``--rate`` ops/s for ``--seconds``) and prints:

- p50/p99/max latency per second of submission (a queue that builds shows as a rising p50; a stall
  as a p99 spike in one second);
- the gaps between consecutive heights as the client saw them (first commit answer per height)
  longer than ``--gap-ms``;
- per node, the mean of every stage histogram (build, validate, store, persist, GC pauses) and the
  round changes, read from ``/v1/metrics``;
- per node, a count of log events (``round_started``, ``sync_progress`` … show up here).

Run with ``LEDGR_LOG_LEVEL=debug`` for per-height ``committed`` lines in each ``node.log`` (the
directory is printed). Run:  .venv/bin/python -m bench.latency_trace [--rate 430] [--seconds 20]
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import itertools
import json
import shlex
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from bench.cluster import client_run, percentile
from ledgr.node import testnet as tn
from ledgr.node.loadgen import LoadResult, presign, run_rate


def per_second(result: LoadResult, started: float) -> None:
    by_second: dict[int, list[float]] = collections.defaultdict(list)
    for record in result.records:
        if record.committed_s is not None:
            latency_ms = (record.committed_s - record.submitted_s) * 1000
            by_second[int(record.submitted_s - started)].append(latency_ms)
    for second in sorted(by_second):
        values = by_second[second]
        print(f"t={second:3d}s n={len(values):4d} p50={percentile(values, 0.5):7.1f} "
              f"p99={percentile(values, 0.99):7.1f} max={max(values):7.1f} ms")


def height_gaps(result: LoadResult, started: float, gap_ms: float) -> None:
    first: dict[int, float] = {}
    for record in result.records:
        if record.height is not None and record.committed_s is not None:
            first[record.height] = min(first.get(record.height, record.committed_s), record.committed_s)
    heights = sorted(first)
    for before, after in itertools.pairwise(heights):
        gap = (first[after] - first[before]) * 1000
        if gap > gap_ms:
            print(f"gap before height {after}: {gap:.0f} ms (t={first[after] - started:.2f} s)")
    print(f"heights: {len(heights)}, mean operations per height "
          f"{sum(1 for r in result.records if r.height) / max(1, len(heights)):.1f}")


def stage_means(url: str) -> str:
    text = urllib.request.urlopen(f"{url}/v1/metrics", timeout=5).read().decode()
    values: dict[str, float] = {}
    for line in text.splitlines():
        if line.startswith("#"):
            continue
        name, _, value = line.rpartition(" ")
        if name.endswith(("_sum", "_count")) or name.startswith(("ledgr_consensus_", "ledgr_peer_messages")):
            values[name] = float(value)
    parts = []
    for name, total in sorted(values.items()):
        if name.endswith("_sum"):
            count = values.get(name[:-4] + "_count", 0.0)
            if count and "seconds" in name:
                parts.append(f"{name[6:-4]} {1000 * total / count:.1f} ms x{int(count)}")
    counters = [f"{name[6:]} {total:.0f}" for name, total in sorted(values.items())
                if name.startswith(("ledgr_consensus_", "ledgr_peer_messages")) and "_total" in name
                and not name.endswith("_created")]
    return "; ".join(parts + counters)


def log_events(path: str) -> dict[str, int]:
    counts: collections.Counter[str] = collections.Counter()
    for line in Path(path).read_text(errors="replace").splitlines():
        try:
            counts[str(json.loads(line).get("event"))] += 1
        except ValueError:
            continue
    counts.pop("http_request", None)
    return dict(counts.most_common(12))


async def main(args: argparse.Namespace) -> None:
    directory = Path(tempfile.mkdtemp(prefix="ledgr-trace-")) / "net"
    nodes = tn.up(directory, 3, tn.free_base_port(3), timeout_s=60)
    try:
        urls = [n.url for n in nodes]
        status = tn.status_of(urls[0])
        assert status is not None
        await run_rate(urls, presign(300, status["chain_id"], status["height"]), 100.0, wait_s=30)
        height = int(tn.status_of(urls[0])["height"])  # type: ignore[index]
        envelopes = presign(int(args.rate * args.seconds), status["chain_id"], height)
        started = time.monotonic()
        result = await client_run(urls, envelopes, args.rate)
        per_second(result, started)
        latencies = result.latencies_ms()
        print(f"all: p50 {percentile(latencies, 0.5):.1f} ms, p99 {percentile(latencies, 0.99):.1f} ms, "
              f"errors {sum(1 for r in result.records if r.error)}")
        height_gaps(result, started, args.gap_ms)
        for url in urls:
            print(url, stage_means(url))
    finally:
        tn.stop_nodes(nodes)
    for node in nodes:
        print(node.name, log_events(node.log))
    print("testnet directory:", directory)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=430.0)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--gap-ms", type=float, default=80.0)
    arguments = parser.parse_args()
    print("command:", shlex.join([sys.executable, *sys.argv]), flush=True)
    asyncio.run(main(arguments))
