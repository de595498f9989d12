"""Growth with real processes (issue 7 "Growth"): a read-only observer node, and live validator
changes 3 → 4 → 3 under a light write load, driven through the ``ledgr validators`` CLI.

One network for the module: node0-2 are the genesis validators, node3 joins as a validator, node4
is an observer (``[node] role = "observer"``) that follows the whole history, including the blocks
signed by the 4-member set.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from ledgr.crypto import PrivateKey
from ledgr.ledger.genesis import Genesis
from ledgr.node import testnet as tn
from ledgr.node.authoring import create_did
from ledgr.node.certified import verify_state_answer
from ledgr.node.keyfile import read_secret_key
from ledgr.node.loadgen import LoadResult, run_until
from ledgr.node.testnet_join import add_node
from tests.integration.growth_ports import free_base_port

pytestmark = [pytest.mark.integration, pytest.mark.timeout(300)]

LOAD_RATE = 15.0


@dataclass
class Net:
    directory: Path
    nodes: list[tn.TestnetNode]
    genesis: Genesis

    def height(self, i: int) -> int:
        status = tn.status_of(self.nodes[i].url)
        assert status is not None, f"{self.nodes[i].name} does not answer"
        return int(status["height"])

    def block(self, i: int, height: int) -> dict[str, Any]:
        return get_json(f"{self.nodes[i].url}/v1/blocks/{height}")

    def admin(self, i: int) -> str:
        return str(Path(self.nodes[i].config).parent / "admin.key")

    def key(self, i: int, name: str) -> str:
        return read_secret_key(Path(self.nodes[i].config).parent / name).public_key.multikey


def wait(predicate: Any, timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            if predicate():
                return
        except (AssertionError, OSError, urllib.error.URLError):
            pass
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def get_json(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=10) as response:
        return json.loads(response.read())


def ledgr(*args: str) -> str:
    done = subprocess.run([*tn.ledgr_command(), *args], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, f"ledgr {' '.join(args)} failed: {done.stderr}"
    return done.stdout


@pytest.fixture(scope="module")
def net(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Net]:
    directory = tmp_path_factory.mktemp("growth") / "net"
    base = free_base_port(5)
    nodes = tn.up(directory, 3, base, timeout_s=60,
                  consensus={"heartbeat_ms": 1000, "timeout_propose_ms": 500})
    genesis = Genesis.from_json(json.loads((directory / "genesis.json").read_text()))
    validators = list(nodes)
    add_node(directory, nodes, validators, base + 6, role="validator")
    add_node(directory, nodes, validators, base + 8, role="observer")
    try:
        yield Net(directory, nodes, genesis)
    finally:
        tn.stop_nodes(nodes)


def test_observer_follows_serves_certified_reads_and_takes_no_writes(net: Net) -> None:
    observer = net.nodes[4]
    tn.start_node(observer)
    wait(lambda: net.height(4) >= net.height(0) - 1 > 0, 30, "the observer to catch up")
    did, envelope = create_did(PrivateKey.generate(), net.genesis.chain_id, net.height(0))
    request = urllib.request.Request(f"{net.nodes[0].url}/v1/operations?wait=10", data=envelope,
                                     method="POST", headers={"Content-Type": "application/octet-stream"})
    with urllib.request.urlopen(request, timeout=20) as response:
        committed = json.loads(response.read())
    assert committed["status"] == "committed", committed
    wait(lambda: net.height(4) >= committed["height"], 15, "the observer to reach the write")
    answer = get_json(f"{observer.url}/v1/state/did/{did}?proof=true")
    state = verify_state_answer(answer, net.genesis.validator_set)
    assert state.values["head"] is not None and state.height >= committed["height"]
    status = get_json(f"{observer.url}/v1/status")
    assert status["role"] == "observer" and status["voting"] is False
    assert status["consensus"]["height"] is None  # never ran consensus
    assert get_json(f"{observer.url}/v1/health/ready")
    refused = urllib.request.Request(f"{observer.url}/v1/operations", data=create_did(
        PrivateKey.generate(), net.genesis.chain_id, net.height(0))[1], method="POST",
        headers={"Content-Type": "application/octet-stream"})
    with pytest.raises(urllib.error.HTTPError) as info:
        urllib.request.urlopen(refused, timeout=10)
    assert info.value.code == 503
    observer_key = net.key(4, "validator.key")
    for i in range(3):  # validators do not list it, and it signs no QC
        members = [v["node_key"] for v in get_json(f"{net.nodes[i].url}/v1/status")["validators"]]
        assert observer_key not in members
    assert net.block(4, net.height(4))["hash"] == net.block(0, net.height(4))["hash"]


def _change(net: Net, command: list[str], approvers: list[int], tmp: Path) -> dict[str, Any]:
    """node0's operator proposes, the ``approvers`` approve on their own nodes, node0 submits."""
    proposal = tmp / f"change-{time.monotonic_ns()}.json"
    node0 = ["--node", net.nodes[0].url, "--admin-key", net.admin(0)]
    ledgr("validators", *command, *node0, "--out", str(proposal))
    early = subprocess.run([*tn.ledgr_command(), "validators", "submit", str(proposal), *node0],
                           capture_output=True, text=True, timeout=60)
    assert early.returncode == 2 and "approvals; a quorum of" in early.stderr, early.stderr
    for i in approvers:
        ledgr("validators", "approve", str(proposal), "--node", net.nodes[i].url, "--admin-key", net.admin(i))
    out = ledgr("validators", "submit", str(proposal), *node0)
    return dict(json.loads(out))


def _listed(net: Net, i: int) -> list[str]:
    listing = json.loads(ledgr("validators", "list", "--node", net.nodes[i].url, "--json"))
    return [v["name"] for v in listing["active"]["validators"]]


def _state_sync_across_the_change(net: Net) -> None:
    """A new observer state-syncs an anchor signed by the 4-set: it must follow the change from the
    genesis set through verified QCs before it trusts the anchor."""
    new = add_node(net.directory, net.nodes, net.nodes[:3], free_base_port(1), role="observer",
                   sync={"state_sync_min_heights": 5})
    tn.start_node(new)
    wait(lambda: net.height(5) >= net.height(0) - 1 > 0, 60, "the state-synced observer to catch up")
    events = [json.loads(line) for line in Path(new.log).read_text().splitlines() if line.startswith("{")]
    names = [e.get("event") for e in events]
    assert "validator_sets_followed" in names and "state_sync_done" in names, names
    # the history below the snapshot is back-filled in the background (docs/node.md "Back-fill")
    wait(lambda: get_json(f"{new.url}/v1/status")["backfill"]["state"] == "done", 60, "the back-fill")
    assert get_json(f"{new.url}/v1/blocks/1")["hash"] == get_json(f"{net.nodes[0].url}/v1/blocks/1")["hash"]
    tn.stop_node(new)


async def _with_load(net: Net, body: Any) -> LoadResult:
    stop = asyncio.Event()
    urls = [net.nodes[i].url for i in range(3)]
    load = asyncio.create_task(run_until(urls, net.genesis.chain_id, net.height(0), stop, LOAD_RATE))
    try:
        await asyncio.to_thread(body)
    finally:
        stop.set()
    return await load


def test_validators_grow_to_four_and_shrink_to_three_under_load(net: Net, tmp_path: Path) -> None:
    joining = net.nodes[3]
    tn.start_node(joining)
    wait(lambda: net.height(3) >= net.height(0) - 1 > 0, 30, "node3 to follow the chain before it is added")
    assert get_json(f"{joining.url}/v1/status")["voting"] is False

    def grow_and_shrink() -> None:
        keys = [net.key(3, "validator.key"), net.key(3, "admin.key")]
        added = _change(net, ["add", "node3", *keys], [1], tmp_path)
        active = added["activates_at"]
        wait(lambda: all(net.height(i) >= active + 2 for i in range(5)), 30, "the 4-member set to be active")
        assert _listed(net, 3) == ["node0", "node1", "node2", "node3"]
        assert "node3" in ledgr("validators", "list", "--node", net.nodes[2].url)
        assert get_json(f"{net.nodes[3].url}/v1/status")["voting"] is True
        _state_sync_across_the_change(net)
        # node3 votes: with node0 down, n=4 needs q=3, so node1, node2 and node3 must all sign
        tn.stop_node(net.nodes[0])
        before = net.height(1)
        wait(lambda: net.height(1) >= before + 3, 30, "node1-3 to commit without node0")
        assert net.block(3, before + 2)["hash"] == net.block(1, before + 2)["hash"]
        assert 3 in net.block(1, before + 2)["qc"]["signers"]
        tn.start_node(net.nodes[0])
        wait(lambda: net.height(0) >= net.height(1) - 1, 30, "node0 to catch up")
        removed = _change(net, ["remove", "node3"], [1, 2], tmp_path)
        gone = removed["activates_at"]
        wait(lambda: all(net.height(i) >= gone + 2 for i in (0, 1, 2, 4)), 30,
             "the 3-member set to be active")
        assert _listed(net, 0) == ["node0", "node1", "node2"]
        # node3 no longer counts: with node3 and node1 down, node0 and node2 are a quorum of 3
        tn.stop_node(net.nodes[3])
        tn.stop_node(net.nodes[1])
        before = net.height(0)
        wait(lambda: net.height(0) >= before + 3, 30, "node0 and node2 to commit as a quorum of the 3-set")
        tn.start_node(net.nodes[1])
        wait(lambda: net.height(1) >= net.height(0) - 1, 30, "node1 to catch up")

    result = asyncio.run(_with_load(net, grow_and_shrink))
    assert len(result.records) > 50
    lost = [r for r in result.records if r.accepted and r.committed_s is None]
    # an operation accepted by node0 just before it was stopped may wait in its mempool until restart;
    # every accepted operation must be committed in the end
    for record in lost:
        url = f"{net.nodes[2].url}/v1/operations/{record.op_hash}"
        wait(lambda u=url: get_json(u)["status"] == "committed", 30, f"operation {record.op_hash} to commit")
    top = min(net.height(i) for i in (0, 1, 2, 4))
    hashes = {net.block(i, top)["hash"] for i in (0, 1, 2, 4)}
    assert len(hashes) == 1, hashes
