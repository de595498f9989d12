"""Per-operation ledger cost with and without the memos of pure work (``ledgr.ledger.memo``).

What a node does per operation: an entry (or forwarded-operation) check against committed state,
then building or re-executing the block that holds it. Measured in one process on an in-memory
state, 1,000 fresh ``did.create`` operations per block:

* cold: ``execute_block`` with empty memos (what every validation cost before the memos);
* check: ``check_operation`` of each operation (fills the memos, off the critical path in a node);
* warm: ``execute_block`` after those checks (the critical path of a height now).

Run from the repository root:  python -m bench.ledger_memo [--ops 1000] [--repeat 5]
"""

from __future__ import annotations

import argparse
import shlex
import statistics
import sys
import time

from ledgr.ledger import memo
from ledgr.ledger.execute import check_operation, execute_block
from ledgr.ledger.genesis import genesis_writes
from ledgr.ledger.state import MemoryState, read_tip
from tests.unit.store.workload import BLOCK_INTERVAL_MS, GENESIS_MS, DidWorkload


def main(ops: int, repeat: int) -> None:
    cold, check, warm = [], [], []
    for round_ in range(repeat):
        workload = DidWorkload.for_seed(f"memo-bench-{round_}", max_block_ops=ops)
        state = MemoryState()
        writes, nodes, _root = genesis_writes(workload.genesis)
        state.apply_writes(writes, nodes)
        block, _result = workload.build(state, [workload.create(1, i) for i in range(ops)])
        memo.clear()
        started = time.perf_counter()
        execute_block(state, block)
        cold.append((time.perf_counter() - started) / ops)
        memo.clear()
        height = read_tip(state).height + 1
        started = time.perf_counter()
        for envelope in block.operations:
            check_operation(state, envelope, height=height, time_ms=GENESIS_MS + height * BLOCK_INTERVAL_MS)
        check.append((time.perf_counter() - started) / ops)
        started = time.perf_counter()
        result = execute_block(state, block)
        warm.append((time.perf_counter() - started) / ops)
        assert result.app_root == block.header.app_root
    for name, values in (("execute, cold memos", cold), ("check (fills memos)", check),
                         ("execute, warm memos", warm)):
        print(f"{name:>22}: median {1000 * statistics.median(values):.3f} ms/op, "
              f"best {1000 * min(values):.3f} ms/op over {repeat} blocks of {ops}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ops", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=5)
    arguments = parser.parse_args()
    print("command:", shlex.join([sys.executable, "-m", "bench.ledger_memo", *sys.argv[1:]]), flush=True)
    main(arguments.ops, arguments.repeat)
