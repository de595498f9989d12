"""Seeded packet network: per-link drop, duplication and delay (reordering follows), partitions.

Parameters follow TigerBeetle's VOPR packet simulator as transcribed in consensus.md §4.3: drop
0–30 %, duplicate 0–50 %, one-way delay with a minimum of 0–30 ms plus an exponential part with a
mean of 30–100 ms. Partitions come in VOPR's modes ``isolate_single``, ``uniform_size`` and
``uniform_partition``, symmetric or asymmetric (only one direction blocked).
"""

from __future__ import annotations

import random
from dataclasses import dataclass


@dataclass(slots=True)
class LinkFaults:
    drop: float
    duplicate: float
    delay_min_ms: int
    delay_mean_ms: int


class Network:
    def __init__(self, rng: random.Random, n: int, max_drop: float, max_dup: float) -> None:
        self.rng = rng
        self.n = n
        self.links = {(a, b): LinkFaults(rng.uniform(0, max_drop), rng.uniform(0, max_dup),
                                         rng.randint(0, 30), rng.randint(30, 100))
                      for a in range(n) for b in range(n) if a != b}
        self.blocked: set[tuple[int, int]] = set()
        self.healed = False
        self.sent = 0
        self.dropped = 0
        self.duplicated = 0

    def heal(self) -> None:
        """GST: no partitions, no loss or duplication; delays stay (bounded)."""
        self.blocked.clear()
        self.healed = True

    def reachable(self, src: int, dst: int) -> bool:
        return (src, dst) not in self.blocked

    def delays(self, src: int, dst: int) -> list[int]:
        """Delivery delays (ms) for one packet: empty when lost, two entries when duplicated."""
        self.sent += 1
        if (src, dst) in self.blocked:
            self.dropped += 1
            return []
        link = self.links[(src, dst)]
        if not self.healed and self.rng.random() < link.drop:
            self.dropped += 1
            return []
        out = [link.delay_min_ms + int(self.rng.expovariate(1.0 / link.delay_mean_ms))]
        if not self.healed and self.rng.random() < link.duplicate:
            self.duplicated += 1
            out.append(link.delay_min_ms + int(self.rng.expovariate(1.0 / link.delay_mean_ms)))
        return out

    def partition(self) -> str:
        """Install a random partition; returns its description."""
        nodes = list(range(self.n))
        mode = self.rng.choice(["isolate_single", "uniform_size", "uniform_partition"])
        if mode == "isolate_single":
            side = {self.rng.choice(nodes)}
        elif mode == "uniform_size":
            side = set(self.rng.sample(nodes, self.rng.randint(1, self.n - 1)))
        else:
            side = {i for i in nodes if self.rng.random() < 0.5}
        other = set(nodes) - side
        symmetric = self.rng.random() < 0.6
        self.blocked = {(a, b) for a in side for b in other}
        if symmetric:
            self.blocked |= {(b, a) for a in side for b in other}
        return f"{mode}{'' if symmetric else '-asym'} {sorted(side)}|{sorted(other)}"

    def unpartition(self) -> None:
        self.blocked.clear()
