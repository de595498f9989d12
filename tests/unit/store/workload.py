"""A deterministic DID workload for store tests, the crash child and ``bench/ledger.py``.

Blocks are built exactly as a node would: real signed ``did.create`` / ``did.update`` operations,
``build_block`` over a store snapshot (execute + SMT), and a commit QC signed by a quorum of the
genesis validators. Everything derives from ``seed`` and the height, and updates read their ``prev``
from state, so a restarted process rebuilds the very same next block from the store alone.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from ledgr.crypto.keys import PrivateKey
from ledgr.did.ledgr_method import derive_did
from ledgr.ledger.execute import BlockResult, build_block
from ledgr.ledger.formats import Block, QuorumCertificate, precommit_sign_bytes
from ledgr.ledger.genesis import Genesis
from ledgr.ledger.operations import sign_operation
from ledgr.ledger.records import LedgerDidReader
from ledgr.ledger.state import StateReader, read_tip
from ledgr.ledger.validators import ValidatorSet
from tests.unit.ledger.chain import CHAIN_ID, GENESIS_MS, did_template, document_for, validator_set

BLOCK_INTERVAL_MS = 1000
VALID_FOR_HEIGHTS = 1_000_000


def _key(label: str) -> PrivateKey:
    return PrivateKey.from_seed(hashlib.sha256(label.encode()).digest())


@dataclass
class DidWorkload:
    """Deterministic chain of DID blocks for ``seed``: genesis, operations, blocks and QCs."""

    seed: str
    validators: ValidatorSet
    node_keys: list[PrivateKey]
    genesis: Genesis

    @classmethod
    def for_seed(cls, seed: str, n_validators: int = 3, max_block_ops: int = 1000) -> DidWorkload:
        vset, nodes, _admins = validator_set(n_validators, prefix=f"{seed}-v")
        genesis = Genesis(CHAIN_ID, GENESIS_MS, vset, {"max_block_ops": max_block_ops})
        return cls(seed, vset, nodes, genesis)

    def did_key(self, height: int, index: int) -> PrivateKey:
        return _key(f"{self.seed}/did/{height}/{index}")

    def did_of(self, height: int, index: int) -> str:
        return derive_did(did_template(self.did_key(height, index)))

    def create(self, height: int, index: int) -> bytes:
        key = self.did_key(height, index)
        template = did_template(key)
        did = derive_did(template)
        return sign_operation("did.create", did, {"document": template}, prev=None, chain_id=CHAIN_ID,
                              valid_until_height=VALID_FOR_HEIGHTS, verification_method=f"{did}#key-1",
                              key=key)

    def update(self, reader: StateReader, created_at: int, index: int, label: str) -> bytes | None:
        """A did.update of DID (created_at, index) adding a service, ``prev`` read from state;
        ``None`` when that DID does not exist."""
        key = self.did_key(created_at, index)
        did = self.did_of(created_at, index)
        head = LedgerDidReader(reader).did_head(did)
        if head is None:
            return None
        service = {"id": f"{did}#svc-{label}", "type": "LinkedDomains", "serviceEndpoint": "https://example.org/"}
        document = document_for(did, key, extra={"service": [service]})
        prev = bytes.fromhex(head.version_hash)
        return sign_operation("did.update", did, {"document": document}, prev=prev, chain_id=CHAIN_ID,
                              valid_until_height=VALID_FOR_HEIGHTS, verification_method=f"{did}#key-1",
                              key=key)

    def operations(self, reader: StateReader, height: int, count: int) -> list[bytes]:
        """``count`` operations for block ``height``: up to half update DIDs created by the block
        before, the rest create new DIDs."""
        ops: list[bytes] = []
        while height > 1 and len(ops) < count // 2:
            update = self.update(reader, height - 1, len(ops), str(height))
            if update is None:
                break
            ops.append(update)
        ops += [self.create(height, i) for i in range(count - len(ops))]
        return ops

    def build(self, reader: StateReader, operations: list[bytes]) -> tuple[Block, BlockResult]:
        tip = read_tip(reader)
        height = tip.height + 1
        block, result = build_block(
            reader, chain_id=CHAIN_ID, height=height, time_ms=GENESIS_MS + height * BLOCK_INTERVAL_MS,
            prev_hash=tip.block_hash, proposer=self.validators.proposer(height, 0).node_key.raw,
            operations=operations)
        return block, result

    def qc(self, block: Block) -> QuorumCertificate:
        message = precommit_sign_bytes(block.header.chain_id, block.height, 0, block.hash())
        votes = {i: self.node_keys[i].sign(message) for i in range(self.validators.quorum)}
        return QuorumCertificate.from_votes(block.height, 0, block.hash(), self.validators.size, votes)

    def next_block(self, reader: StateReader, count: int) -> tuple[Block, QuorumCertificate, BlockResult]:
        height = read_tip(reader).height + 1
        block, result = self.build(reader, self.operations(reader, height, count))
        return block, self.qc(block), result
