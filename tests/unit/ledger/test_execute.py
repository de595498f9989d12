"""Block execution: continuity checks, receipts, determinism, genesis, the proposer's block building."""

from __future__ import annotations

import dataclasses

import pytest

from ledgr.errors import InvalidInput, VerificationFailed
from ledgr.ledger.execute import build_block, execute_block
from ledgr.ledger.formats import Block, tx_root
from ledgr.ledger.genesis import Genesis, genesis_writes
from ledgr.ledger.state import TIP_KEY, MemoryState, read_tip
from tests.unit.ledger.chain import CHAIN_ID, GENESIS_MS, Chain, document_for, key, validator_set

ALICE, BOB = key("alice"), key("bob")
PROPOSER = key("v-node-1").public_key.raw


def test_genesis_hash_and_round_trip() -> None:
    vset, _, _ = validator_set(3)
    genesis = Genesis(CHAIN_ID, GENESIS_MS, vset, {"max_block_ops": 100})
    assert Genesis.from_json(genesis.to_json()) == genesis
    assert Genesis.from_json({**genesis.to_json(), "chain_id": "other"}).hash() != genesis.hash()
    writes, _nodes, root = genesis_writes(genesis)
    tip = read_tip(_state(writes))
    assert (tip.height, tip.block_hash, tip.app_root) == (0, genesis.hash(), root)
    for bad in ({**genesis.to_json(), "params": {"max_block_ops": 0}},
                {**genesis.to_json(), "params": {"unknown": 1}},
                {**genesis.to_json(), "genesis_time_ms": -1},
                {**genesis.to_json(), "extra": 1}):
        with pytest.raises(InvalidInput):
            Genesis.from_json(bad)


def _state(writes: dict[bytes, bytes | None]) -> MemoryState:
    state = MemoryState()
    state.apply_writes(writes, {})
    return state


def test_empty_blocks_chain_and_header_fields() -> None:
    chain = Chain.start()
    block, result = chain.commit([])
    assert block.height == 1 and block.header.prev_hash == chain.genesis.hash()  # type: ignore[union-attr]
    assert block.header.tx_root == tx_root([]) and result.receipts == ()
    block2, _ = chain.commit([])
    assert block2.header.prev_hash == block.hash()
    assert read_tip(chain.state).block_hash == block2.hash()


def _next_block(chain: Chain, ops: list[bytes]) -> Block:
    tip = read_tip(chain.state)
    block, _ = build_block(chain.state, chain_id=CHAIN_ID, height=tip.height + 1, time_ms=tip.time_ms + 5,
                           prev_hash=tip.block_hash, proposer=chain.node_keys[0].public_key.raw,
                           operations=ops)
    return block


def test_execute_checks_continuity() -> None:
    chain = Chain.start()
    chain.commit([])
    block = _next_block(chain, [])
    header = block.header
    for change, check in [({"chain_id": "other-chain"}, "chain-id"),
                          ({"height": header.height + 1}, "height"),
                          ({"prev_hash": b"\x07" * 32}, "prev-hash"),
                          ({"time_ms": read_tip(chain.state).time_ms}, "time"),
                          ({"tx_root": b"\x00" * 32}, "tx-root"),
                          ({"validators_hash": b"\x00" * 32}, "validators-hash"),
                          ({"next_validators_hash": b"\x00" * 32}, "validators-hash")]:
        bad = Block(dataclasses.replace(header, **change), block.operations)  # type: ignore[arg-type]
        with pytest.raises(VerificationFailed) as info:
            execute_block(chain.state, bad)
        assert info.value.extra["check"] == check
    with pytest.raises(VerificationFailed) as info:
        execute_block(chain.state, Block(dataclasses.replace(header, proposer=key("intruder").public_key.raw),
                                         block.operations))
    assert info.value.extra["check"] == "proposer"
    with pytest.raises(VerificationFailed):
        build_block(chain.state, chain_id=CHAIN_ID, height=header.height, time_ms=header.time_ms,
                    prev_hash=header.prev_hash, proposer=b"\x00" * 32, operations=[])
    wrong_root = Block(dataclasses.replace(header, app_root=b"\x05" * 32), block.operations)
    assert execute_block(chain.state, wrong_root).app_root == header.app_root != wrong_root.header.app_root


def test_build_drops_rejected_and_a_block_holding_one_is_invalid() -> None:
    chain = Chain.start()
    did, create = chain.create_did(ALICE)
    forged = chain.op("did.update", did, {"document": document_for(did, BOB)}, BOB, f"{did}#key-1",
                      prev=b"\x00" * 32)
    block = _next_block(chain, [forged, create, create, b"garbage"])
    assert block.operations == (create,)
    assert execute_block(chain.state, block).all_accepted
    tip = read_tip(chain.state)
    # a faulty proposer's block that carries rejected operations is refused, naming the first one
    for ops, index, rule in (((forged, create), 0, "did-not-found"), ((create, create), 1, "did-exists"),
                             ((create, b"garbage"), 1, "malformed")):
        header = dataclasses.replace(block.header, tx_root=tx_root(ops))
        with pytest.raises(VerificationFailed) as refused:
            execute_block(chain.state, Block(header, ops))
        assert refused.value.extra["check"] == "rejected-operation"
        assert f"operation {index} " in refused.value.detail and rule in refused.value.detail
    assert read_tip(chain.state) == tip


def test_build_respects_max_ops() -> None:
    chain = Chain.start()
    envs = [chain.create_did(key(f"k{i}"))[1] for i in range(5)]
    tip = read_tip(chain.state)
    block, result = build_block(chain.state, chain_id=CHAIN_ID, height=1, time_ms=tip.time_ms + 1,
                                prev_hash=tip.block_hash, proposer=PROPOSER, operations=envs, max_ops=3)
    assert block.operations == tuple(envs[:3]) and len(result.receipts) == 3
    with pytest.raises(VerificationFailed):
        build_block(chain.state, chain_id=CHAIN_ID, height=2, time_ms=tip.time_ms + 1,
                    prev_hash=tip.block_hash, proposer=PROPOSER, operations=envs)


def test_execute_rejects_blocks_over_the_chain_limit() -> None:
    vset, _, _ = validator_set(3)
    genesis = Genesis(CHAIN_ID, GENESIS_MS, vset, {"max_block_ops": 2})
    writes, nodes, _ = genesis_writes(genesis)
    state = MemoryState()
    state.apply_writes(writes, nodes)
    ops = tuple(Chain.start().create_did(key(f"k{i}"))[1] for i in range(3))
    tip = read_tip(state)
    block, _ = build_block(state, chain_id=CHAIN_ID, height=1, time_ms=tip.time_ms + 1,
                           prev_hash=tip.block_hash, proposer=PROPOSER, operations=list(ops))
    assert len(block.operations) == 2
    over = Block(dataclasses.replace(block.header, tx_root=tx_root(ops)), ops)
    with pytest.raises(VerificationFailed):
        execute_block(state, over)


def test_same_blocks_same_bytes_on_a_fresh_replica() -> None:
    chain = Chain.start()
    did, create = chain.create_did(ALICE)
    chain.accept(create)
    chain.accept(chain.op("did.update", did, {"document": document_for(did, ALICE, BOB)}, ALICE,
                          f"{did}#key-1", prev=chain.prev(did)))
    replica = Chain.start()
    for block in chain.blocks:
        result = execute_block(replica.state, block)
        assert result.app_root == block.header.app_root
        replica.state.apply(result)
    assert replica.state.values == chain.state.values
    assert replica.state.nodes.keys() <= chain.state.nodes.keys()
    assert replica.state.get(TIP_KEY) == chain.state.get(TIP_KEY)


def test_uninitialised_state() -> None:
    with pytest.raises(Exception, match="genesis"):
        build_block(MemoryState(), chain_id=CHAIN_ID, height=1, time_ms=1, prev_hash=b"\x00" * 32,
                    proposer=b"\x00" * 32, operations=[])
