"""Crash test with real processes: SIGKILL a block-applying child at random moments, check the store.

The child (``tests/integration/store_crash_child.py``) applies real blocks to an LMDB store and
prints ``<height> <block hash hex>`` after each durable commit. The parent kills it with SIGKILL at
a random moment, then checks that the store:

* opens and passes the open-time integrity check (``Store.open``),
* holds every block the child acknowledged before the kill, with the acknowledged hash,
* holds no partial block: a kill inside a commit (the child prints ``c <height>`` just before
  ``commit_block``; 40 % of kills aim there) leaves that block either wholly present or wholly
  absent; the ledger's own tip record (a state key written by execution) agrees
  with the store's tip, every operation of the tip block is indexed at the tip, and no operation is
  indexed beyond it;

and restarts it. At the end, ``verify_ledger`` re-executes the whole chain and compares the state.

Soak: ``python -m tests.integration.store_crash_soak --kills 50`` (run from the repository root).
"""

from __future__ import annotations

import argparse
import os
import random
import select
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from ledgr.crypto import sha256
from ledgr.ledger.formats import operation_hash
from ledgr.ledger.state import TIP_KEY
from ledgr.ledger.state import Tip as LedgerTip
from ledgr.store import Store
from ledgr.store.reads import load_block

ROOT = Path(__file__).resolve().parents[2]

READY_TIMEOUT_S = 60.0
# every 5 kills: one while starting up, two aimed inside a commit, two at a uniformly random moment
KILL_MODES = ("early", "commit", "random", "commit", "random")
COMMIT_WINDOW_S = 0.004  # a durable commit of a 20-operation block takes ~1-4 ms here


@dataclass
class CrashReport:
    kills: int = 0
    genesis_acked: bool = False
    acked: dict[int, str] = field(default_factory=dict)
    final_height: int = 0
    kill_heights: list[int] = field(default_factory=list)
    unacked_commits: int = 0  # kills that landed after a commit but before its ack was read
    pending: int | None = None  # height whose commit the child announced and has not acked
    in_commit: int = 0  # kills that landed inside a commit window ("c h" seen, no ack for h)
    in_commit_durable: int = 0  # ... of which the block turned out committed (else rolled back)
    elapsed_s: float = 0.0


def _spawn(data_dir: Path, seed: int, ops_per_block: int) -> subprocess.Popen[bytes]:
    cmd = [sys.executable, "-m", "tests.integration.store_crash_child", str(data_dir),
           "--seed", str(seed), "--ops-per-block", str(ops_per_block)]
    return subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def _read_lines(proc: subprocess.Popen[bytes], buffer: bytearray, timeout_s: float) -> list[bytes]:
    """Lines the child printed within ``timeout_s`` (complete lines only; the rest stays buffered)."""
    assert proc.stdout is not None
    fd = proc.stdout.fileno()
    deadline = time.monotonic() + timeout_s
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            break
        ready, _, _ = select.select([fd], [], [], remaining)
        if not ready:
            break
        chunk = os.read(fd, 65536)
        if not chunk:
            break
        buffer.extend(chunk)
        if b"\n" in chunk:
            break
    *lines, rest = bytes(buffer).split(b"\n")
    buffer[:] = rest
    return lines


def _drain(proc: subprocess.Popen[bytes], buffer: bytearray) -> list[bytes]:
    assert proc.stdout is not None
    buffer.extend(proc.stdout.read())
    *lines, rest = bytes(buffer).split(b"\n")
    buffer[:] = rest
    return lines


def _record(lines: list[bytes], report: CrashReport) -> None:
    for line in lines:
        if line.startswith(b"ready"):
            report.genesis_acked = True
            continue
        if line.startswith(b"c "):
            report.pending = int(line[2:])
            continue
        height_text, hash_hex = line.decode("ascii").split()
        report.acked[int(height_text)] = hash_hex
        if report.pending == int(height_text):
            report.pending = None


def check_store(data_dir: Path, acked: dict[int, str], *, genesis_acked: bool) -> int:
    """Open ``data_dir`` and check it against the acknowledged blocks; return the stored height
    (-1: no genesis yet, allowed only if the child never said it was ready)."""
    with Store.open(data_dir) as store, store.snapshot() as view:
        tip = view.tip()
        if tip is None:
            assert not genesis_acked and not acked, "the store lost its genesis"
            return -1
        top = max(acked, default=0)
        assert tip.height >= top, f"acknowledged block {top} is missing; the store's tip is {tip.height}"
        for height, hash_hex in acked.items():
            found = load_block(view, height)
            assert found is not None, f"acknowledged block {height} is missing"
            assert found.block.hash().hex() == hash_hex, f"block {height} differs from the acknowledged one"
        raw = view.get(TIP_KEY)
        assert raw is not None, "the ledger's tip record is missing from state"
        ledger_tip = LedgerTip.decode(raw)
        assert (ledger_tip.height, ledger_tip.block_hash, ledger_tip.app_root) == (
            tip.height, tip.block_hash, tip.app_root), "state and the store's tip disagree: partial block"
        if tip.height > 0:
            latest = load_block(view, tip.height)
            assert latest is not None
            for index, op in enumerate(latest.block.operations):
                location = view.op_location(operation_hash(op))
                assert location is not None and (location.height, location.index) == (tip.height, index)
        stray = view.op_location(sha256(b"never an operation"))
        assert stray is None
        return tip.height


def _stderr(proc: subprocess.Popen[bytes]) -> str:
    return proc.stderr.read().decode(errors="replace") if proc.stderr else ""


def _wait_ready(proc: subprocess.Popen[bytes], buffer: bytearray, report: CrashReport) -> None:
    lines = _read_lines(proc, buffer, READY_TIMEOUT_S)
    while not any(line.startswith(b"ready") for line in lines):
        if proc.poll() is not None:
            raise AssertionError(f"child exited before it was ready: {_stderr(proc)}")
        lines += _read_lines(proc, buffer, READY_TIMEOUT_S)
    _record(lines, report)


def run(data_dir: Path, *, kills: int, seed: int, ops_per_block: int = 20, max_delay_s: float = 0.6,
        log: bool = False) -> CrashReport:
    """Kill the child ``kills`` times at random moments; check the store after each kill."""
    rng = random.Random(seed)
    report = CrashReport()
    started = time.monotonic()
    for cycle in range(kills):
        proc = _spawn(data_dir, seed, ops_per_block)
        buffer = bytearray()
        report.pending = None
        try:
            mode = KILL_MODES[cycle % len(KILL_MODES)]
            if mode == "early":
                # kill while the child may still be starting, opening the store or writing genesis
                time.sleep(rng.uniform(0.0, 0.5))
            elif mode == "commit":
                # aim at a commit: after a few blocks, kill within a few ms of a "c h" announcement
                _wait_ready(proc, buffer, report)
                skip = rng.randrange(0, 6)
                while proc.poll() is None:
                    lines = _read_lines(proc, buffer, READY_TIMEOUT_S)
                    _record(lines, report)
                    announced = [line for line in lines if line.startswith(b"c ")]
                    if announced and (skip := skip - len(announced)) < 0 and report.pending is not None:
                        time.sleep(rng.uniform(0.0, COMMIT_WINDOW_S))
                        break
            else:
                _wait_ready(proc, buffer, report)
                deadline = time.monotonic() + rng.uniform(0.0, max_delay_s)
                while (left := deadline - time.monotonic()) > 0 and proc.poll() is None:
                    _record(_read_lines(proc, buffer, left), report)
            if proc.poll() is not None:
                raise AssertionError(f"child died on its own: {_stderr(proc)}")
            proc.send_signal(signal.SIGKILL)
            proc.wait()
            _record(_drain(proc, buffer), report)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
            for stream in (proc.stdout, proc.stderr):
                if stream is not None:
                    stream.close()
        height = check_store(data_dir, report.acked, genesis_acked=report.genesis_acked)
        if report.pending is not None:
            assert height in (report.pending - 1, report.pending), (
                f"a kill in the commit of {report.pending} left the store at {height}")
            report.in_commit += 1
            report.in_commit_durable += height == report.pending
        report.kills += 1
        report.kill_heights.append(height)
        if height > max(report.acked, default=0):
            report.unacked_commits += 1
        if log:
            print(f"kill {cycle + 1}/{kills}: store at height {height}, acked {max(report.acked, default=0)}",
                  flush=True)
    report.final_height = report.kill_heights[-1] if report.kill_heights else 0
    report.elapsed_s = time.monotonic() - started
    return report


def verify_all(data_dir: Path, seed: int) -> int:
    """Full re-verification from genesis; returns the verified height."""
    from ledgr.store.verify import verify_ledger
    from tests.integration.store_crash_child import genesis_for_seed

    return verify_ledger(data_dir, genesis_for_seed(seed)).height


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--kills", type=int, default=50)
    parser.add_argument("--seed", type=int, default=int(time.time()))
    parser.add_argument("--ops-per-block", type=int, default=20)
    parser.add_argument("--data-dir", type=Path, default=None)
    args = parser.parse_args()
    import tempfile

    with tempfile.TemporaryDirectory(prefix="ledgr-crash-") as tmp:
        data_dir = args.data_dir or Path(tmp) / "node"
        print(f"seed {args.seed}, data dir {data_dir}", flush=True)
        report = run(data_dir, kills=args.kills, seed=args.seed, ops_per_block=args.ops_per_block, log=True)
        verified = verify_all(data_dir, args.seed)
    print(f"{report.kills} SIGKILLs, final height {report.final_height}, "
          f"{len(report.acked)} acknowledged blocks all present, "
          f"{report.in_commit} kills landed inside a commit ({report.in_commit_durable} of those blocks "
          f"were durable, the rest rolled back), "
          f"full verify_ledger to height {verified} OK, {report.elapsed_s:.1f} s")
    print(f"command: python -m tests.integration.store_crash_soak --kills {args.kills} --seed {args.seed}")


if __name__ == "__main__":
    main()
