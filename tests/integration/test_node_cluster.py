"""Three real node processes on 127.0.0.1 (issue 5 "Evidence"): writes and certified reads across
nodes, SIGKILL of any one node under write load (incl. the proposer and the node written to),
losing quorum and regaining it, a wiped node rejoining, and the double-sign guard.

One cluster for the whole module (tests run in file order and leave it healthy for the next).
"""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import random
import shutil
import signal
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from ledgr.consensus.codec import encode_message
from ledgr.consensus.messages import Vote, VoteType
from ledgr.consensus.signing import Ed25519Signer
from ledgr.crypto import PrivateKey
from ledgr.ledger.genesis import Genesis
from ledgr.node import testnet as tn
from ledgr.node.authoring import create_did
from ledgr.node.certified import verify_state_answer
from ledgr.node.config import P2PConfig, PeerConfig
from ledgr.node.loadgen import LoadResult, run_until, submit_and_wait
from ledgr.node.metrics import NodeMetrics
from ledgr.node.peers import KIND_CONSENSUS, PeerNetwork

pytestmark = [pytest.mark.integration, pytest.mark.timeout(300)]

KILLS = int(os.environ.get("LEDGR_KILLS", "5"))
LOAD_RATE = 60.0




def worker_pids(parent: int) -> list[int]:
    """The spawned ledger worker processes of node process ``parent``."""
    found = subprocess.run(["pgrep", "-P", str(parent)], capture_output=True, text=True).stdout.split()
    out = []
    for pid in found:
        try:
            if "spawn_main" in Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace"):
                out.append(int(pid))
        except OSError:
            continue
    return out


@dataclass
class Cluster:
    directory: Path
    nodes: list[tn.TestnetNode]
    genesis: Genesis

    @property
    def urls(self) -> list[str]:
        return [n.url for n in self.nodes]

    def status(self, i: int) -> dict[str, Any]:
        found = tn.status_of(self.nodes[i].url)
        assert found is not None, f"{self.nodes[i].name} does not answer"
        return found

    def height(self, i: int) -> int:
        return int(self.status(i)["height"])

    def alive(self) -> list[int]:
        return [i for i, n in enumerate(self.nodes) if tn.pid_alive(n.pid)]

    def kill(self, i: int) -> None:
        """SIGKILL node ``i``; its ledger worker processes must not outlive it."""
        node = self.nodes[i]
        assert node.pid is not None
        children = worker_pids(node.pid)
        os.kill(node.pid, signal.SIGKILL)
        while tn.pid_alive(node.pid):
            time.sleep(0.01)
        tn.stop_node(node)
        tn.save_manifest(self.directory, self.nodes)
        self.wait(lambda: not any(tn.pid_alive(pid) for pid in children), 10,
                  f"the workers of {node.name} to exit after it was killed")

    def restart(self, i: int, wait: bool = True) -> None:
        tn.start_node(self.nodes[i])
        tn.save_manifest(self.directory, self.nodes)
        if wait:
            self.wait(lambda: tn.status_of(self.nodes[i].url) is not None, 30, "the API to answer")

    def wait(self, predicate: Any, timeout_s: float, what: str) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            try:
                if predicate():
                    return
            except AssertionError:
                pass
            time.sleep(0.1)
        raise AssertionError(f"timed out waiting for {what}")

    def block_hash(self, i: int, height: int) -> str:
        with urllib.request.urlopen(f"{self.nodes[i].url}/v1/blocks/{height}", timeout=5) as response:
            return str(json.loads(response.read())["hash"])

    def assert_same_chain(self, nodes: list[int]) -> int:
        """All ``nodes`` agree on block hash and app_root at the lowest of their heights."""
        self.wait(lambda: len({self.height(i) for i in nodes}) == 1 or
                  min(self.height(i) for i in nodes) > 0, 10, "heights")
        height = min(self.height(i) for i in nodes)
        hashes = {self.block_hash(i, height) for i in nodes}
        assert len(hashes) == 1, f"nodes disagree at height {height}: {hashes}"
        return height


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    directory = tmp_path_factory.mktemp("cluster") / "net"
    nodes = tn.up(directory, 3, tn.free_base_port(3), timeout_s=60,
                  consensus={"heartbeat_ms": 2000, "timeout_propose_ms": 500})
    genesis = Genesis.from_json(json.loads((directory / "genesis.json").read_text()))
    try:
        yield Cluster(directory, nodes, genesis)
    finally:
        tn.stop_nodes(nodes)


def get_json(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=10) as response:
        return json.loads(response.read())


def post_op(url: str, envelope: bytes) -> dict[str, Any]:
    request = urllib.request.Request(f"{url}/v1/operations", data=envelope, method="POST",
                                     headers={"Content-Type": "application/octet-stream"})
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 202
        return dict(json.loads(response.read()))


def test_writes_through_any_node_resolve_from_the_others_with_verified_proofs(cluster: Cluster) -> None:
    chain_id, height = cluster.genesis.chain_id, cluster.height(0)
    for writer in range(3):
        did, envelope = create_did(PrivateKey.generate(), chain_id, height)
        receipt = post_op(cluster.urls[writer], envelope)
        committed = get_json(f"{cluster.urls[writer]}/v1/operations/{receipt['hash']}?wait=10")
        assert committed["status"] == "committed", committed
        for reader in range(3):
            if reader == writer:
                continue
            at = int(committed["height"])
            cluster.wait(lambda r=reader, at=at: cluster.height(r) >= at, 10, "replication")
            answer = get_json(f"{cluster.urls[reader]}/v1/state/did/{did}?proof=true")
            state = verify_state_answer(answer, cluster.genesis.validator_set)
            assert state.height >= committed["height"]
            assert state.values["head"] is not None
            document = answer["entries"]["version"]["value"]["document"]
            assert document["id"] == did
    unknown = "did:ledgr:11111111111111111111"
    absent = get_json(f"{cluster.urls[1]}/v1/state/did/{unknown}?proof=true")
    assert verify_state_answer(absent, cluster.genesis.validator_set).values["head"] is None


def test_an_idle_network_makes_only_heartbeat_blocks(cluster: Cluster) -> None:
    """No operations → no blocks except one per heartbeat interval (2 s in this cluster)."""
    start = cluster.height(0)
    time.sleep(5.0)
    end = cluster.height(0)
    assert 1 <= end - start <= 3, (start, end)
    blocks = [get_json(f"{cluster.urls[1]}/v1/blocks/{h}") for h in range(start, end + 1)]
    assert all(b["operation_count"] == 0 for b in blocks[1:])
    gaps = [b["header"]["time_ms"] - a["header"]["time_ms"] for a, b in itertools.pairwise(blocks)]
    assert all(gap >= 1900 for gap in gaps), gaps


async def _committed_everywhere(cluster: Cluster, result: LoadResult, nodes: list[int]) -> None:
    """Every operation some node reported committed is committed on every node in ``nodes``."""
    async with aiohttp.ClientSession() as session:
        for record in result.committed:
            for i in nodes:
                async with session.get(f"{cluster.urls[i]}/v1/operations/{record.op_hash}") as response:
                    body = await response.json()
                assert body.get("status") == "committed", (cluster.nodes[i].name, record.op_hash, body)
                assert body["height"] == record.height


def _victims(count: int) -> list[str]:
    base = ["proposer", "writer", "node0", "node1", "node2"]
    return [base[i % len(base)] for i in range(count)]


@pytest.mark.parametrize("victim", _victims(KILLS))
async def test_sigkill_one_node_under_load_others_commit_and_it_catches_up(cluster: Cluster,
                                                                          victim: str) -> None:
    if victim == "proposer":
        index = (cluster.height(0) + 1) % 3
        urls = cluster.urls
    elif victim == "writer":
        index = random.randrange(3)
        urls = [cluster.urls[index]]
    else:
        index = int(victim[-1])
        urls = cluster.urls
    survivors = [i for i in range(3) if i != index]
    stop = asyncio.Event()
    load = asyncio.create_task(run_until(urls, cluster.genesis.chain_id, cluster.height(0), stop, LOAD_RATE))
    restarted = False
    try:
        await asyncio.sleep(1.5)
        cluster.kill(index)
        before = max(cluster.height(i) for i in survivors)
        await asyncio.sleep(3.0)
        if victim == "writer":
            # keep writing through the survivors too, so "keeps committing" is about operations
            extra = PrivateKey.generate()
            _did, envelope = create_did(extra, cluster.genesis.chain_id, before)
            async with aiohttp.ClientSession() as session:
                rec = await submit_and_wait(session, cluster.urls[survivors[0]], _did, envelope, 10)
            assert rec.committed_s is not None, rec.error
        # a round whose proposer died costs a propose timeout; on a loaded machine a few rounds may
        # fail in a row, so allow some seconds, but both survivors must move past the kill height
        deadline = time.monotonic() + 12
        while min(cluster.height(i) for i in survivors) <= before and time.monotonic() < deadline:
            await asyncio.sleep(0.1)
        after = min(cluster.height(i) for i in survivors)
        assert after > before, f"survivors stalled at {before} after killing {cluster.nodes[index].name}"
        cluster.restart(index)
        restarted = True
    finally:
        stop.set()
        result = await load
        if not restarted and not tn.pid_alive(cluster.nodes[index].pid):
            cluster.restart(index)  # leave a whole cluster for the next test
    target = max(cluster.height(i) for i in survivors)
    cluster.wait(lambda: cluster.height(index) >= target and not cluster.status(index)["catching_up"], 60,
                 f"{cluster.nodes[index].name} to catch up to {target}")
    cluster.wait(lambda: min(cluster.height(i) for i in survivors) >= target, 30,
                 f"both survivors to reach {target}")
    assert cluster.block_hash(index, target) == cluster.block_hash(survivors[0], target)
    assert cluster.status(index)["app_root"] is not None
    assert result.committed, "the load generator saw no commits"
    await _committed_everywhere(cluster, result, [0, 1, 2])


def test_a_killed_ledger_worker_is_replaced_and_the_node_keeps_working(cluster: Cluster) -> None:
    assert cluster.nodes[0].pid is not None
    workers = worker_pids(cluster.nodes[0].pid)
    assert len(workers) == 1, "a node runs one ledger worker process"
    for pid in workers:
        os.kill(pid, signal.SIGKILL)
    for _ in range(3):
        _did, envelope = create_did(PrivateKey.generate(), cluster.genesis.chain_id, cluster.height(0))
        receipt = post_op(cluster.urls[0], envelope)
        answer = get_json(f"{cluster.urls[0]}/v1/operations/{receipt['hash']}?wait=20")
        assert answer["status"] == "committed", answer


def test_two_of_three_down_writes_stop_reads_continue_and_resume_with_one_back(cluster: Cluster) -> None:
    chain_id = cluster.genesis.chain_id
    did, envelope = create_did(PrivateKey.generate(), chain_id, cluster.height(0))
    receipt = post_op(cluster.urls[0], envelope)
    assert get_json(f"{cluster.urls[0]}/v1/operations/{receipt['hash']}?wait=10")["status"] == "committed"
    cluster.kill(1)
    cluster.kill(2)
    stuck_did, stuck = create_did(PrivateKey.generate(), chain_id, cluster.height(0))
    pending = post_op(cluster.urls[0], stuck)
    answer = get_json(f"{cluster.urls[0]}/v1/operations/{pending['hash']}?wait=3")
    assert answer["status"] == "pending"
    read = get_json(f"{cluster.urls[0]}/v1/state/did/{did}?proof=true")
    assert verify_state_answer(read, cluster.genesis.validator_set).values["head"] is not None
    with pytest.raises(urllib.error.HTTPError) as info:
        get_json(f"{cluster.urls[0]}/v1/health/ready")
    assert info.value.code == 503
    cluster.restart(1)
    final = get_json(f"{cluster.urls[0]}/v1/operations/{pending['hash']}?wait=30")
    assert final["status"] == "committed", final
    cluster.restart(2)
    cluster.wait(lambda: cluster.height(2) >= final["height"], 60, "node2 to catch up")
    cluster.assert_same_chain([0, 1, 2])
    assert get_json(f"{cluster.urls[2]}/v1/state/did/{stuck_did}")["found"] is True


def test_a_wiped_node_rejoins_by_catch_up_even_when_interrupted_and_votes_again(cluster: Cluster) -> None:
    tn.stop_node(cluster.nodes[2])
    shutil.rmtree(cluster.nodes[2].data_dir)
    cluster.restart(2, wait=False)
    target = cluster.height(0)
    # interrupt the catch-up with SIGKILL once it has stored some blocks (if it is not done already)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        status = tn.status_of(cluster.nodes[2].url)
        if status is not None and status["height"] > 0:
            break
        time.sleep(0.02)
    interrupted_at = (tn.status_of(cluster.nodes[2].url) or {}).get("height", 0)
    cluster.kill(2)
    cluster.restart(2)
    cluster.wait(lambda: cluster.height(2) >= target and not cluster.status(2)["catching_up"], 60,
                 "the wiped node to catch up")
    assert cluster.height(2) >= interrupted_at
    cluster.assert_same_chain([0, 1, 2])
    cluster.kill(1)
    _did, envelope = create_did(PrivateKey.generate(), cluster.genesis.chain_id, cluster.height(0))
    receipt = post_op(cluster.urls[0], envelope)
    answer = get_json(f"{cluster.urls[0]}/v1/operations/{receipt['hash']}?wait=30")
    assert answer["status"] == "committed", "node0 and the rejoined node2 must form a quorum"
    cluster.restart(1)
    cluster.wait(lambda: cluster.height(1) >= answer["height"], 60, "node1 to catch up")


def test_double_sign_guard_refuses_a_data_directory_older_than_the_keys_history(cluster: Cluster) -> None:
    node = cluster.nodes[1]
    backup = cluster.directory / "node1-old-data"
    tn.stop_node(node)
    shutil.copytree(node.data_dir, backup)
    cluster.restart(1)
    cluster.wait(lambda: not cluster.status(1)["catching_up"], 30, "node1 to rejoin consensus")
    start = cluster.height(0)
    for _ in range(3):
        _did, envelope = create_did(PrivateKey.generate(), cluster.genesis.chain_id, cluster.height(0))
        receipt = post_op(cluster.urls[1], envelope)
        assert get_json(f"{cluster.urls[1]}/v1/operations/{receipt['hash']}?wait=10")["status"] == "committed"
    assert cluster.height(1) > start
    tn.stop_node(node)
    shutil.rmtree(node.data_dir)
    shutil.copytree(backup, node.data_dir)
    done = subprocess.run([*tn.ledgr_command(), "node", "run", "--config", node.config],
                          capture_output=True, text=True, timeout=60,
                          env={**os.environ, "LEDGR_LOG_FORMAT": "json"})
    assert done.returncode != 0
    last_line = done.stderr.strip().splitlines()[-1]
    assert last_line.startswith("error: double-sign guard"), done.stderr[-2000:]
    shutil.rmtree(node.data_dir)
    cluster.restart(1)
    cluster.wait(lambda: cluster.height(1) >= cluster.height(0) > 0, 60, "node1 to rejoin after a wipe")


async def _double_sign(cluster: Cluster, height_of: Any, rounds: int) -> None:
    """A second holder of node0's key (the cloned-validator fault) connects to node1 and node2 and
    sends two conflicting signed prevotes for the height they are about to run, until one of them
    has detected the equivocation."""
    key = tn.validator_key(cluster.nodes[0])
    members = cluster.genesis.validator_set.validators
    index = next(i for i, v in enumerate(members) if v.node_key == key.public_key)
    others = {v.node_key.multikey: v.name for v in members if v.node_key != key.public_key}
    peers = tuple(PeerConfig(url=f"ws://127.0.0.1:{n.p2p_port}/p2p", public_key=k)
                  for k, name in others.items() for n in cluster.nodes if n.name == name)
    # outside the set it passes to its own transport, it dials both peers at once
    network = PeerNetwork(cluster.genesis.chain_id, key, set(others), peers,
                          P2PConfig(port=tn.free_base_port(1)), lambda *_: None, NodeMetrics())
    signer = Ed25519Signer(key)
    await network.start()
    try:
        for _ in range(rounds):
            height = height_of() + 1
            for value in (os.urandom(32), os.urandom(32)):
                vote = Vote(VoteType.PREVOTE, height, 0, value, -1, index)
                network.broadcast(KIND_CONSENSUS, encode_message(vote.signed(signer.sign_vote(
                    cluster.genesis.chain_id, vote))))
            await asyncio.sleep(0.5)
            seen = [cluster.status(i)["evidence"] for i in (1, 2)]
            if any(e["uncommitted"]["count"] or e["count"] for e in seen):
                return
    finally:
        await network.close()
    raise AssertionError("no node detected the conflicting votes")


def test_a_double_signing_key_is_recorded_on_the_ledger_and_reported_by_every_node(cluster: Cluster) -> None:
    culprit = tn.validator_key(cluster.nodes[0]).public_key.multikey
    cluster.wait(lambda: all(not cluster.status(i)["catching_up"] for i in range(3)), 30, "a settled cluster")
    asyncio.run(_double_sign(cluster, lambda: max(cluster.height(i) for i in (1, 2)), rounds=40))

    def committed_everywhere() -> bool:
        return all(cluster.status(i)["evidence"]["count"] >= 1 for i in range(3))

    cluster.wait(committed_everywhere, 30, "the evidence to be committed and seen by every node")
    for i in range(3):
        evidence = cluster.status(i)["evidence"]
        assert {e["validator"] for e in evidence["recent"]} == {culprit}
        assert evidence["recent"][0]["validator_name"] == "node0"
        assert evidence["uncommitted"]["count"] == 0
        metrics = urllib.request.urlopen(f"{cluster.urls[i]}/metrics", timeout=5).read().decode()
        assert f'ledgr_equivocation_evidence_total{{validator="{culprit}"}}' in metrics
    ident = cluster.status(1)["evidence"]["recent"][0]["id"]
    answer = get_json(f"{cluster.urls[2]}/v1/state/evidence/{ident}?proof=true")
    certified = verify_state_answer(answer, cluster.genesis.validator_set)
    record = json.loads(certified.values["evidence"] or b"null")
    assert record["validator"] == culprit and record["kind"] == "equivocation"
    logged = [json.loads(line) for line in Path(cluster.nodes[1].log).read_text().splitlines()
              if "equivocation_evidence_committed" in line]
    assert logged and logged[0]["level"] == "error" and logged[0]["validator"] == culprit
    # the network keeps committing after the accusation (it is the operators' call, not the code's)
    height = cluster.height(0)
    _did, envelope = create_did(PrivateKey.generate(), cluster.genesis.chain_id, height)
    receipt = post_op(cluster.urls[0], envelope)
    assert get_json(f"{cluster.urls[0]}/v1/operations/{receipt['hash']}?wait=10")["status"] == "committed"
