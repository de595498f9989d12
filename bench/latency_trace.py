"""Where does commit latency come from at a given load? A diagnostic companion to bench/cluster.py.

Starts a local three-node testnet, warms it up, then offers a paced open-loop ``did.create`` load
(``--rate`` ops/s for ``--seconds``) and prints:

- p50/p99/max latency per second of submission (a queue that builds shows as a rising p50; a stall
  as a p99 spike in one second);
- the gaps between consecutive heights as the client saw them (first commit answer per height)
  longer than ``--gap-ms``;
- per node, the mean of every stage histogram (build, validate, store, persist, GC pauses) and the
  round changes, read from ``/v1/metrics``;
- every ``--window-s`` seconds, node0's stage means and block size over the window and the CPU the
  three nodes use (``--prefill N`` writes N DIDs first, to see what grows with the ledger);
- per node, a count of log events (``round_started``, ``sync_progress`` … show up here).

Run with ``LEDGR_LOG_LEVEL=debug`` for per-height ``committed`` lines in each ``node.log`` (the
directory is printed). Run:  .venv/bin/python -m bench.latency_trace [--rate 430] [--seconds 20]
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import contextlib
import itertools
import json
import os
import shlex
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from bench.cluster import client_run, lift_client_rate_limit, percentile
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


WINDOW_STAGES = ("block_build", "block_validate", "block_store", "consensus_persist", "block_interval",
                 "commit_latency")


def metric_sums(url: str) -> dict[str, float]:
    text = urllib.request.urlopen(f"{url}/v1/metrics", timeout=5).read().decode()
    out: dict[str, float] = {}
    for line in text.splitlines():
        name, _, value = line.rpartition(" ")
        if name.endswith(("_seconds_sum", "_seconds_count")) or name == "ledgr_block_operations_sum":
            out[name] = float(value)
    return out


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU seconds of these processes and their children (the ledger workers)."""
    total = 0
    for pid in pids:
        for one in [pid, *_children(pid)]:
            try:
                fields = Path(f"/proc/{one}/stat").read_text().rsplit(")", 1)[1].split()
                total += int(fields[11]) + int(fields[12])
            except (OSError, IndexError, ValueError):
                continue
    return total / os.sysconf("SC_CLK_TCK")


def _children(pid: int) -> list[int]:
    try:
        return [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


async def sample_windows(url: str, pids: list[int], window_s: float, stop: asyncio.Event) -> None:
    """Every ``window_s``: node0's stage means over the window, and the CPU the three nodes use (with
    their workers): in cores, and per height and per committed operation — the efficiency figures."""
    def sample() -> tuple[dict[str, float], float, float]:
        return metric_sums(url), cpu_seconds(pids), time.monotonic()

    before = await asyncio.to_thread(sample)
    while not stop.is_set():
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), window_s)
        after = await asyncio.to_thread(sample)

        def delta(name: str) -> float:
            return after[0].get(name, 0.0) - before[0].get(name, 0.0)  # noqa: B023 (used at once)

        parts = []
        for stage in WINDOW_STAGES:
            count = delta(f"ledgr_{stage}_seconds_count")
            if count:
                short = stage.removeprefix("block_").removeprefix("consensus_")
                parts.append(f"{short} {1000 * delta(f'ledgr_{stage}_seconds_sum') / count:.1f}")
        heights = max(1.0, delta("ledgr_block_interval_seconds_count"))
        ops = max(1.0, delta("ledgr_block_operations_sum"))
        cpu_s = after[1] - before[1]
        print(f"window: ops/height {ops / heights:.1f}; ms: {', '.join(parts)}; nodes' CPU "
              f"{cpu_s / max(1e-9, after[2] - before[2]):.2f} cores, {1000 * cpu_s / heights:.1f} ms/height, "
              f"{1000 * cpu_s / ops:.2f} ms/op", flush=True)
        before = after


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
    lift_client_rate_limit()
    nodes = tn.up(directory, 3, tn.free_base_port(3), timeout_s=60)
    try:
        urls = [n.url for n in nodes]
        status = tn.status_of(urls[0])
        assert status is not None
        await run_rate(urls, presign(300, status["chain_id"], status["height"]), 100.0, wait_s=30)
        if args.prefill:
            height = int(tn.status_of(urls[0])["height"])  # type: ignore[index]
            filled = await client_run(urls, presign(args.prefill, status["chain_id"], height), 1500.0)
            print(f"prefill: {len(filled.committed)} DIDs committed at up to 1,500/s", flush=True)
        height = int(tn.status_of(urls[0])["height"])  # type: ignore[index]
        envelopes = presign(int(args.rate * args.seconds), status["chain_id"], height)
        stop = asyncio.Event()
        pids = [n.pid for n in nodes if n.pid]
        sampler = asyncio.create_task(sample_windows(urls[0], pids, args.window_s, stop))
        started = time.monotonic()
        result = await client_run(urls, envelopes, args.rate)
        stop.set()
        await sampler
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
    parser.add_argument("--prefill", type=int, default=0, help="DIDs written before the measured phase")
    parser.add_argument("--window-s", type=float, default=5.0, help="seconds per stage/CPU sample")
    arguments = parser.parse_args()
    print("command:", shlex.join([sys.executable, *sys.argv]), flush=True)
    asyncio.run(main(arguments))
