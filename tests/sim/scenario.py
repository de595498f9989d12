"""Per-seed random parameters of a simulation run (everything derives from the seed)."""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from ledgr.consensus import TimeoutConfig

BEHAVIOURS = ("equivocate", "double-vote", "amnesia", "withhold", "old-votes", "impersonate",
              "invalid-block", "bad-valid-round")
FORK_BEHAVIOURS = ("equivocate", "double-vote", "amnesia")

SIM_TIMEOUTS = TimeoutConfig(propose_ms=300, propose_delta_ms=100, prevote_ms=150, prevote_delta_ms=50,
                             precommit_ms=150, precommit_delta_ms=50, rebroadcast_ms=500, max_ms=3000)
CLOCK_SKEW_MS = 1000


@dataclass(slots=True)
class Scenario:
    seed: int
    n: int
    strict: bool = False
    over_threshold: bool = False
    byzantine: dict[int, tuple[str, ...]] = field(default_factory=dict)
    max_drop: float = 0.0
    max_dup: float = 0.0
    partitions_per_s: float = 0.0
    crashes_per_s: float = 0.0
    wipe_prob: float = 0.0
    persist_crash_prob: float = 0.0
    clock_offsets_ms: tuple[int, ...] = ()
    clock_jump: bool = False
    safety_ms: int = 6000
    liveness_ms: int = 40_000
    ops_per_s: float = 4.0

    def describe(self) -> str:
        byz = ",".join(f"{i}:{'+'.join(b)}" for i, b in sorted(self.byzantine.items())) or "none"
        mode = " strict" if self.strict else ""
        over = " OVER-THRESHOLD" if self.over_threshold else ""
        return (f"n={self.n}{mode}{over} byz={byz} drop≤{self.max_drop:.2f} dup≤{self.max_dup:.2f} "
                f"partitions/s={self.partitions_per_s:.2f} crashes/s={self.crashes_per_s:.2f} "
                f"wipe={self.wipe_prob:.2f} persist-crash={self.persist_crash_prob:.3f}")


def make_scenario(seed: int, n: int, *, faults: bool = True) -> Scenario:
    rng = random.Random(seed * 7919 + n)
    f = (n - 1) // 3
    sc = Scenario(seed=seed, n=n)
    if not faults:
        sc.clock_offsets_ms = (0,) * n
        return sc
    sc.strict = n == 3 and rng.random() < 0.1
    sc.over_threshold = rng.random() < 0.2
    if sc.over_threshold:
        count = f + 1 if not sc.strict else 1
        chosen = rng.sample(range(n), count)
        sc.byzantine = {i: tuple(b for b in FORK_BEHAVIOURS if rng.random() < 0.8) or ("equivocate",)
                        for i in chosen}
    else:
        count = rng.randint(0, f) if f else 0
        chosen = rng.sample(range(n), count)
        sc.byzantine = {i: tuple(b for b in BEHAVIOURS if rng.random() < 0.5) or ("double-vote",)
                        for i in chosen}
    sc.max_drop = rng.choice([0.0, rng.uniform(0, 0.3)])
    sc.max_dup = rng.choice([0.0, rng.uniform(0, 0.5)])
    sc.partitions_per_s = rng.choice([0.0, rng.uniform(0.05, 0.5)])
    sc.crashes_per_s = rng.choice([0.0, rng.uniform(0.05, 0.6)])
    sc.wipe_prob = rng.choice([0.0, 0.2])
    sc.persist_crash_prob = rng.choice([0.0, 0.0, rng.uniform(0.0, 0.02)])
    sc.clock_offsets_ms = tuple(rng.randint(-300, 300) for _ in range(n))
    sc.clock_jump = rng.random() < 0.2
    return sc
