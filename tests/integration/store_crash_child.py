"""Child process of the store crash test: apply real blocks forever, acknowledge each durable commit.

Run as ``python -m tests.integration.store_crash_child DATA_DIR --seed N``. It opens the store (the
open-time integrity check runs), initialises genesis if the store is new, prints ``ready <height>``,
then loops: build the next block from the store (signed did.create / did.update operations, executed
with the SMT, a QC signed by a quorum of the genesis validators), print ``c <height>``, commit it in
one durable transaction, and only then print ``<height> <block hash hex>``. The parent kills it with SIGKILL.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ledgr.ledger.genesis import Genesis
from ledgr.store import Store
from tests.unit.store.workload import DidWorkload


def workload_for_seed(seed: int) -> DidWorkload:
    return DidWorkload.for_seed(f"crash-{seed}")


def genesis_for_seed(seed: int) -> Genesis:
    return workload_for_seed(seed).genesis


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("data_dir", type=Path)
    parser.add_argument("--seed", type=int, required=True)
    parser.add_argument("--ops-per-block", type=int, default=20)
    parser.add_argument("--max-height", type=int, default=1_000_000)
    args = parser.parse_args()
    workload = workload_for_seed(args.seed)
    out = sys.stdout
    with Store.open(args.data_dir) as store:
        tip = store.tip() or store.initialize_genesis(workload.genesis)
        out.write(f"ready {tip.height}\n")
        out.flush()
        while tip.height < args.max_height:
            with store.snapshot() as view:
                block, qc, result = workload.next_block(view, args.ops_per_block)
            if not result.all_accepted:
                raise SystemExit(f"block {block.height} rejected an operation: {result.receipts}")
            out.write(f"c {block.height}\n")  # a kill from here to the ack lands inside the commit
            out.flush()
            tip = store.commit_block(block, qc, result)
            out.write(f"{tip.height} {tip.block_hash.hex()}\n")
            out.flush()


if __name__ == "__main__":
    main()
