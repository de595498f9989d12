"""State sync with real processes (issue 7 "Growth"): a new node installs a verified snapshot
instead of replaying blocks, survives SIGKILL in the middle of the download, then follows the chain
by block sync and serves certified reads of state written before its snapshot; with back-fill on it
then fetches the history below its snapshot in the background, survives SIGKILL in the middle of
that too, and serves every block afterwards."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ledgr.ledger.formats import Block
from ledgr.ledger.genesis import Genesis
from ledgr.node import testnet as tn
from ledgr.node.certified import verify_state_answer
from ledgr.node.loadgen import presign, run_rate
from ledgr.node.testnet_join import add_node
from ledgr.store import keys
from ledgr.store.env import BLOCKS
from ledgr.store.store import Store
from ledgr.store.verify import verify_ledger
from tests.integration.growth_ports import free_base_port

pytestmark = [pytest.mark.integration, pytest.mark.timeout(300)]

DIDS = 1500
CHUNK_ENTRIES = 50


def get_json(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=10) as response:
        return json.loads(response.read())


def log_events(node: tn.TestnetNode) -> list[dict[str, Any]]:
    out = []
    for line in Path(node.log).read_text(errors="replace").splitlines():
        try:
            out.append(json.loads(line))
        except ValueError:
            continue
    return out


def wait(predicate: Any, timeout_s: float, what: str, step_s: float = 0.2) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            if predicate():
                return
        except (OSError, urllib.error.URLError, KeyError):
            pass
        time.sleep(step_s)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture(scope="module")
def net(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, list[tn.TestnetNode], Genesis]]:
    directory = tmp_path_factory.mktemp("statesync") / "net"
    base = free_base_port(4)
    nodes = tn.up(directory, 3, base, timeout_s=60, consensus={"heartbeat_ms": 300})
    genesis = Genesis.from_json(json.loads((directory / "genesis.json").read_text()))
    try:
        yield directory, nodes, genesis
    finally:
        tn.stop_nodes(nodes)


def test_new_node_state_syncs_resumes_after_sigkill_and_follows(
        net: tuple[Path, list[tn.TestnetNode], Genesis]) -> None:
    directory, nodes, genesis = net
    height = int(get_json(f"{nodes[0].url}/v1/status")["height"])
    envelopes = presign(DIDS, genesis.chain_id, height)
    result = asyncio.run(run_rate([n.url for n in nodes], envelopes, 400.0))
    assert len(result.committed) == DIDS
    wait(lambda: get_json(f"{nodes[0].url}/v1/status")["height"] >= 20, 30, "20 heights")
    new = add_node(directory, nodes, nodes[:3], nodes[2].api_port + 2, role="observer",
                   sync={"state_sync_min_heights": 10, "state_sync_chunk_entries": CHUNK_ENTRIES,
                         "backfill": False})
    tn.start_node(new)
    wait(lambda: any(e.get("event") == "state_sync_progress" and e.get("phase") == "entries"
                     for e in log_events(new)), 60, "the entry download to start", step_s=0.02)
    assert new.pid is not None
    os.kill(new.pid, signal.SIGKILL)
    tn.stop_node(new)
    assert not any(e.get("event") == "state_sync_done" for e in log_events(new))
    wait(lambda: tn.port_free(new.api_port) and tn.port_free(new.p2p_port), 15, "the killed node's ports")
    tn.start_node(new)
    wait(lambda: any(e.get("event") == "state_sync_done" for e in log_events(new)), 90,
         "state sync to finish")
    events = log_events(new)
    assert any(e.get("event") == "state_sync_resumed" for e in events)
    done = next(e for e in events if e.get("event") == "state_sync_done")
    anchor = int(done["height"])
    assert done["entries"] >= 2 * DIDS  # a head and a version per DID, plus chain and validators
    # no block before the anchor was replayed: state sync, not block sync; back-fill is off
    with pytest.raises(urllib.error.HTTPError):
        get_json(f"{new.url}/v1/blocks/1")
    assert get_json(f"{new.url}/v1/status")["backfill"]["state"] == "off"
    # it follows the chain by block sync from the anchor and agrees with the validators
    tip = int(get_json(f"{nodes[0].url}/v1/status")["height"])
    wait(lambda: get_json(f"{new.url}/v1/status")["height"] >= max(tip, anchor + 1), 30,
         "block sync after the anchor")
    at = int(get_json(f"{new.url}/v1/status")["height"])
    assert get_json(f"{new.url}/v1/blocks/{at}")["hash"] == get_json(f"{nodes[1].url}/v1/blocks/{at}")["hash"]
    for record in result.committed[:: DIDS // 10]:
        answer = get_json(f"{new.url}/v1/state/did/{record.did}?proof=true")
        state = verify_state_answer(answer, genesis.validator_set)
        assert state.values["head"] is not None


def metric(url: str, name: str) -> float:
    with urllib.request.urlopen(f"{url}/metrics", timeout=10) as response:
        for line in response.read().decode().splitlines():
            if line.startswith(name + " "):
                return float(line.split()[1])
    raise AssertionError(f"no metric {name}")


def test_history_below_the_snapshot_is_back_filled_and_resumes_after_sigkill(
        net: tuple[Path, list[tn.TestnetNode], Genesis]) -> None:
    directory, nodes, genesis = net
    wait(lambda: get_json(f"{nodes[0].url}/v1/status")["height"] >= 30, 30, "30 heights")
    new = add_node(directory, nodes, nodes[:3], nodes[2].api_port + 6, role="observer",
                   sync={"state_sync_min_heights": 10, "batch_blocks": 3, "backfill_pause_ms": 150})
    tn.start_node(new)
    wait(lambda: any(e.get("event") == "backfill_progress" for e in log_events(new)), 60,
         "the back-fill to store its first batch", step_s=0.02)
    assert new.pid is not None
    os.kill(new.pid, signal.SIGKILL)
    tn.stop_node(new)
    events = log_events(new)
    anchor = int(next(e for e in events if e.get("event") == "state_sync_done")["height"])
    stored_to = max(int(e["stored_to"]) for e in events if e.get("event") == "backfill_progress")
    assert not any(e.get("event") == "backfill_done" for e in events)
    assert stored_to < anchor - 1, "the kill came too late to interrupt the back-fill"
    wait(lambda: tn.port_free(new.api_port) and tn.port_free(new.p2p_port), 15, "the killed node's ports")
    tn.start_node(new)
    wait(lambda: get_json(f"{new.url}/v1/status")["backfill"]["state"] == "done", 60,
         "the back-fill to finish")
    events = log_events(new)
    resumed = next(e for e in events if e.get("event") == "backfill_resumed")
    assert 1 < int(resumed["from_height"]) <= stored_to + 1  # it went on from the last stored batch
    assert sum(e.get("event") == "state_sync_done" for e in events) == 1  # the snapshot was kept
    history_ops: list[tuple[int, int, str]] = []
    for height in range(1, anchor + 1):
        mine = get_json(f"{new.url}/v1/blocks/{height}")
        theirs = get_json(f"{nodes[0].url}/v1/blocks/{height}")
        assert mine["hash"] == theirs["hash"]  # QCs may differ: any quorum of precommits certifies
        assert (mine["qc"]["height"], mine["qc"]["block_hash"]) == (height, mine["hash"])
        history_ops += [(height, index, op) for index, op in enumerate(mine["operations"])]
    # operations committed below the snapshot are indexed as they are back-filled: their receipts
    # (location, header, QC, inclusion proof) are served like any other committed operation's
    assert len(history_ops) >= 100, "the earlier test's DIDs should lie below the snapshot"
    for height, index, op in history_ops[:: max(1, len(history_ops) // 25)]:
        receipt = get_json(f"{new.url}/v1/operations/{op}")
        assert receipt["status"] == "committed"
        assert (receipt["height"], receipt["index"]) == (height, index)
        assert receipt["inclusion_proof"]["tree_size"] == len(get_json(f"{new.url}/v1/blocks/{height}")
                                                              ["operations"])
        assert receipt["qc"]["block_hash"] == receipt["block_hash"]
    status = get_json(f"{new.url}/v1/status")["backfill"]
    assert (status["anchor"], status["remaining_blocks"]) == (anchor, 0)
    assert metric(new.url, "ledgr_backfill_remaining_blocks") == 0
    assert metric(new.url, "ledgr_backfill_refused_total") == 0
    # consensus and serving went on meanwhile: the node follows the chain
    tip = int(get_json(f"{nodes[0].url}/v1/status")["height"])
    wait(lambda: get_json(f"{new.url}/v1/status")["height"] >= tip, 30, "the node to follow the tip")
    tn.stop_node(new)
    # the back-filled store re-verifies from genesis, operation index included
    report = verify_ledger(new.data_dir, genesis)
    assert report.height >= tip and report.operations >= len(history_ops)


def stored_block(data_dir: str, height: int, replace_with: bytes | None = None) -> Block:
    """Block ``height`` as stored (the node stopped); with ``replace_with``, store those bytes instead."""
    with Store.open(data_dir) as store:
        raw = store.read(lambda view: view.block_bytes(height))
        assert raw is not None
        if replace_with is not None:
            store._write(lambda txn: txn.put(keys.height_key(height), replace_with, db=store._dbs[BLOCKS]))
    return Block.decode(bytes(raw))


def test_a_forged_history_block_from_a_peer_is_refused_and_the_real_one_taken_later(
        net: tuple[Path, list[tn.TestnetNode], Genesis]) -> None:
    directory, nodes, _genesis = net
    liar = nodes[2]
    height = next(h for h in range(1, 60) if get_json(f"{nodes[0].url}/v1/blocks/{h}")["operation_count"])
    tn.stop_node(liar)
    real = stored_block(liar.data_dir, height)
    tampered = bytearray(real.operations[0])
    tampered[-1] ^= 1  # one bit of one operation: the header and its QC stay genuine
    forged = Block(real.header, (bytes(tampered), *real.operations[1:]))
    stored_block(liar.data_dir, height, forged.encode())
    tn.start_node(liar)
    new = add_node(directory, nodes, [liar], nodes[2].api_port + 10, role="observer",
                   sync={"state_sync_min_heights": 10, "backfill_pause_ms": 20})
    tn.start_node(new)
    wait(lambda: any(e.get("event") == "backfill_block_refused" for e in log_events(new)), 60,
         "the forged block to be refused")
    refused = next(e for e in log_events(new) if e.get("event") == "backfill_block_refused")
    assert int(refused["height"]) == height and "tx_root" in refused["error"]
    assert metric(new.url, "ledgr_backfill_refused_total") >= 1
    status = get_json(f"{new.url}/v1/status")["backfill"]
    assert status["state"] == "running" and status["next_height"] == height  # nothing stored past it
    with pytest.raises(urllib.error.HTTPError):
        get_json(f"{new.url}/v1/blocks/{height}")
    # the peer serves the real block again: the back-fill goes on from there and finishes
    tn.stop_node(liar)
    stored_block(liar.data_dir, height, real.encode())
    tn.start_node(liar)
    wait(lambda: get_json(f"{new.url}/v1/status")["backfill"]["state"] == "done", 60,
         "the back-fill to finish")
    assert get_json(f"{new.url}/v1/blocks/{height}")["hash"] == real.hash().hex()
    tn.stop_node(new)
