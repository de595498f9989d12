"""The checks a back-filled history block must pass (``ledgr.node.setfollow.SetFollower``, used by
``ledgr.node.backfill``): real blocks and QCs built over a real store, and forged or mismatching
ones a peer could send instead — every forgery is refused and leaves the follower where it was."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from ledgr.crypto import PrivateKey
from ledgr.errors import PeerError
from ledgr.ledger.formats import Block, QuorumCertificate, precommit_sign_bytes
from ledgr.node.setfollow import SetFollower
from ledgr.node.wire import SyncedBlock
from ledgr.store.store import Store
from tests.unit.store.workload import DidWorkload


def chain_of(tmp_path: Path, seed: str, blocks: int) -> tuple[DidWorkload, list[SyncedBlock]]:
    workload = DidWorkload.for_seed(seed)
    out = []
    with Store.open(tmp_path / seed) as store:
        store.initialize_genesis(workload.genesis)
        for _ in range(blocks):
            with store.snapshot() as view:
                block, qc, result = workload.next_block(view, 6)
            store.commit_block(block, qc, result)
            out.append(SyncedBlock(block.height, block.encode(), qc.encode()))
    return workload, out


def follower_at_2(workload: DidWorkload, chain: list[SyncedBlock]) -> SetFollower:
    follower = SetFollower(workload.genesis.validator_set, 1, workload.genesis.hash())
    follower.accept(chain[0])
    return follower


def test_the_real_history_is_accepted_in_order_and_survives_a_json_round_trip(tmp_path: Path) -> None:
    workload, chain = chain_of(tmp_path, "history", 4)
    follower = SetFollower(workload.genesis.validator_set, 1, workload.genesis.hash())
    for synced in chain[:2]:
        follower.accept(synced)
    follower = SetFollower.from_json(follower.to_json())  # as after a restart
    for synced in chain[2:]:
        assert follower.accept(synced).hash() == Block.decode(synced.block).hash()
    assert follower.next_height == 5
    assert follower.prev_hash == Block.decode(chain[-1].block).hash()


def forgeries(tmp_path: Path, workload: DidWorkload, chain: list[SyncedBlock]) -> dict[str, SyncedBlock]:
    real = Block.decode(chain[1].block)
    qc = QuorumCertificate.decode(chain[1].qc)
    fewer_ops = Block(real.header, real.operations[:-1])
    later_header = Block(dataclasses.replace(real.header, time_ms=real.header.time_ms + 1), real.operations)
    outsiders = [PrivateKey.generate() for _ in range(workload.validators.size)]
    message = precommit_sign_bytes(real.header.chain_id, 2, 0, real.hash())
    outsider_qc = QuorumCertificate.from_votes(2, 0, real.hash(), workload.validators.size,
                                               {i: outsiders[i].sign(message)
                                                for i in range(workload.validators.quorum)})
    _other, other_chain = chain_of(tmp_path, "another-chain", 2)
    return {
        "operations that do not match tx_root": SyncedBlock(2, fewer_ops.encode(), chain[1].qc),
        "a changed header under the real QC": SyncedBlock(2, later_header.encode(), chain[1].qc),
        "a QC signed by keys outside the set": SyncedBlock(2, chain[1].block, outsider_qc.encode()),
        "a QC of another block": SyncedBlock(2, chain[1].block, chain[2].qc),
        "a QC without a quorum": SyncedBlock(2, chain[1].block, dataclasses.replace(
            qc, signer_bitmap=bytes([0x80]), signatures=qc.signatures[:1]).encode()),
        "the next block instead": SyncedBlock(2, chain[2].block, chain[2].qc),
        "block 2 of another chain": other_chain[1],
        "garbage": SyncedBlock(2, b"\x01not a block", chain[1].qc),
    }


def test_forged_or_mismatching_blocks_are_refused_and_change_nothing(tmp_path: Path) -> None:
    workload, chain = chain_of(tmp_path, "forged", 3)
    follower = follower_at_2(workload, chain)
    before = follower.to_json()
    for what, forged in forgeries(tmp_path, workload, chain).items():
        with pytest.raises(PeerError):
            follower.accept(forged)
        assert follower.to_json() == before, what
    follower.accept(chain[1])  # the real block 2 still goes in afterwards
    assert follower.next_height == 3
