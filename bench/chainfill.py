"""Offline chain fill for benchmarks: a long, valid chain for a local testnet whose keys the bench owns.

Filling a testnet through consensus runs at a few hundred operations per second on a shared
2-core machine (a million DIDs would take about an hour), so the catch-up and state-sync benchmarks
build the chain offline instead — with exactly the parts a running network uses:

* operations are real ``did.create`` envelopes (``ledgr.node.authoring.create_did``: a fresh key
  each, Ed25519-signed, valid for the 1000 heights after the one before their block), signed in
  ``--sign-procs`` spawned processes while the main process executes;
* each block is built by the ledger's own proposer path (``ledgr.ledger.execute.build_block`` over a
  snapshot of the store, the proposer of round 0 at that height), and every operation must be
  accepted;
* its QC is what consensus produces: a quorum of PRECOMMIT votes signed by the validators' own
  keys through the node's signer (``ledgr.node.bridge.NodeSigner``, the ledger's precommit
  sign-bytes), assembled by the consensus core (``ledgr.consensus.qc.build_qc``) and converted by
  the node (``bridge.ledger_qc``) — byte for byte the QC a decided height carries;
* the block, QC and execution result go into every validator's store through the store's ordinary
  durable commit (``Store.commit_block``), so all validators hold the same chain of height H and,
  once started, continue at H + 1 by consensus.

Nothing is skipped that a verifier checks: ``ledgr ledger verify`` re-verifies the filled stores
from genesis, and a joining node verifies every QC and re-executes every block.

Use it on a testnet created with ``ledgr.node.testnet.create`` (keys in ``DIR/node*/validator.key``)
before its nodes are first started; :func:`fill` returns some of the DIDs it created.

Run alone:  .venv/bin/python bench/chainfill.py --dids 100000 [--block-ops 500] [--dir DIR]
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import gc
import json
import multiprocessing
import shlex
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

from ledgr.consensus.messages import NIL_ROUND, Vote, VoteType
from ledgr.consensus.qc import build_qc
from ledgr.crypto import PrivateKey
from ledgr.ledger.execute import build_block
from ledgr.ledger.formats import QuorumCertificate as LedgerQC
from ledgr.ledger.genesis import Genesis, genesis_writes
from ledgr.node import bridge
from ledgr.node import testnet as tn
from ledgr.node.authoring import create_did
from ledgr.node.loadgen import presign, run_rate
from ledgr.node.workers import GC_THRESHOLDS
from ledgr.store.store import Store


def _sign_block(job: tuple[str, int, int]) -> list[tuple[str, bytes]]:
    """The ``count`` did.create envelopes for block ``height`` (signed for the height before it)."""
    chain_id, height, count = job
    return [create_did(PrivateKey.generate(), chain_id, height - 1) for _ in range(count)]


@dataclasses.dataclass
class FillResult:
    height: int
    operations: int
    seconds: float
    sample_dids: list[str]


def _quorum_qc(keys: list[PrivateKey], quorum: int, chain_id: str, height: int,
               block_hash: bytes, proposer_index: int) -> LedgerQC:
    """Precommits of ``quorum`` validators (the proposer and the next ones), as consensus builds them."""
    votes = []
    for offset in range(quorum):
        index = (proposer_index + offset) % len(keys)
        unsigned = Vote(VoteType.PRECOMMIT, height, 0, block_hash, NIL_ROUND, index)
        signature = bridge.NodeSigner(keys[index]).sign_vote(chain_id, unsigned)
        votes.append(dataclasses.replace(unsigned, signature=signature))
    return bridge.ledger_qc(build_qc(votes), len(keys))


def _blocks(chain_id: str, dids: int, block_ops: int, procs: int) -> Iterator[list[tuple[str, bytes]]]:
    jobs = [(chain_id, 1 + i, min(block_ops, dids - i * block_ops))
            for i in range((dids + block_ops - 1) // block_ops)]
    if procs <= 0:
        yield from map(_sign_block, jobs)
        return
    with multiprocessing.get_context("spawn").Pool(procs) as pool:
        yield from pool.imap(_sign_block, jobs, chunksize=1)


def fill(directory: Path, dids: int, block_ops: int = 500, sign_procs: int = 1,
         progress: bool = True) -> FillResult:
    """Build ``dids`` did.create operations into blocks 1.. of every validator store under ``directory``."""
    nodes = tn.load_manifest(directory)
    genesis = Genesis.from_json(json.loads((directory / "genesis.json").read_text()))
    members = genesis.validator_set.validators
    by_public = {tn.validator_key(n).public_key.raw: tn.validator_key(n) for n in nodes}
    keys = [by_public[v.node_key.raw] for v in members]  # in validator-set order
    quorum = genesis.validator_set.quorum
    block_ops = min(block_ops, int(genesis.params["max_block_ops"]))
    stores = []
    for node in nodes:
        store = Store.open(node.data_dir)
        if store.tip() is not None:
            store.close()
            raise SystemExit(f"{node.data_dir} already holds a chain; fill a testnet before its first start")
        writes, smt_nodes, root = genesis_writes(genesis)  # as Chain.open initialises a node's store
        store.initialize(genesis_hash=genesis.hash(), chain_id=genesis.chain_id, state_writes=writes,
                         smt_nodes=smt_nodes, app_root=root)
        stores.append(store)
    gc.set_threshold(*GC_THRESHOLDS)  # as in the node's ledger worker, which executes blocks
    started = time.monotonic()
    samples: list[str] = []
    done_ops = 0
    height = 0
    prev_hash = genesis.hash()
    prev_time_ms = genesis.genesis_time_ms
    try:
        with ThreadPoolExecutor(len(stores)) as committers:
            behind: list[Future[Any]] = []
            for signed in _blocks(genesis.chain_id, dids, block_ops, sign_procs):
                height += 1
                proposer_index = height % len(keys)  # round 0 (ConsensusCore's (height + round) % n)
                time_ms = max(prev_time_ms + 1, time.time_ns() // 1_000_000)
                proposer = keys[proposer_index].public_key.raw
                with stores[0].snapshot() as view:
                    block, result = build_block(view, chain_id=genesis.chain_id, height=height,
                                                time_ms=time_ms, prev_hash=prev_hash, proposer=proposer,
                                                operations=[e for _did, e in signed])
                if len(block.operations) != len(signed):
                    refused = len(signed) - len(block.operations)
                    raise SystemExit(f"block {height}: the ledger refused {refused} pre-signed operations")
                qc = _quorum_qc(keys, quorum, genesis.chain_id, height, block.hash(), proposer_index)
                for future in behind:  # the other stores may trail store 0 by one block, no more
                    future.result()
                stores[0].commit_block(block, qc, result)
                behind = [committers.submit(s.commit_block, block, qc, result) for s in stores[1:]]
                prev_hash, prev_time_ms = block.hash(), time_ms
                done_ops += len(block.operations)
                samples.extend(did for did, _e in signed[:: max(1, len(signed) // 4)])
                if progress and height % 100 == 0:
                    rate = done_ops / (time.monotonic() - started)
                    print(f"  filled {height} blocks, {done_ops} ops ({rate:.0f} ops/s)", flush=True)
            for future in behind:
                future.result()
    finally:
        for store in stores:
            store.close()
    return FillResult(height, done_ops, time.monotonic() - started, samples)




def height_of(url: str) -> int:
    status = tn.status_of(url, 10)
    return -1 if status is None else int(status["height"])


def verify_stores(directory: Path) -> list[str]:
    """Run ``ledgr ledger verify`` on every validator store; return the command lines run."""
    commands = []
    for node in tn.load_manifest(directory):
        command = [*tn.ledgr_command(), "ledger", "verify", "--data-dir", node.data_dir,
                   "--genesis", str(directory / "genesis.json")]
        done = subprocess.run(command, capture_output=True, text=True)
        if done.returncode != 0:
            tail = (done.stdout + done.stderr)[-800:]
            raise SystemExit(f"ledger verify failed for {node.name}: {tail}")
        commands.append(shlex.join(command))
    return commands


def check_resumes(directory: Path, filled_height: int, writes: int = 50) -> str:
    """Start the filled testnet, commit ``writes`` new did.create and stop it; a one-line summary."""
    nodes = tn.up(directory, 3, timeout_s=120)
    try:
        chain_id = Genesis.from_json(json.loads((directory / "genesis.json").read_text())).chain_id
        envelopes = presign(writes, chain_id, max(height_of(n.url) for n in nodes))
        written = asyncio.run(run_rate([n.url for n in nodes], envelopes, 50.0, wait_s=60))
        after = min(height_of(n.url) for n in nodes)
    finally:
        tn.stop_nodes(nodes)
    if len(written.committed) != writes or after <= filled_height:
        raise SystemExit(f"the filled testnet did not commit new writes ({len(written.committed)}/{writes}, "
                         f"height {after})")
    return (f"the testnet resumed at height {filled_height}: {writes}/{writes} new did.create committed, "
            f"every node at height >= {after}")


def main(args: argparse.Namespace) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="ledgr-chainfill-") as tmp:
        directory = Path(args.dir) if args.dir else Path(tmp) / "net"
        tn.create(directory, 3, tn.free_base_port(3), consensus={"heartbeat_ms": 2000})
        result = fill(directory, args.dids, args.block_ops, args.sign_procs)
        rate = result.operations / result.seconds
        print(f"filled {result.operations} did.create into {result.height} blocks in {result.seconds:.1f} s "
              f"({rate:.0f} ops/s)", flush=True)
        verifying = time.monotonic()
        commands = verify_stores(directory)
        print(f"ledger verify passed on {len(commands)} stores in {time.monotonic() - verifying:.1f} s "
              f"(e.g. {commands[0]})", flush=True)
        print(check_resumes(directory, result.height), flush=True)
    return {"height": result.height, "operations": result.operations, "seconds": result.seconds}


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dids", type=int, default=100_000)
    parser.add_argument("--block-ops", type=int, default=500)
    parser.add_argument("--sign-procs", type=int, default=1, help="signing processes (0: sign inline)")
    parser.add_argument("--dir", help="testnet directory to create (default: a temporary one)")
    print("command:", shlex.join([sys.executable, *sys.argv]), flush=True)
    main(parser.parse_args())
