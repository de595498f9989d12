"""Three real node processes, a fault proxy on every peer link, a recorded client workload
(issue 7 "Faults and histories"; consensus.md §4.3–4.7).

Every scenario runs the workload (concurrent compare-and-set DID writes and certified single-node
reads through all nodes) while faults are applied, then heals everything and checks:
- all nodes converge to the same blocks and ``app_root`` (no fork);
- every unknown write is settled, the final state read from every node agrees;
- the history is linearizable per DID; certified reads obey the weaker single-node property.

One cluster for the module; scenarios run in file order and leave it healed.
"""

from __future__ import annotations

import asyncio
import json
import os
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from ledgr.crypto import PrivateKey, sha256
from ledgr.ledger.formats import Header, QuorumCertificate, verify_qc
from ledgr.node import testnet as tn
from ledgr.node.authoring import create_did, did_template, document_for, update_did
from tests.faults.cluster import FaultCluster
from tests.faults.history import OK, WRITE, History
from tests.faults.linearizability import check
from tests.faults.proxy import Faults
from tests.faults.workload import Workload, WorkloadThread
from tests.integration.test_statesync import metric

pytestmark = [pytest.mark.integration, pytest.mark.timeout(240)]

SEED = int(os.environ.get("LEDGR_FAULT_SEED", "20261125"))
ALL = [0, 1, 2]


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FaultCluster]:
    net = FaultCluster(tmp_path_factory.mktemp("faults") / "net", count=3, seed=SEED)
    try:
        net.start()
        yield net
    finally:
        net.stop()


def run_scenario(cluster: FaultCluster, seed: int, body: Callable[[], None], tmp_path: Path) -> History:
    """Run ``body`` under the workload, heal, converge, settle and check the history."""
    workload = Workload(cluster.urls, cluster.genesis, seed)  # type: ignore[arg-type]
    thread = WorkloadThread(workload).start()
    try:
        body()
    finally:
        cluster.faults.clear()
        for i in list(cluster.paused):
            cluster.resume(i)
        history = thread.stop()
    history.save(tmp_path / "history.jsonl")
    cluster.wait_converged(60)
    asyncio.run(workload.settle())
    final = asyncio.run(workload.final_state())
    violations = check(history, final=final)
    assert not violations, (f"{len(violations)} violations (history in {tmp_path}): "
                            + "; ".join(f"{v.kind} {v.key}: {v.detail}" for v in violations[:5]))
    acked = [op for op in history if op.kind == WRITE and op.status == OK]
    assert acked, "the workload committed nothing"
    return history




def heights(cluster: FaultCluster, nodes: list[int]) -> list[int]:
    return [cluster.height(i) for i in nodes]


@pytest.mark.parametrize(("victim", "mode"), [(0, "stall"), (2, "reject")])
def test_minority_commits_nothing_majority_continues_and_all_converge(
        cluster: FaultCluster, tmp_path: Path, victim: int, mode: str) -> None:
    majority = [i for i in ALL if i != victim]

    def body() -> None:
        time.sleep(2)
        cluster.faults.isolate(cluster.names[victim], mode=mode)
        time.sleep(1)  # messages already in flight may still complete one decision
        frozen = cluster.height(victim)
        before = max(heights(cluster, majority))
        time.sleep(3)
        committed_at = cluster.write_through(majority[0])
        time.sleep(2)
        assert cluster.height(victim) == frozen, "the isolated minority committed a block"
        assert committed_at > before and min(heights(cluster, majority)) > before
        # rounds led by the unreachable node were cut short (ledgr.node.runtime._proposer_silent)
        assert sum(metric(cluster.urls[i], "ledgr_consensus_silent_proposer_rounds_total")
                   for i in majority) > 0
        cluster.faults.heal()
        cluster.wait(lambda: cluster.height(victim) > frozen, 30, "the healed node to catch up")

    run_scenario(cluster, SEED + victim, body, tmp_path)


def test_no_quorum_anywhere_then_heal(cluster: FaultCluster, tmp_path: Path) -> None:
    def body() -> None:
        time.sleep(1)
        cluster.faults.partition({"node0"}, {"node1"}, {"node2"}, mode="stall")
        time.sleep(1)
        frozen = heights(cluster, ALL)
        time.sleep(4)
        assert heights(cluster, ALL) == frozen, "a node committed without a quorum"
        cluster.faults.heal()
        cluster.wait(lambda: min(heights(cluster, ALL)) > max(frozen), 30, "commits to resume")

    run_scenario(cluster, SEED + 10, body, tmp_path)


def test_one_way_cut_does_not_stall_the_network(cluster: FaultCluster, tmp_path: Path) -> None:
    def body() -> None:
        time.sleep(1)
        cluster.faults.cut("node0", "node1")  # node0's messages to node1 are lost; node1 → node0 flows
        start = heights(cluster, ALL)
        time.sleep(4)
        for i in ALL:
            cluster.write_through(i)
        cluster.wait(lambda: all(h >= s + 3 for h, s in zip(heights(cluster, ALL), start, strict=True)),
                     30, "every node to commit 3 more blocks under a one-way cut")
        stats = cluster.faults.stats()
        assert stats["node0->node1:cut"] > 0 and stats["node1->node0:cut"] == 0

    run_scenario(cluster, SEED + 20, body, tmp_path)


def test_one_way_ring_needs_relay(cluster: FaultCluster, tmp_path: Path) -> None:
    """Each node hears exactly one other: only relayed messages reach everyone."""
    def body() -> None:
        time.sleep(1)
        for src, dst in (("node0", "node1"), ("node1", "node2"), ("node2", "node0")):
            cluster.faults.cut(src, dst)
        start = heights(cluster, ALL)
        time.sleep(4)
        cluster.wait(lambda: min(h - s for h, s in zip(heights(cluster, ALL), start, strict=True)) >= 2,
                     20, "commits under a one-way ring partition")
        for i in ALL:
            cluster.write_through(i)
        stats = cluster.faults.stats()
        assert all(stats[f"{a}->{b}:cut"] > 0 for a, b in (("node0", "node1"), ("node1", "node2"),
                                                           ("node2", "node0")))

    run_scenario(cluster, SEED + 30, body, tmp_path)


def test_noisy_links_delay_drop_duplicate_reorder_reset(cluster: FaultCluster, tmp_path: Path) -> None:
    noise = Faults(delay_ms=2, jitter_ms=15, drop=0.05, duplicate=0.05, reorder=0.05, reorder_ms=30,
                   reset=0.002)

    def body() -> None:
        cluster.faults.set_default(noise)
        start = heights(cluster, ALL)
        time.sleep(8)
        for i in ALL:
            cluster.write_through(i)
        cluster.wait(lambda: min(h - s for h, s in zip(heights(cluster, ALL), start, strict=True)) >= 5,
                     45, "5 blocks on every node over noisy links")
        stats = cluster.faults.stats()
        assert sum(v for k, v in stats.items() if k.endswith(":dropped")) > 0
        assert sum(v for k, v in stats.items() if k.endswith(":duplicated")) > 0

    run_scenario(cluster, SEED + 40, body, tmp_path)


def test_long_isolation_with_restart_rejoins_by_catch_up(cluster: FaultCluster, tmp_path: Path) -> None:
    victim = 1
    measured: dict[str, float] = {}

    def body() -> None:
        cluster.faults.isolate("node1", mode="reject")
        frozen = cluster.height(victim)
        time.sleep(8)
        cluster.wait(lambda: min(heights(cluster, [0, 2])) >= frozen + 30, 60,
                     "the majority to commit 30 blocks without node1")
        cluster.kill(victim)
        time.sleep(2)
        cluster.restart(victim)
        assert cluster.height(victim) <= frozen + 1
        cluster.faults.heal()
        target = max(heights(cluster, [0, 2]))
        measured["gap"] = target - cluster.height(victim)
        measured["catch_up_s"] = cluster.wait(lambda: cluster.height(victim) >= target, 60,
                                              "node1 to catch up")

    run_scenario(cluster, SEED + 50, body, tmp_path)
    assert measured["gap"] >= 25


def test_paused_node_stalls_and_resumes(cluster: FaultCluster, tmp_path: Path) -> None:
    """SIGSTOP for seconds (a GC pause or a stalled disk): the others go on; it catches up."""
    def body() -> None:
        time.sleep(1)
        cluster.pause(0)
        before = max(heights(cluster, [1, 2]))
        time.sleep(3)
        assert cluster.write_through(1) > before and cluster.write_through(2) > before
        cluster.wait(lambda: min(heights(cluster, [1, 2])) >= before + 3, 30, "commits while node0 is paused")
        cluster.resume(0)
        target = max(heights(cluster, [1, 2]))
        cluster.wait(lambda: cluster.height(0) >= target, 30, "node0 to catch up after the pause")

    run_scenario(cluster, SEED + 60, body, tmp_path)


def test_slow_disk_node_lags_but_the_network_commits_and_converges(cluster: FaultCluster,
                                                                  tmp_path: Path) -> None:
    """node2's every durable write (consensus persists, block commits) waits 40 ms."""
    slow = 2
    log = cluster.set_slow_disk(slow, 40)
    cluster.kill(slow)
    cluster.restart(slow)

    def body() -> None:
        start = heights(cluster, ALL)
        time.sleep(6)
        for i in ALL:
            cluster.write_through(i)
        cluster.wait(lambda: min(h - s for h, s in zip(heights(cluster, ALL), start, strict=True)) >= 3,
                     45, "3 blocks on every node with node2's disk slow")

    try:
        run_scenario(cluster, SEED + 90, body, tmp_path)
        assert "every durable write waits 40 ms" in Path(cluster.nodes[slow].log).read_text()
        assert log.stat().st_size > 20, "the slow-disk fault was not active"
    finally:
        cluster.set_slow_disk(slow, None)
        cluster.kill(slow)
        cluster.restart(slow)
        cluster.wait_converged(60)


def test_peers_over_tls_through_terminating_proxies(tmp_path: Path) -> None:
    """wss:// peer links through TLS-terminating proxies with a private CA (docs/deployment.md §4)."""
    net = FaultCluster(tmp_path / "tls-net", count=3, seed=SEED + 70, tls=True)
    try:
        net.start()
        for i in ALL:
            net.write_through(i)
        net.faults.isolate("node2", mode="reject")
        net.write_through(0)
        net.faults.heal()
        net.wait_converged(30)
        stats = net.faults.stats()
        assert sum(v for k, v in stats.items() if k.endswith(":data")) > 0  # frames seen inside TLS
    finally:
        net.stop()


def test_cloned_validator_forks_n3_and_the_fork_names_only_it(tmp_path: Path) -> None:
    """Over the threshold on purpose (docs/trust.md §4; consensus.md §4.3 "two nodes sharing one key"):
    with n=3, q=2, a second process holding node0's key, split {node0, node1} | {node0b, node2}, lets
    both sides commit. Accountability must hold: the two QCs at the fork height overlap in exactly
    2q−n = 1 signer — node0's key — and never in an honest validator; the checker reports the fork."""
    net = FaultCluster(tmp_path / "clone-net", count=3, seed=SEED + 80)
    try:
        net.start()
        assert net.genesis is not None
        vset = net.genesis.validator_set
        key = PrivateKey.generate()
        template = did_template(key)
        did, create = create_did(key, net.genesis.chain_id, net.height(0), template)
        history = History()
        created = history.invoke("c", WRITE, did, version=sha256(create).hex())
        post_and_wait(net.urls[0], create)
        history.ok(created)
        net.wait(lambda: min(heights(net, ALL)) >= net.height(0), 10, "replication")
        split_height = max(heights(net, ALL))

        clone = net.add_clone(0)
        net.faults.partition({"node0", "node1"}, {"node2", "node0b"}, mode="reject")
        net.faults.retarget("node2", "node0", net.nodes[clone].p2p_port, as_name="node0b")
        tn.start_node(net.nodes[clone])
        net.wait(lambda: net.status(clone) is not None, 30, "the clone to answer")

        for side in (1, 2):
            doc = {**document_for(did, template), "service": [
                {"id": f"{did}#s", "type": "LinkedDomains", "serviceEndpoint": f"https://side{side}.example"}]}
            envelope = update_did(key, did, doc, bytes.fromhex(created.version or ""), net.genesis.chain_id,
                                  net.height(side))
            op = history.invoke(f"side{side}", WRITE, did, version=sha256(envelope).hex(),
                                prev=created.version)
            post_and_wait(net.urls[side], envelope, wait_s=45)
            history.ok(op)

        fork_height = next(h for h in range(split_height, min(heights(net, [1, 2])) + 1)
                           if net.block(1, h)["hash"] != net.block(2, h)["hash"])
        signers = []
        for side in (1, 2):
            block = net.block(side, fork_height)
            header = Header.decode(bytes.fromhex(block["header"]["encoded"]))
            qc = QuorumCertificate.decode(bytes.fromhex(block["qc"]["encoded"]))
            verify_qc(qc, header, vset)  # both sides hold a valid QC: a real fork
            signers.append(set(qc.signer_indexes()))
        culprits = signers[0] & signers[1]
        assert culprits == {0}, f"QC signers {signers}: the overlap must be exactly node0's key"
        assert len(culprits) >= 2 * vset.quorum - vset.size
        assert [v.kind for v in check(history)] == ["fork"]
    finally:
        net.stop()


def post_and_wait(url: str, envelope: bytes, wait_s: float = 20) -> int:
    request = urllib.request.Request(f"{url}/v1/operations", data=envelope, method="POST",
                                     headers={"Content-Type": "application/octet-stream"})
    with urllib.request.urlopen(request, timeout=10) as response:
        op_hash = json.loads(response.read())["hash"]
    deadline = time.monotonic() + wait_s
    while time.monotonic() < deadline:
        with urllib.request.urlopen(f"{url}/v1/operations/{op_hash}?wait=2", timeout=10) as response:
            body = json.loads(response.read())
        if body.get("status") == "committed":
            return int(body["height"])
        assert body.get("status") != "rejected", body
    raise AssertionError(f"{op_hash} not committed through {url} in {wait_s} s")
