"""A local testnet: N validator nodes on 127.0.0.1, each its own process and data directory.

Layout of ``DIR``::

    DIR/testnet.json          the nodes (name, URLs, config, data dir, pid of the running process)
    DIR/node{i}/node.toml     node i's config (API port P+2i, peer port P+2i+1)
    DIR/node{i}/genesis.json  the shared genesis document (each operator holds a copy)
    DIR/node{i}/validator.key node i's validator key (0600); admin.key its operator admin key
    DIR/node{i}/data          node i's LMDB store
    DIR/node{i}/node.log      its log (JSON lines)

Each node is started as ``ledgr node run --config DIR/node{i}/node.toml``, so it can be restarted by
hand exactly the same way. Used by ``ledgr testnet``, the integration tests, the cluster benchmark
and the demo.
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from ledgr.crypto import PrivateKey
from ledgr.errors import ConfigError, Unavailable
from ledgr.ledger.genesis import DEFAULT_PARAMS, Genesis
from ledgr.ledger.validators import Validator, ValidatorSet
from ledgr.node.config import PeerConfig
from ledgr.node.config_toml import render_node_toml
from ledgr.node.keyfile import read_secret_key, write_secret_key

MANIFEST = "testnet.json"
HOST = "127.0.0.1"
MAX_NODES = 7


@dataclass
class TestnetNode:
    name: str
    url: str
    config: str
    data_dir: str
    log: str
    api_port: int
    p2p_port: int
    pid: int | None = None


def ledgr_command() -> list[str]:
    """How to run the ``ledgr`` CLI of this installation (the console script beside the interpreter)."""
    script = Path(sys.executable).parent / "ledgr"
    if script.exists():
        return [str(script)]
    found = shutil.which("ledgr")
    if found:
        return [found]
    return [sys.executable, "-c", "from ledgr.cli import main; main()"]


def free_base_port(count: int = 1) -> int:
    """A free range of ``2 * count`` ports (API and p2p per node) below the kernel's ephemeral range,
    so an outgoing connection can never take a node's port before the node (re)starts on it."""
    try:
        low = int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        low = 32768
    rng = random.Random()
    for _ in range(200):
        base = rng.randrange(10000, max(10020, low - 2 * count - 20), 20)
        if all(port_free(p) for p in range(base, base + 2 * count)):
            return base
    raise Unavailable("no free port range below the ephemeral range")


def port_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((HOST, port))
        except OSError:
            return False
    return True


def pid_alive(pid: int | None) -> bool:
    if not pid:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as handle:
            return handle.read().split()[2] != "Z"
    except OSError:
        return True


def load_manifest(directory: Path) -> list[TestnetNode]:
    path = directory / MANIFEST
    if not directory.is_dir():
        raise ConfigError(f"directory {directory} does not exist")
    if not path.exists():
        raise ConfigError(f"{directory} holds no testnet ({MANIFEST} missing); "
                          f"run: ledgr testnet up --dir {directory}")
    return [TestnetNode(**entry) for entry in json.loads(path.read_text())["nodes"]]


def save_manifest(directory: Path, nodes: list[TestnetNode]) -> None:
    tmp = directory / (MANIFEST + ".tmp")
    tmp.write_text(json.dumps({"nodes": [asdict(n) for n in nodes]}, indent=2))
    tmp.replace(directory / MANIFEST)


def create(directory: Path, count: int, base_port: int, chain_id: str = "ledgr-testnet",
           consensus: dict[str, int] | None = None,
           params: dict[str, Any] | None = None) -> list[TestnetNode]:
    """Write genesis, keys and configs for ``count`` nodes (nothing is started)."""
    if not 1 <= count <= MAX_NODES:
        raise ConfigError(f"a local testnet has 1..{MAX_NODES} nodes")
    if base_port < 1024 or base_port + 2 * count > 65535:
        raise ConfigError("--base-port must leave room for 2 ports per node between 1024 and 65535")
    if not directory.parent.is_dir():
        raise ConfigError(f"directory {directory.parent} does not exist")
    directory.mkdir(exist_ok=True)
    keys = [(PrivateKey.generate(), PrivateKey.generate()) for _ in range(count)]
    validators = tuple(Validator(name=f"node{i}", node_key=k.public_key, admin_key=a.public_key)
                       for i, (k, a) in enumerate(keys))
    genesis = Genesis(chain_id=chain_id, genesis_time_ms=time.time_ns() // 1_000_000,
                      validator_set=ValidatorSet(validators), params={**DEFAULT_PARAMS, **(params or {})})
    genesis_text = json.dumps(genesis.to_json(), indent=2)
    peers = [PeerConfig(url=f"ws://{HOST}:{base_port + 2 * i + 1}/p2p", public_key=k.public_key.multikey)
             for i, (k, _a) in enumerate(keys)]
    nodes = []
    for i, (key, admin) in enumerate(keys):
        node_dir = directory / f"node{i}"
        node_dir.mkdir()
        write_secret_key(node_dir / "validator.key", key)
        write_secret_key(node_dir / "admin.key", admin)
        (node_dir / "genesis.json").write_text(genesis_text)
        api_port, p2p_port = base_port + 2 * i, base_port + 2 * i + 1
        (node_dir / "node.toml").write_text(render_node_toml(
            name=f"node{i}", api_host=HOST, api_port=api_port, p2p_host=HOST, p2p_port=p2p_port,
            peers=[p for j, p in enumerate(peers) if j != i], extra_consensus=consensus))
        nodes.append(TestnetNode(name=f"node{i}", url=f"http://{HOST}:{api_port}",
                                 config=str(node_dir / "node.toml"), data_dir=str(node_dir / "data"),
                                 log=str(node_dir / "node.log"), api_port=api_port, p2p_port=p2p_port))
    (directory / "genesis.json").write_text(genesis_text)
    save_manifest(directory, nodes)
    return nodes


def start_node(node: TestnetNode, env: dict[str, str] | None = None) -> int:
    """Start one node in the background (its own session, so the caller's signals don't reach it)."""
    for port in (node.api_port, node.p2p_port):
        if not port_free(port):
            raise ConfigError(f"port {port} on {HOST} is already in use (needed by {node.name})")
    log = open(node.log, "ab")  # noqa: SIM115 (handed to the child process)
    try:
        process = subprocess.Popen([*ledgr_command(), "node", "run", "--config", node.config],
                                   stdin=subprocess.DEVNULL, stdout=log, stderr=log, start_new_session=True,
                                   env={**os.environ, "LEDGR_LOG_FORMAT": "json", **(env or {})})
    finally:
        log.close()
    node.pid = process.pid
    return process.pid


def status_of(url: str, timeout_s: float = 2.0) -> dict[str, Any] | None:
    try:
        with urllib.request.urlopen(f"{url}/v1/status", timeout=timeout_s) as response:
            value = json.loads(response.read())
            return value if isinstance(value, dict) else None
    except (urllib.error.URLError, OSError, ValueError):
        return None


def wait_committed(nodes: list[TestnetNode], min_height: int = 1, timeout_s: float = 60.0) -> None:
    """Wait until every node has committed ``min_height``; a node that exits is reported at once."""
    deadline = time.monotonic() + timeout_s
    pending = list(nodes)
    while pending:
        for node in list(pending):
            if node.pid is not None and not pid_alive(node.pid):
                raise Unavailable(f"{node.name} exited during start-up; see {node.log}: {last_error(node)}")
            status = status_of(node.url)
            if status is not None and status.get("height", 0) >= min_height:
                pending.remove(node)
        if pending and time.monotonic() > deadline:
            raise Unavailable(f"{', '.join(n.name for n in pending)} did not commit block {min_height} "
                              f"within {timeout_s:.0f} s; see their node.log")
        if pending:
            time.sleep(0.1)


def last_error(node: TestnetNode) -> str:
    try:
        lines = Path(node.log).read_text(errors="replace").strip().splitlines()
    except OSError:
        return "no log"
    for line in reversed(lines[-50:]):
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        if entry.get("level") in ("error", "critical"):
            return str(entry.get("error") or entry.get("event"))
    return lines[-1][-200:] if lines else "empty log"


def up(directory: Path, count: int = 3, base_port: int = 8700, timeout_s: float = 60.0,
       consensus: dict[str, int] | None = None) -> list[TestnetNode]:
    """Create (first time) or restart the testnet in ``directory`` and wait until it commits."""
    if (directory / MANIFEST).exists():
        nodes = load_manifest(directory)
        running = [n.name for n in nodes if pid_alive(n.pid)]
        if running:
            raise ConfigError(f"the testnet in {directory} is already running ({', '.join(running)}); "
                              f"stop it with: ledgr testnet down --dir {directory}")
    else:
        if directory.exists() and any(directory.iterdir()):
            raise ConfigError(f"{directory} is not empty and holds no testnet")
        ports = [p for i in range(count) for p in (base_port + 2 * i, base_port + 2 * i + 1)]
        busy = [p for p in ports if not port_free(p)]
        if busy:
            raise ConfigError(f"port {busy[0]} on {HOST} is already in use; choose another --base-port")
        nodes = create(directory, count, base_port, consensus=consensus)
    try:
        for node in nodes:
            start_node(node)
        save_manifest(directory, nodes)
        wait_committed(nodes, 1, timeout_s)
    except BaseException:
        stop_nodes(nodes)
        save_manifest(directory, nodes)
        raise
    return nodes


def stop_node(node: TestnetNode, timeout_s: float = 10.0, sig: int = signal.SIGTERM) -> None:
    if not pid_alive(node.pid):
        if node.pid:
            _reap(node.pid)
        node.pid = None
        return
    assert node.pid is not None
    os.kill(node.pid, sig)
    deadline = time.monotonic() + timeout_s
    while pid_alive(node.pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    if pid_alive(node.pid):
        os.kill(node.pid, signal.SIGKILL)
        while pid_alive(node.pid):
            time.sleep(0.02)
    _reap(node.pid)
    node.pid = None


def _reap(pid: int) -> None:
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)


def stop_nodes(nodes: list[TestnetNode]) -> None:
    for node in nodes:
        stop_node(node)


def down(directory: Path) -> list[TestnetNode]:
    nodes = load_manifest(directory)
    stop_nodes(nodes)
    save_manifest(directory, nodes)
    return nodes


def validator_key(node: TestnetNode) -> PrivateKey:
    return read_secret_key(Path(node.config).parent / "validator.key")
