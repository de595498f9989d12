"""``python -m tests.sim --nodes 3,4,5,7 --seeds N --seed-start S [--mutant NAME] [--crypto fake]``.

Prints one line per failing seed (with the command that reruns it), then exactly one final line
``seeds: N, violations: K``; exits 0 only when K is 0. ``--crash-points`` sweeps crash points
(before/after every persist) of a fault-free run per seed instead of random faults.
"""

from __future__ import annotations

import argparse
import sys
import time

from tests.sim.mutants import MUTANTS
from tests.sim.runner import crash_point_sweep, nodes_for, run_seed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.sim", description=__doc__)
    parser.add_argument("--nodes", default="3,4,5,7", help="validator counts, comma-separated")
    parser.add_argument("--seeds", type=int, default=100)
    parser.add_argument("--seed-start", type=int, default=0)
    parser.add_argument("--mutant", choices=MUTANTS)
    parser.add_argument("--crypto", choices=("real", "fake"), default="real",
                        help="real Ed25519 (default) or the simulator's fake signer")
    parser.add_argument("--crash-points", action="store_true")
    parser.add_argument("--safety-ms", type=int, default=None,
                        help="simulated ms of the fault phase per seed (default 6000; longer for soaks)")
    parser.add_argument("--verbose", action="store_true", help="one line per seed")
    args = parser.parse_args(argv)
    try:
        sizes = [int(x) for x in args.nodes.split(",") if x]
    except ValueError:
        parser.error("--nodes takes comma-separated integers")
    if not sizes or any(not 1 <= s <= 64 for s in sizes) or args.seeds < 0:
        parser.error("--nodes takes sizes in 1..64 and --seeds must be ≥ 0")
    real = args.crypto == "real"
    violations = heights = decisions = points = 0
    totals: dict[str, int] = {}
    started = time.monotonic()
    for seed in range(args.seed_start, args.seed_start + args.seeds):
        n = nodes_for(seed, sizes)
        rerun = (f"python -m tests.sim --nodes {n} --seeds 1 --seed-start {seed}"
                 + (f" --mutant {args.mutant}" if args.mutant else "")
                 + ("" if real else " --crypto fake") + (" --crash-points" if args.crash_points else "")
                 + (f" --safety-ms {args.safety_ms}" if args.safety_ms else ""))
        if args.crash_points:
            bad = []
            for plan, result in crash_point_sweep(seed, n, real_crypto=real, mutant=args.mutant):
                points += 1
                heights += result.heights
                decisions += result.decisions
                if result.violations:
                    bad.append(f"crash {plan.when} persist {plan.index}: {result.violations[0]}")
            if bad:
                violations += 1
                print(f"FAIL seed {seed} n={n}: {len(bad)} crash points; first: {bad[0]}  [{rerun}]")
            elif args.verbose:
                print(f"ok seed {seed} n={n}")
            continue
        result = run_seed(seed, n, real_crypto=real, mutant=args.mutant, safety_ms=args.safety_ms)
        heights += result.heights
        totals["byzantine_seeds"] = totals.get("byzantine_seeds", 0) + ("byz=none" not in result.description)
        totals["over_threshold_seeds"] = totals.get("over_threshold_seeds", 0) + (
            "OVER-THRESHOLD" in result.description)
        totals["forks_with_evidence"] = totals.get("forks_with_evidence", 0) + (
            result.forks if not result.violations else 0)
        decisions += result.decisions
        for key, value in result.faults.items():
            totals[key] = totals.get(key, 0) + value
        if result.violations:
            violations += 1
            print(f"FAIL seed {seed} {result.description}: {result.violations[0]}  [{rerun}]")
            for extra in result.violations[1:3]:
                print(f"     also: {extra}")
        elif args.verbose:
            print(f"ok seed {seed} {result.description} heights={result.heights} events={result.events} "
                  f"forks={result.forks}")
    elapsed = time.monotonic() - started
    if args.crash_points:
        totals["crash_point_runs"] = points
    faults = " ".join(f"{k}={v}" for k, v in sorted(totals.items()))
    print(f"# {elapsed:.1f} s, simulated heights {heights}, decisions {decisions}, totals: {faults}",
          file=sys.stderr)
    print(f"seeds: {args.seeds}, violations: {violations}")
    return 0 if violations == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
