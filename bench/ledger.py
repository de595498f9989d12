"""Ledger and store throughput: applied operations/s, proofs/s, state size per million DIDs.

Run from the repository root::

    python -m bench.ledger                 # full run (~2-4 minutes on 2 vCPU)
    python -m bench.ledger --quick         # smaller sizes, for a smoke check

What is measured (one process, one core for the ledger work):

* **applied ops/s** — the validator path for a received block, per block: verify its QC against the
  validator set, ``execute_block`` over a store snapshot (decode every operation, verify its Ed25519
  signature, authorization rules, apply, fold into the sparse Merkle tree), then ``commit_block`` in
  one durable (fsync'd) LMDB transaction. Operations are real signed ``did.create`` / ``did.update``
  (half and half after the first block), built beforehand by a proposer pass that is not timed.
* **bare loop** — Ed25519 verify + LMDB put per operation, one durable commit per 100: the floor.
* **proofs/s** — SMT proof generation from the store (``prove_key`` over a snapshot) and SMT proof
  verification (``verify_proof``), plus full certified-read verification (QC + proof).
* **state size** — bytes on disk after N ``did.create`` operations (data file as used, and a
  compacted copy), extrapolated linearly to one million DIDs.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
import time
from pathlib import Path

import lmdb

from ledgr.crypto import PrivateKey, sha256
from ledgr.ledger.certified import prove_key, verify_certified_read
from ledgr.ledger.execute import execute_block
from ledgr.ledger.formats import Block, QuorumCertificate, verify_qc
from ledgr.ledger.genesis import genesis_writes
from ledgr.ledger.queries import validator_set_for_height
from ledgr.ledger.smt import verify_proof
from ledgr.ledger.state import MemoryState, did_head_key
from ledgr.store import Store
from ledgr.store.env import DB_NAMES
from ledgr.store.reads import latest_block
from tests.unit.store.workload import DidWorkload


def _proposer_chain(workload: DidWorkload, blocks: int, ops: int) -> list[tuple[Block, QuorumCertificate]]:
    """Build ``blocks`` blocks of ``ops`` operations on an in-memory state (not timed)."""
    state = MemoryState()
    writes, nodes, _root = genesis_writes(workload.genesis)
    state.apply_writes(writes, nodes)
    chain = []
    for _ in range(blocks):
        block, qc, result = workload.next_block(state, ops)
        assert result.all_accepted and len(block.operations) == ops
        state.apply(result)
        chain.append((block, qc))
    return chain


def bench_apply(tmp: Path, ops: int, blocks: int) -> dict[str, float]:
    """Validator path over ``blocks`` blocks of ``ops`` ops.

    Returns ops/s over the whole run, at the median block and at the fastest-decile block (wall
    time; the machine is shared, so the fast blocks are closest to the uncontended cost), ops/s of
    process CPU time (excludes time descheduled and waiting for fsync), and the commit's share.
    """
    workload = DidWorkload.for_seed(f"bench-{ops}", max_block_ops=max(ops, 1))
    chain = _proposer_chain(workload, blocks, ops)
    walls: list[float] = []
    commit_s = cpu_s = 0.0
    with Store.open(tmp / f"apply-{ops}") as store:
        store.initialize_genesis(workload.genesis)
        for block, qc in chain:
            started, cpu_started = time.perf_counter(), time.process_time()
            with store.snapshot() as view:
                verify_qc(qc, block.header, validator_set_for_height(view, block.height))
                result = execute_block(view, block)
            assert result.app_root == block.header.app_root and result.all_accepted
            executed = time.perf_counter()
            store.commit_block(block, qc, result)
            done = time.perf_counter()
            walls.append(done - started)
            commit_s += done - executed
            cpu_s += time.process_time() - cpu_started
    walls.sort()
    return {
        "overall": ops * blocks / sum(walls),
        "median": ops / walls[len(walls) // 2],
        "best_decile": ops / walls[len(walls) // 10],
        "cpu": ops * blocks / cpu_s,
        "commit_share": commit_s / sum(walls),
        "ms_per_block": 1000 * sum(walls) / blocks,
    }


def bench_bare_loop(tmp: Path, count: int) -> float:
    """Ed25519 verify + LMDB put per operation, a durable commit per 100 operations."""
    key = PrivateKey.from_seed(sha256(b"bare"))
    messages = [os.urandom(300) for _ in range(count)]
    signed = [(m, key.sign(m)) for m in messages]
    env = lmdb.open(str(tmp / "bare"), map_size=1 << 30, sync=True, metasync=True)
    try:
        started = time.perf_counter()
        for start in range(0, count, 100):
            with env.begin(write=True) as txn:
                for message, signature in signed[start:start + 100]:
                    assert key.public_key.verify(message, signature)
                    txn.put(sha256(message), message)
        return count / (time.perf_counter() - started)
    finally:
        env.close()


def bench_proofs(tmp: Path, dids: int, samples: int) -> dict[str, float]:
    workload = DidWorkload.for_seed("bench-proofs")
    chain = _proposer_chain(workload, max(dids // 1000, 1), min(dids, 1000))
    out: dict[str, float] = {}
    with Store.open(tmp / "proofs") as store:
        store.initialize_genesis(workload.genesis)
        for block, qc in chain:
            with store.snapshot() as view:
                result = execute_block(view, block)
            store.commit_block(block, qc, result)
        rng = random.Random(1)
        heights = [rng.randrange(1, len(chain) + 1) for _ in range(samples)]
        keys = [did_head_key(workload.did_of(h, rng.randrange(0, 500))) for h in heights]
        with store.snapshot() as view:
            latest = latest_block(view)
            assert latest is not None
            started = time.perf_counter()
            proofs = [prove_key(view, key) for key in keys]
            out["prove_per_s"] = samples / (time.perf_counter() - started)
            out["depth"] = sum(len(p.siblings) for _v, p in proofs) / samples
            out["proof_bytes"] = sum(len(p.encode()) for _v, p in proofs) / samples
        root = latest.block.header.app_root
        started = time.perf_counter()
        for key, (value, proof) in zip(keys, proofs, strict=True):
            assert value is not None and verify_proof(root, sha256(key), sha256(value), proof)
        out["verify_per_s"] = samples / (time.perf_counter() - started)
        sub = samples // 10
        started = time.perf_counter()
        for key, (value, proof) in zip(keys[:sub], proofs[:sub], strict=True):
            verify_certified_read(key=key, value=value, smt_proof=proof, header=latest.block.header,
                                  qc=latest.qc, validator_set=workload.validators,
                                  now_ms=latest.block.header.time_ms)
        out["certified_per_s"] = sub / (time.perf_counter() - started)
    return out


def bench_size(tmp: Path, dids: int) -> dict[str, float]:
    """Disk bytes for ``dids`` did.create operations (blocks of 1000) and per-DID extrapolation."""
    workload = DidWorkload.for_seed("bench-size")
    path = tmp / "size"
    started = time.perf_counter()
    with Store.open(path) as store:
        store.initialize_genesis(workload.genesis)
        for height in range(1, dids // 1000 + 1):
            with store.snapshot() as view:
                block, result = workload.build(view, [workload.create(height, i) for i in range(1000)])
            assert result.all_accepted
            store.commit_block(block, workload.qc(block), result)
        used = store.disk_bytes()
        with store.snapshot() as view:
            entries = view.count(b"state")
            nodes = view.count(b"smt")
            by_db = {name.decode(): view.db_bytes(name) for name in DB_NAMES}
        (tmp / "size-compact").mkdir()
        store.copy_to(tmp / "size-compact")
    compact = (tmp / "size-compact" / "data.mdb").stat().st_size
    return {"dids": dids, "used_bytes": used, "compact_bytes": compact, "state_entries": entries,
            "smt_nodes": nodes, "seconds": time.perf_counter() - started,
            **{f"db:{name}": size for name, size in by_db.items() if size}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="small sizes (smoke check)")
    parser.add_argument("--size-dids", type=int, default=None, help="DIDs for the size figure (default 100k)")
    parser.add_argument("--only", choices=("apply", "proofs", "size"), default=None, help="run one part")
    args = parser.parse_args()
    quick = args.quick
    size_dids = args.size_dids or (5_000 if quick else 100_000)
    parts = {args.only} if args.only else {"apply", "proofs", "size"}
    when = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs; {when}")
    with tempfile.TemporaryDirectory(prefix="ledgr-bench-") as tmp_name:
        tmp = Path(tmp_name)
        if "apply" in parts:
            bare = bench_bare_loop(tmp, 2_000 if quick else 10_000)
            print(f"bare loop (Ed25519 verify + LMDB put, durable commit per 100): {bare:,.0f} ops/s")
            for ops, blocks in ((100, 5 if quick else 40), (1000, 2 if quick else 6)):
                r = bench_apply(tmp, ops, blocks)
                print(f"applied, blocks of {ops:>5} ({blocks} blocks, QC + execute + SMT + durable commit): "
                      f"{r['overall']:,.0f} ops/s overall ({r['ms_per_block']:.1f} ms/block), "
                      f"{r['median']:,.0f} at the median block, {r['best_decile']:,.0f} at the fastest "
                      f"decile; {r['cpu']:,.0f} ops per CPU-second; commit {100 * r['commit_share']:.0f} % "
                      "of wall time")
        if "proofs" in parts:
            proofs = bench_proofs(tmp, 2_000 if quick else 20_000, 2_000 if quick else 20_000)
            print(f"SMT proof generation: {proofs['prove_per_s']:,.0f}/s  (mean depth {proofs['depth']:.1f}, "
                  f"{proofs['proof_bytes']:.0f} B)")
            print(f"SMT proof verification: {proofs['verify_per_s']:,.0f}/s")
            print(f"certified read verification (QC + proof): {proofs['certified_per_s']:,.0f}/s")
        if "size" in parts:
            size = bench_size(tmp, size_dids)
            per_million = 1_000_000 / size["dids"]
            print(f"state size after {size['dids']:,.0f} did.create: {size['used_bytes'] / 2**20:,.1f} MiB "
                  f"used, {size['compact_bytes'] / 2**20:,.1f} MiB compacted ({size['state_entries']:,.0f} "
                  f"state entries, {size['smt_nodes']:,.0f} SMT nodes; {size['seconds']:.0f} s)")
            parts_mib = ", ".join(f"{key[3:]} {value / 2**20:,.0f} MiB" for key, value in size.items()
                                  if key.startswith("db:"))
            print(f"  pages per database: {parts_mib}")
            how = ("measured" if size["dids"] == 1_000_000
                   else f"linear extrapolation from {size['dids']:,.0f}")
            print(f"  -> per million DIDs ({how}): {size['used_bytes'] * per_million / 2**30:,.2f} GiB used, "
                  f"{size['compact_bytes'] * per_million / 2**30:,.2f} GiB compacted")
    flags = " ".join(arg for arg in sys.argv[1:])
    print(f"command: python -m bench.ledger {flags}".rstrip())


if __name__ == "__main__":
    main()
