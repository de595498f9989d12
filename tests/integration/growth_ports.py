"""Port ranges for the growth tests: below Linux's ephemeral range (32768+), so the many outbound
connections of a load generator cannot take a port a node is about to listen on."""

from __future__ import annotations

import random

from ledgr.node import testnet as tn


def free_base_port(count: int) -> int:
    rng = random.Random()
    for _ in range(200):
        base = rng.randrange(20000, 32000, 20)
        if all(tn.port_free(p) for p in range(base, base + 2 * count)):
            return base
    raise RuntimeError("no free port range")
