"""Consensus core throughput: n cores in one process, real Ed25519, no network.

Every message is encoded, decoded, signature-checked and stepped through the receiving cores; blocks
are 1 KiB and "validated" by re-hashing. Reports decided heights per second and messages delivered
per decision. Run: ``python bench/consensus.py [--nodes 3] [--heights 500]``.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import deque

from ledgr.consensus import (
    BlockValidated,
    Broadcast,
    Core,
    CoreConfig,
    Decide,
    Ed25519Signer,
    Input,
    RequestValue,
    SendTo,
    Start,
    ValidateBlock,
    ValidatorSet,
    ValueReady,
    decode_message,
    encode_message,
    received,
)
from ledgr.crypto import PrivateKey, sha256


def run(n: int, heights: int) -> tuple[float, int, int]:
    keys = [PrivateKey.from_seed(sha256(b"bench %d" % i)) for i in range(n)]
    validators = ValidatorSet([k.public_key for k in keys])
    config = CoreConfig(chain_id="ledgr-bench")
    cores = [Core(config, Ed25519Signer(k)) for k in keys]
    queue: deque[tuple[int, Input]] = deque()
    decided = [0] * n
    messages = 0
    now_ms = 1_700_000_000_000

    def handle(i: int, inp: Input) -> None:
        nonlocal messages
        for effect in cores[i].step(inp, now_ms):
            if isinstance(effect, Broadcast):
                data = encode_message(effect.message)
                for j in range(n):
                    if j != i:
                        messages += 1
                        queue.append((j, received(decode_message(data), keys[i].public_key.raw)))
            elif isinstance(effect, SendTo):
                j = validators.index_of(effect.peer)
                if j is not None:
                    messages += 1
                    queue.append((j, received(decode_message(encode_message(effect.message)))))
            elif isinstance(effect, RequestValue):
                block = b"%d/%d/%d" % (effect.height, effect.round, effect.time_ms) + bytes(1000)
                queue.append((i, ValueReady(effect.height, effect.round, sha256(block), block)))
            elif isinstance(effect, ValidateBlock):
                queue.append((i, BlockValidated(effect.height, effect.value_id,
                                                sha256(effect.block) == effect.value_id)))
            elif isinstance(effect, Decide):
                decided[i] = effect.height
                queue.append((i, Start(effect.height + 1, validators, effect.time_ms)))

    started = time.perf_counter()
    for i in range(n):
        handle(i, Start(1, validators, 0))
    while queue and min(decided) < heights:
        i, inp = queue.popleft()
        now_ms += 1
        handle(i, inp)
    elapsed = time.perf_counter() - started
    return elapsed, min(decided), messages


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--nodes", type=int, default=3)
    parser.add_argument("--heights", type=int, default=500)
    args = parser.parse_args()
    elapsed, heights, messages = run(args.nodes, args.heights)
    print(f"command: python bench/consensus.py --nodes {args.nodes} --heights {args.heights}")
    rate = heights / elapsed
    print(f"n={args.nodes}: {heights} heights in {elapsed:.2f} s = {rate:.0f} decided heights/s, "
          f"{messages / max(heights, 1):.1f} messages per decision (real Ed25519, no network)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
