"""Catch-up benchmark (issue 7 "Growth" / "Evidence"): how fast a new node joins a loaded network.

A local three-validator testnet is filled with ``--dids`` ``did.create`` operations (pre-signed,
offered at ``--rate`` per second). Then two new nodes join, one after the other, as observers:

1. **block sync**: state sync disabled; it fetches every block with its QC, verifies the QC against
   that height's validator set, re-executes the block and checks ``app_root``. Figure: operations
   replayed per second, measured from the node's first synced block to the tip (start-up excluded,
   also shown);
2. **state sync**: it downloads the SMT pages and state entries of the latest QC'd height, each
   chunk checked against the root, installs them, then block-syncs the rest. Figure: seconds from
   start to the snapshot installed (from its ``state_sync_done`` log line) and to caught up.

Everything shares one machine (three validators, the load generator, the joining node).

Run:  .venv/bin/python bench/sync.py [--dids 100000] [--rate 3000]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import shlex
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

from ledgr.node import testnet as tn
from ledgr.node.loadgen import presign, run_rate
from ledgr.node.testnet_join import add_node


def free_base_port(count: int) -> int:
    for _ in range(200):
        base = random.randrange(20000, 32000, 20)
        if all(tn.port_free(p) for p in range(base, base + 2 * count)):
            return base
    raise SystemExit("no free port range")


def status(url: str) -> dict[str, Any]:
    with urllib.request.urlopen(f"{url}/v1/status", timeout=10) as response:
        value: dict[str, Any] = json.loads(response.read())
        return value


def height(url: str) -> int:
    try:
        return int(status(url)["height"])
    except OSError:
        return -1


def log_event(node: tn.TestnetNode, name: str) -> dict[str, Any] | None:
    for line in Path(node.log).read_text(errors="replace").splitlines():
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        if entry.get("event") == name:
            return dict(entry)
    return None


def cpu_seconds(pid: int) -> float:
    """CPU time (user + system) of a node process and its live ledger workers."""
    ticks = os.sysconf("SC_CLK_TCK")
    children = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout.split()
    total = 0.0
    for proc in [str(pid), *children]:
        try:
            fields = Path(f"/proc/{proc}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / ticks
    return total


def join(directory: Path, nodes: list[tn.TestnetNode], target: int, sync: dict[str, int]) -> dict[str, float]:
    validators = nodes[:3]
    new = add_node(directory, nodes, validators, free_base_port(1), role="observer", sync=sync)
    started = time.monotonic()
    tn.start_node(new)
    first_block_s = None
    while True:
        h = height(new.url)
        now = time.monotonic()
        if h > 0 and first_block_s is None:
            first_block_s = now
        if h >= target:
            break
        if now - started > 3600:
            raise SystemExit("the joining node did not catch up within an hour")
        time.sleep(0.05)
    done = time.monotonic()
    assert new.pid is not None
    cpu_s = cpu_seconds(new.pid)
    tn.stop_node(new)
    assert first_block_s is not None
    return {"wall_s": done - started, "from_first_block_s": done - first_block_s,
            "startup_s": first_block_s - started, "cpu_s": cpu_s}


def main(args: argparse.Namespace) -> dict[str, Any]:
    figures: dict[str, Any] = {"dids": args.dids}
    with tempfile.TemporaryDirectory(prefix="ledgr-sync-bench-") as tmp:
        directory = Path(tmp) / "net"
        nodes = tn.up(directory, 3, free_base_port(3), timeout_s=60, consensus={"heartbeat_ms": 2000})
        try:
            urls = [n.url for n in nodes]
            signing = time.monotonic()
            envelopes = presign(args.dids, status(urls[0])["chain_id"], height(urls[0]))
            print(f"pre-signed {args.dids} did.create in {time.monotonic() - signing:.1f} s", flush=True)
            loading = time.monotonic()
            result = asyncio.run(run_rate(urls, envelopes, args.rate, wait_s=120))
            committed = len(result.committed)
            print(f"loaded: {committed} committed in {time.monotonic() - loading:.1f} s", flush=True)
            target = max(height(u) for u in urls)
            figures.update({"committed": committed, "height": target})

            block = join(directory, nodes, target, {"state_sync_min_heights": 1_000_000_000})
            block["ops_per_s"] = committed / block["from_first_block_s"]
            figures["block_sync"] = block
            print(f"block sync: {target} blocks, {committed} ops in {block['from_first_block_s']:.1f} s "
                  f"= {block['ops_per_s']:.0f} ops/s (start-up {block['startup_s']:.1f} s, "
                  f"wall {block['wall_s']:.1f} s; {committed / block['cpu_s']:.0f} ops per CPU-second of the "
                  f"node and its worker, start-up included)", flush=True)

            target = max(height(u) for u in urls)
            state = join(directory, nodes, target, {"state_sync_min_heights": 10})
            done = log_event(nodes[-1], "state_sync_done")
            pages = log_event(nodes[-1], "state_sync_pages_done")
            if done is None:
                raise SystemExit("the state-sync node did not log state_sync_done")
            state["install_s"] = float(done["seconds"])
            state["entries"] = int(done["entries"])
            state["pages_s"] = float(pages["seconds"]) if pages else float("nan")
            figures["state_sync"] = state
            print(f"state sync: {state['entries']} entries (pages in {state['pages_s']:.1f} s) installed in "
                  f"{state['install_s']:.1f} s; caught up {state['wall_s']:.1f} s after start", flush=True)
        finally:
            tn.stop_nodes(nodes)
    return figures


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dids", type=int, default=100_000)
    parser.add_argument("--rate", type=float, default=3000.0)
    parser.add_argument("--json", action="store_true", help="also print the figures as JSON")
    args = parser.parse_args()
    print("command:", shlex.join([sys.executable, *sys.argv]), flush=True)
    figures = main(args)
    if args.json:
        print(json.dumps(figures, indent=2))
