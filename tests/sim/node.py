"""One simulated node: a core, its durable state, its chain, its mempool and its clock."""

from __future__ import annotations

from ledgr.consensus import Core, CoreConfig, Signer, ValidatorSet, Verifier
from ledgr.crypto import PrivateKey
from tests.sim.app import Chain


class SimNode:
    def __init__(self, index: int, key: PrivateKey, signer: Signer, clock_offset_ms: int) -> None:
        self.index = index
        self.key = key
        self.signer = signer
        self.clock_offset_ms = clock_offset_ms
        self.up = False
        self.epoch = 0
        self.core: Core | None = None
        self.disk: bytes | None = None
        self.chain = Chain()
        self.mempool: dict[bytes, None] = {}
        self.wiped = False
        self.former_height = 0
        self.silenced = False
        self.persists = 0

    def boot(self, core_type: type[Core], config: CoreConfig, verifier: Verifier,
             state: bytes | None) -> Core:
        self.core = core_type(config, self.signer, verifier, state=state)
        self.up = True
        return self.core

    def crash(self) -> None:
        self.up = False
        self.epoch += 1
        self.core = None
        self.mempool.clear()

    def wipe(self) -> None:
        self.former_height = self.chain.height
        self.crash()
        self.disk = None
        self.chain = Chain()
        self.wiped = True

    def pending_ops(self) -> list[bytes]:
        height = self.chain.height + 1
        return [op for op in self.mempool if self.chain.op_ok(op, height)]


def key_index(validators: ValidatorSet, peer: bytes) -> int:
    index = validators.index_of(peer)
    if index is None:
        raise ValueError("send to a non-validator")
    return index
