"""Catch-up benchmark (issue 7 "Growth" / "Evidence"): how fast a new node joins a loaded network.

A local three-validator testnet holds ``--dids`` ``did.create`` operations, either built offline
(``--fill offline``, the default: ``bench/chainfill.py`` — real signed operations, blocks built by the
ledger, QCs signed by the validators' keys, written through the store's commit path) or submitted
through consensus (``--fill consensus``, pre-signed and offered at ``--rate`` per second). The
testnet then runs, and new nodes join as observers, one after the other (``--phases``):

1. **block sync** (``block``): state sync disabled; it fetches every block with its QC, verifies the
   QC against that height's validator set, re-executes the block and checks ``app_root``. Figure:
   operations replayed per second, measured from the node's first synced block to the tip (start-up
   excluded, also shown);
2. **state sync** (``state``): it downloads the SMT pages and state entries of the latest QC'd height,
   each chunk checked against the root, installs them, then block-syncs the rest. Figures: seconds
   from start to the snapshot installed, to caught up, and to its first certified read (a
   ``?proof=true`` answer verified against the genesis validator set).

For each joining node: CPU seconds (node and ledger worker), peak RSS (``VmHWM`` of the node
process; and of the node plus its worker) and bytes received from peers (``ledgr_peer_received_bytes_total``).
Everything shares one machine (three validators and the joining node).

Run:  .venv/bin/python bench/sync.py [--dids 100000] [--phases block,state] [--fill offline]
      .venv/bin/python bench/sync.py --dids 1000000 --phases state
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from chainfill import check_resumes, fill, verify_stores

from ledgr.ledger.genesis import Genesis
from ledgr.node import testnet as tn
from ledgr.node.certified import verify_state_answer
from ledgr.node.loadgen import presign, run_rate
from ledgr.node.testnet_join import add_node

SAMPLE_FILE = "sample-dids.json"


def get_json(url: str, timeout_s: float = 10.0) -> dict[str, Any]:
    with urllib.request.urlopen(url, timeout=timeout_s) as response:
        value: dict[str, Any] = json.loads(response.read())
        return value


def height(url: str) -> int:
    try:
        return int(get_json(f"{url}/v1/status")["height"])
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


def _family(pid: int) -> list[str]:
    children = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout.split()
    return [str(pid), *children]


def cpu_seconds(pid: int) -> float:
    """CPU time (user + system) of a node process and its live ledger workers."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for proc in _family(pid):
        try:
            fields = Path(f"/proc/{proc}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / ticks
    return total


def peak_rss_mib(pid: int) -> tuple[float, float]:
    """Peak resident set (VmHWM) of the node process, and of the node plus its workers, in MiB."""
    peaks = []
    for proc in _family(pid):
        try:
            for line in Path(f"/proc/{proc}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    peaks.append(int(line.split()[1]) / 1024)
        except OSError:
            continue
    return (peaks[0] if peaks else float("nan")), sum(peaks)


def node_metrics(url: str) -> tuple[dict[str, float], float]:
    """Bytes received from peers by frame kind, and blocks executed ahead (while the previous one
    was committed)."""
    with urllib.request.urlopen(f"{url}/metrics", timeout=10) as response:
        text = response.read().decode()
    received: dict[str, float] = {}
    ahead = 0.0
    for line in text.splitlines():
        if line.startswith("ledgr_peer_received_bytes_total{"):
            kind = line.split('kind="', 1)[1].split('"', 1)[0]
            received[kind] = float(line.rsplit(" ", 1)[1])
        elif line.startswith("ledgr_sync_blocks_executed_ahead_total "):
            ahead = float(line.rsplit(" ", 1)[1])
    return received, ahead


def certified_read_ok(url: str, did: str, genesis: Genesis) -> bool:
    try:
        answer = get_json(f"{url}/v1/state/did/{did}?proof=true", timeout_s=5)
    except (OSError, urllib.error.HTTPError, ValueError):
        return False
    state = verify_state_answer(answer, genesis.validator_set)
    return state.values.get("head") is not None


def join(directory: Path, nodes: list[tn.TestnetNode], target: int, sync: dict[str, int | bool],
         genesis: Genesis, probe_did: str, wait_backfill: bool = False) -> dict[str, Any]:
    validators = nodes[:3]
    new = add_node(directory, nodes, validators, tn.free_base_port(1), role="observer", sync=sync)
    started = time.monotonic()
    tn.start_node(new)
    assert new.pid is not None
    marks: dict[str, float] = {}
    while True:
        h = height(new.url)
        now = time.monotonic() - started
        if h > 0:
            marks.setdefault("first_height_s", now)
        if h >= target:
            marks.setdefault("caught_up_s", now)
            if certified_read_ok(new.url, probe_did, genesis):
                marks["certified_read_s"] = time.monotonic() - started
                break
        if now > 3600:
            raise SystemExit("the joining node did not catch up within an hour")
        time.sleep(0.05)
    if wait_backfill:
        while get_json(f"{new.url}/v1/status")["backfill"]["state"] not in ("done", "none", "failed"):
            if time.monotonic() - started > 3600:
                raise SystemExit("the back-fill did not finish within an hour")
            time.sleep(0.2)
        marks["backfill_done_s"] = time.monotonic() - started
        marks["backfill_state"] = get_json(f"{new.url}/v1/status")["backfill"]["state"]
    figures: dict[str, Any] = dict(marks)
    figures["cpu_s"] = cpu_seconds(new.pid)
    figures["peak_rss_node_mib"], figures["peak_rss_with_workers_mib"] = peak_rss_mib(new.pid)
    figures["received_bytes"], figures["blocks_executed_ahead"] = node_metrics(new.url)
    tn.stop_node(new)
    figures["node"] = new.name
    return figures


def load(directory: Path, args: argparse.Namespace) -> tuple[list[tn.TestnetNode], int, list[str]]:
    """Create the testnet, fill it and start it; the running nodes, the operation count, sample DIDs."""
    if args.fill == "offline" and (directory / tn.MANIFEST).exists():
        validators = tn.load_manifest(directory)[:3]  # drop nodes an earlier run added
        for extra in sorted(directory.glob("node*")):
            if extra.name not in {n.name for n in validators}:
                shutil.rmtree(extra)
        tn.save_manifest(directory, validators)
        nodes = tn.up(directory, 3, timeout_s=120)
        probe = tn.status_of(nodes[0].url, 10)
        assert probe is not None
        print(f"reusing the filled testnet in {directory} (height {probe['height']})", flush=True)
        return nodes, args.dids, json.loads((directory / SAMPLE_FILE).read_text())
    if args.fill == "offline":
        tn.create(directory, 3, tn.free_base_port(3), consensus={"heartbeat_ms": 2000})
        result = fill(directory, args.dids, args.block_ops, args.sign_procs)
        (directory / SAMPLE_FILE).write_text(json.dumps(result.sample_dids))
        print(f"filled offline: {result.operations} did.create in {result.height} blocks in "
              f"{result.seconds:.1f} s ({result.operations / result.seconds:.0f} ops/s)", flush=True)
        if args.verify_fill:
            verifying = time.monotonic()
            commands = verify_stores(directory)
            print(f"ledger verify passed on every validator store in {time.monotonic() - verifying:.1f} s "
                  f"({commands[0]})", flush=True)
            print(check_resumes(directory, result.height), flush=True)
        nodes = tn.up(directory, 3, timeout_s=120)
        return nodes, result.operations, result.sample_dids
    nodes = tn.up(directory, 3, tn.free_base_port(3), timeout_s=60, consensus={"heartbeat_ms": 2000})
    urls = [n.url for n in nodes]
    status = get_json(f"{urls[0]}/v1/status")
    envelopes = presign(args.dids, status["chain_id"], int(status["height"]))
    loading = time.monotonic()
    result = asyncio.run(run_rate(urls, envelopes, args.rate, wait_s=120))
    print(f"loaded through consensus: {len(result.committed)} committed in "
          f"{time.monotonic() - loading:.1f} s", flush=True)
    return nodes, len(result.committed), [r.did for r in result.committed[:: max(1, args.dids // 20)]]


def _resources(f: dict[str, Any]) -> str:
    return (f"{f['cpu_s']:.1f} CPU-s; peak RSS {f['peak_rss_node_mib']:.0f} MiB (with worker "
            f"{f['peak_rss_with_workers_mib']:.0f} MiB); received "
            f"{sum(f['received_bytes'].values()) / 1e6:.1f} MB")


def block_line(f: dict[str, Any], target: int, committed: int, replay_s: float) -> str:
    return (f"block sync: {target} blocks, {committed} ops in {replay_s:.1f} s = {f['ops_per_s']:.0f} ops/s "
            f"(start-up {f['first_height_s']:.1f} s, wall {f['caught_up_s']:.1f} s; "
            f"{committed / f['cpu_s']:.0f} ops per CPU-second of the node and its worker, start-up "
            f"included; {f['blocks_executed_ahead']:.0f} blocks executed while the one before was committed; "
            f"{_resources(f)})")


def state_line(f: dict[str, Any]) -> str:
    return (f"state sync: {f['entries']} entries (pages {f['pages_s']:.1f} s, download and install "
            f"{f['download_and_install_s']:.1f} s); installed {f['first_height_s']:.1f} s after start, "
            f"caught up {f['caught_up_s']:.1f} s, first certified read {f['certified_read_s']:.1f} s; "
            f"{_resources(f)} "
            f"({f['received_bytes'].get('snapshot', 0) / 1e6:.1f} MB in snapshot frames)"
            + (f"; history below the snapshot back-filled ({f['backfill_state']}) "
               f"{f['backfill_done_s']:.1f} s after start" if "backfill_done_s" in f else ""))


def main(args: argparse.Namespace) -> dict[str, Any]:
    figures: dict[str, Any] = {"dids": args.dids, "fill": args.fill, "load_average_before": os.getloadavg()}
    phases = args.phases.split(",")
    with tempfile.TemporaryDirectory(prefix="ledgr-sync-bench-") as tmp:
        directory = Path(tmp) / "net"
        if args.testnet_dir:
            directory = Path(args.testnet_dir)
        nodes, committed, dids = load(directory, args)
        genesis = Genesis.from_json(json.loads((directory / "genesis.json").read_text()))
        try:
            target = max(height(n.url) for n in nodes)
            figures.update({"committed": committed, "height": target})
            if "block" in phases:
                block = join(directory, nodes, target, {"state_sync_min_heights": 1_000_000_000}, genesis,
                             dids[-1])
                replay_s = block["caught_up_s"] - block["first_height_s"]
                block["ops_per_s"] = committed / replay_s
                figures["block_sync"] = block
                print(block_line(block, target, committed, replay_s), flush=True)
            if "state" in phases:
                target = max(height(n.url) for n in nodes)
                state = join(directory, nodes, target, {"state_sync_min_heights": 10,
                                                        "backfill": args.backfill}, genesis, dids[0],
                             wait_backfill=args.backfill)
                done = log_event(nodes[-1], "state_sync_done")
                pages = log_event(nodes[-1], "state_sync_pages_done")
                if done is None:
                    raise SystemExit("the state-sync node did not log state_sync_done")
                state["download_and_install_s"] = float(done["seconds"])
                state["entries"] = int(done["entries"])
                state["pages_s"] = float(pages["seconds"]) if pages else float("nan")
                figures["state_sync"] = state
                print(state_line(state), flush=True)
        finally:
            tn.stop_nodes(nodes)
    figures["load_average_after"] = os.getloadavg()
    print(f"load average before {figures['load_average_before']}, after {figures['load_average_after']}")
    return figures


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dids", type=int, default=100_000)
    parser.add_argument("--fill", choices=("offline", "consensus"), default="offline")
    parser.add_argument("--block-ops", type=int, default=500, help="operations per block (offline fill)")
    parser.add_argument("--sign-procs", type=int, default=1, help="signing processes (offline fill)")
    parser.add_argument("--verify-fill", action="store_true",
                        help="run ledgr ledger verify on the filled stores and a write check first")
    parser.add_argument("--rate", type=float, default=3000.0, help="offered ops/s (consensus fill)")
    parser.add_argument("--phases", default="block,state", help="comma-separated: block, state")
    parser.add_argument("--testnet-dir", help="keep the filled testnet here; reuse it if it exists (offline "
                        "fill; --dids must then be the count it was filled with)")
    parser.add_argument("--backfill", action="store_true",
                        help="state-sync node back-fills the history below its snapshot; wait for it "
                        "(peak RSS and bytes then include the back-fill)")
    parser.add_argument("--json", action="store_true", help="also print the figures as JSON")
    args = parser.parse_args()
    print("command:", shlex.join([sys.executable, *sys.argv]), flush=True)
    figures = main(args)
    if args.json:
        print(json.dumps(figures, indent=2))
