"""Real node processes with a fault proxy on every peer link (consensus.md §4.7; issue 7).

The cluster is built the way separate operators build a network: each node directory comes from
``ledgr init`` (:func:`ledgr.cli.init.init_node_dir`), the public node infos are assembled into one
genesis by the ceremony code (:mod:`ledgr.cli.genesis`), and every node's ``[p2p] peers`` lists the
other validators — except that the URL node *i* dials for node *j* is the port of the proxy
``i → j`` rather than node *j*'s own peer port. With ``tls=True`` the proxies terminate TLS with a
certificate from a throwaway private CA, peers are dialled as ``wss://`` and each node trusts the CA
only through ``SSL_CERT_FILE`` (docs/deployment.md §4). Nodes run as ``ledgr node run --config …``
(:mod:`ledgr.node.testnet` starts and stops them), so they can be killed, paused and restarted.

Process faults besides the network: SIGKILL + restart with the data kept, wipe + restart, and
SIGSTOP/SIGCONT pauses (a GC-like stall), and a slow disk for one node (every durable write delayed,
injected by ``tests/faults/inject/sitecustomize.py``).
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import shutil
import signal
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ledgr.cli.genesis import assemble, node_info
from ledgr.cli.init import init_node_dir
from ledgr.crypto import PrivateKey
from ledgr.errors import ConfigError
from ledgr.ledger.genesis import Genesis
from ledgr.node import testnet as tn
from ledgr.node.authoring import create_did
from ledgr.node.config import PeerConfig
from ledgr.node.config_toml import render_node_toml
from tests.faults.proxy import Faults
from tests.faults.proxythread import ProxyThread
from tests.faults.tlscerts import make_tls_files

HOST = "127.0.0.1"
FAST_CONSENSUS = {"heartbeat_ms": 2000, "timeout_propose_ms": 500, "timeout_prevote_ms": 300,
                  "timeout_precommit_ms": 300}


def free_ports(count: int) -> list[int]:
    """``count`` distinct ports that are free right now (random, so parallel runs rarely collide).

    They lie below the kernel's ephemeral range, so an outgoing connection can never take a killed
    node's port before the node restarts on it."""
    low, _high = _ephemeral_range()
    rng = random.Random()
    ports: list[int] = []
    while len(ports) < count:
        port = rng.randrange(10000, max(low, 10001))
        if port not in ports and tn.port_free(port):
            ports.append(port)
    return ports


def _ephemeral_range() -> tuple[int, int]:
    try:
        low, high = Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()
        return int(low), int(high)
    except (OSError, ValueError):
        return 32768, 60999


class FaultCluster:
    """``count`` validators on 127.0.0.1, every peer link through a seeded :class:`ProxyThread`."""

    def __init__(self, directory: Path, count: int = 3, seed: int = 0,
                 consensus: dict[str, int] | None = None, default_faults: Faults | None = None,
                 tls: bool = False) -> None:
        self.directory = directory
        self.count = count
        self.seed = seed
        self.consensus = dict(FAST_CONSENSUS if consensus is None else consensus)
        self.faults = ProxyThread(seed, default_faults)
        self.nodes: list[tn.TestnetNode] = []
        self.names = [f"node{i}" for i in range(count)]
        self.genesis: Genesis | None = None
        self.paused: set[int] = set()
        self.tls = tls
        self.env: dict[str, str] = {}
        self.node_env: dict[int, dict[str, str]] = {}

    # ---- set-up ----------------------------------------------------------------------------

    def create(self) -> None:
        """Node dirs (``ledgr init``), the genesis ceremony, proxies, and configs naming the proxies."""
        self.directory.mkdir(parents=True, exist_ok=False)
        ports = free_ports(2 * self.count)
        infos = []
        for i, name in enumerate(self.names):
            node_dir = self.directory / name
            init_node_dir(node_dir, name, ports[2 * i], ports[2 * i + 1])
            infos.append(node_info(node_dir / "node.toml"))
        self.genesis = assemble("ledgr-faults", infos, time.time_ns() // 1_000_000)
        genesis_text = json.dumps(self.genesis.to_json(), indent=2)
        self.faults.start()
        server_tls = None
        if self.tls:
            files = make_tls_files(self.directory / "tls")
            server_tls = files.server_context()
            self.env["SSL_CERT_FILE"] = str(files.ca_cert)
        scheme = "wss" if self.tls else "ws"
        for i, name in enumerate(self.names):
            node_dir = self.directory / name
            (node_dir / "genesis.json").write_text(genesis_text)
            peers = []
            for j, other in enumerate(self.names):
                if j != i:
                    port = self.faults.add_link(name, other, ports[2 * j + 1], tls=server_tls)
                    peers.append(PeerConfig(url=f"{scheme}://{HOST}:{port}/p2p",
                                            public_key=infos[j]["validator_public_key"]))
            (node_dir / "node.toml").write_text(render_node_toml(
                name=name, api_host=HOST, api_port=ports[2 * i], p2p_host=HOST, p2p_port=ports[2 * i + 1],
                peers=peers, extra_consensus=self.consensus))
            self.nodes.append(tn.TestnetNode(
                name=name, url=f"http://{HOST}:{ports[2 * i]}", config=str(node_dir / "node.toml"),
                data_dir=str(node_dir / "data"), log=str(node_dir / "node.log"), api_port=ports[2 * i],
                p2p_port=ports[2 * i + 1]))

    def start(self, timeout_s: float = 60.0) -> None:
        if not self.nodes:
            self.create()
        for i, node in enumerate(self.nodes):
            tn.start_node(node, env={**self.env, **self.node_env.get(i, {})})
        tn.wait_committed(self.nodes, 1, timeout_s)

    def stop(self) -> None:
        for i in list(self.paused):
            self.resume(i)
        tn.stop_nodes(self.nodes)
        with contextlib.suppress(Exception):
            self.faults.stop()

    def __enter__(self) -> FaultCluster:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ---- observation -----------------------------------------------------------------------

    @property
    def urls(self) -> list[str]:
        return [n.url for n in self.nodes]

    def status(self, i: int) -> dict[str, Any] | None:
        return tn.status_of(self.nodes[i].url, timeout_s=2.0)

    def height(self, i: int) -> int:
        found = self.status(i)
        if found is None:
            raise AssertionError(f"{self.names[i]} does not answer")
        return int(found["height"])

    def block(self, i: int, height: int) -> dict[str, Any]:
        with urllib.request.urlopen(f"{self.nodes[i].url}/v1/blocks/{height}", timeout=5) as response:
            found: dict[str, Any] = json.loads(response.read())
            return found

    def block_or_none(self, i: int, height: int, below_tip_ok: bool) -> dict[str, Any] | None:
        """The block, or None for a 404 below the common tip: a node that joined by state sync
        has no blocks before its snapshot (until back-fill brings them)."""
        try:
            return self.block(i, height)
        except urllib.error.HTTPError as exc:
            if exc.code == 404 and below_tip_ok:
                return None
            raise

    def wait(self, predicate: Callable[[], bool], timeout_s: float, what: str) -> float:
        """Poll ``predicate`` until true; returns the seconds it took."""
        start = time.monotonic()
        last_error = ""
        while time.monotonic() - start < timeout_s:
            try:
                if predicate():
                    return time.monotonic() - start
            except (AssertionError, OSError, urllib.error.URLError, KeyError, ValueError) as exc:
                last_error = f" (last: {exc})"
            time.sleep(0.1)
        raise AssertionError(f"timed out after {timeout_s:.0f} s waiting for {what}{last_error}; "
                             f"cluster: {self.describe()}")

    def describe(self) -> str:
        """One line per node for failure messages: height, consensus (h, r), sync and peers."""
        parts = []
        for i, name in enumerate(self.names):
            found = self.status(i) if i not in self.paused else None
            if found is None:
                parts.append(f"{name}: {'paused' if i in self.paused else 'no answer'}")
                continue
            peers = sum(1 for v in found.get("validators", []) if v.get("connected") and not v.get("self"))
            consensus = found.get("consensus") or {}
            parts.append(f"{name}: h={found.get('height')} c=({consensus.get('height')},"
                         f"{consensus.get('round')}) catching_up={found.get('catching_up')} peers={peers} "
                         f"mempool={(found.get('mempool') or {}).get('operations')}")
        return " | ".join(parts)

    def converged(self, nodes: list[int] | None = None, depth: int = 3) -> int:
        """All ``nodes`` hold identical blocks (hash and app_root) at the lowest tip and ``depth``
        heights below it; raises AssertionError naming the first difference. Returns that height."""
        chosen = list(range(self.count)) if nodes is None else nodes
        top = min(self.height(i) for i in chosen)
        for height in range(max(1, top - depth), top + 1):
            seen = {self.names[i]: found for i in chosen
                    if (found := self.block_or_none(i, height, below_tip_ok=height < top)) is not None}
            hashes = {(b["hash"], b["header"]["app_root"]) for b in seen.values()}
            if len(hashes) != 1:
                raise AssertionError(f"FORK at height {height}: " + ", ".join(
                    f"{name}={b['hash'][:12]}/{b['header']['app_root'][:12]}" for name, b in seen.items()))
        return top

    def wait_converged(self, timeout_s: float, nodes: list[int] | None = None) -> int:
        """Wait until every node's tip reaches the highest tip seen now, then check agreement."""
        chosen = list(range(self.count)) if nodes is None else nodes
        target = max(self.height(i) for i in chosen)
        self.wait(lambda: min(self.height(i) for i in chosen) >= target, timeout_s,
                  f"{', '.join(self.names[i] for i in chosen)} to reach height {target}")
        return self.converged(chosen)

    def write_through(self, i: int, wait_s: float = 15.0) -> int:
        """Create a fresh DID through node ``i`` and wait for its commit; returns the height."""
        assert self.genesis is not None
        _did, envelope = create_did(PrivateKey.generate(), self.genesis.chain_id, self.height(i))
        request = urllib.request.Request(f"{self.nodes[i].url}/v1/operations", data=envelope, method="POST",
                                         headers={"Content-Type": "application/octet-stream"})
        deadline = time.monotonic() + wait_s
        while True:  # a node that is still catching up answers 503: retry, as a client would
            try:
                with urllib.request.urlopen(request, timeout=10) as response:
                    op_hash = json.loads(response.read())["hash"]
                break
            except urllib.error.HTTPError as exc:
                if exc.code != 503 or time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        while time.monotonic() < deadline:
            with urllib.request.urlopen(f"{self.nodes[i].url}/v1/operations/{op_hash}?wait=2",
                                        timeout=10) as response:
                body = json.loads(response.read())
            if body.get("status") == "committed":
                return int(body["height"])
        raise AssertionError(f"a write through {self.names[i]} did not commit in {wait_s:.0f} s; "
                             f"cluster: {self.describe()}")

    def add_clone(self, of: int) -> int:
        """A second process holding validator ``of``'s key (the Jepsen "two nodes, one key" fault, or
        a validator restored from a backup and run next to the original), with an empty data dir.

        It gets its own name (``node0b``), ports and proxies to the other validators; it is not started.
        To let a validator that dials ``of`` reach the clone instead, use ``faults.retarget``.
        """
        assert self.genesis is not None
        source = self.directory / self.names[of]
        name = f"{self.names[of]}b"
        node_dir = self.directory / name
        node_dir.mkdir()
        shutil.copy2(source / "validator.key", node_dir / "validator.key")
        (node_dir / "genesis.json").write_text((source / "genesis.json").read_text())
        api_port, p2p_port = free_ports(2)
        keys = {v.name: v.node_key.multikey for v in self.genesis.validator_set.validators}
        peers = []
        for j, other in enumerate(self.names):
            if j != of:
                port = self.faults.add_link(name, other, self.nodes[j].p2p_port)
                peers.append(PeerConfig(url=f"ws://{HOST}:{port}/p2p", public_key=keys[other]))
        (node_dir / "node.toml").write_text(render_node_toml(
            name=name, api_host=HOST, api_port=api_port, p2p_host=HOST, p2p_port=p2p_port, peers=peers,
            extra_consensus=self.consensus))
        self.nodes.append(tn.TestnetNode(
            name=name, url=f"http://{HOST}:{api_port}", config=str(node_dir / "node.toml"),
            data_dir=str(node_dir / "data"), log=str(node_dir / "node.log"), api_port=api_port,
            p2p_port=p2p_port))
        self.names.append(name)
        return len(self.nodes) - 1

    # ---- process faults --------------------------------------------------------------------

    def kill(self, i: int) -> None:
        node = self.nodes[i]
        if node.pid is not None and tn.pid_alive(node.pid):
            os.kill(node.pid, signal.SIGKILL)
        tn.stop_node(node)

    def restart(self, i: int, wipe: bool = False) -> None:
        if wipe:
            shutil.rmtree(self.nodes[i].data_dir, ignore_errors=True)
        deadline = time.monotonic() + 20
        while True:  # a killed node's ports can stay bound for a moment (sockets still closing)
            try:
                tn.start_node(self.nodes[i], env={**self.env, **self.node_env.get(i, {})})
                break
            except ConfigError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.5)
        self.wait(lambda: self.status(i) is not None, 30, f"{self.names[i]} to answer")

    def set_slow_disk(self, i: int, delay_ms: int | None) -> Path:
        """From node ``i``'s next (re)start, every durable write waits ``delay_ms`` (None: normal disk).

        Injected by ``tests/faults/inject/sitecustomize.py``; returns the file that grows by one byte
        per delayed write."""
        log = Path(self.nodes[i].data_dir).parent / "slow-disk.log"
        if delay_ms is None:
            self.node_env.pop(i, None)
            return log
        inject = str(Path(__file__).resolve().parent / "inject")
        path = os.pathsep.join(p for p in (inject, os.environ.get("PYTHONPATH", "")) if p)
        self.node_env[i] = {"PYTHONPATH": path, "LEDGR_FAULT_DISK_DELAY_MS": str(delay_ms),
                            "LEDGR_FAULT_DISK_LOG": str(log)}
        return log

    def pause(self, i: int) -> None:
        pid = self.nodes[i].pid
        assert pid is not None
        os.kill(pid, signal.SIGSTOP)
        self.paused.add(i)

    def resume(self, i: int) -> None:
        pid = self.nodes[i].pid
        if pid is not None and tn.pid_alive(pid):
            os.kill(pid, signal.SIGCONT)
        self.paused.discard(i)

    def log_lines(self, i: int, level: str = "error") -> list[dict[str, Any]]:
        """Log entries of node ``i`` at ``level`` (JSON lines)."""
        out = []
        try:
            text = Path(self.nodes[i].log).read_text(errors="replace")
        except OSError:
            return []
        for line in text.splitlines():
            with contextlib.suppress(ValueError):
                entry = json.loads(line)
                if isinstance(entry, dict) and entry.get("level") == level:
                    out.append(entry)
        return out
