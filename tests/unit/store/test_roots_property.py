"""Property (hypothesis): random DID operation sequences, cut into random blocks, give the same roots
and the same state whether applied to an in-memory state, to a store kept open, or to a store that is
closed and reopened before every block; and every DID's state reads back with a valid proof."""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ledgr.crypto import sha256
from ledgr.ledger.execute import execute_block
from ledgr.ledger.genesis import genesis_writes
from ledgr.ledger.operations import sign_operation
from ledgr.ledger.records import LedgerDidReader
from ledgr.ledger.smt import verify_proof
from ledgr.ledger.state import MemoryState, did_head_key
from ledgr.store import Store
from ledgr.store.keys import data_key
from ledgr.store.reads import certified_read
from tests.unit.ledger.chain import CHAIN_ID, document_for
from tests.unit.store.workload import DidWorkload

KINDS = ("create", "update", "stale-update", "wrong-key-update", "deactivate")
ACTIONS = st.lists(st.tuples(st.sampled_from(KINDS), st.integers(0, 5)), min_size=1, max_size=24)
BLOCK_SIZES = st.lists(st.integers(1, 6), min_size=1, max_size=8)
WORKLOAD = DidWorkload.for_seed("property")


def _operation(memory: MemoryState, kind: str, index: int, label: str) -> bytes | None:
    """An operation of ``kind`` on DID number ``index`` (keys from a fixed pool); may be invalid."""
    if kind == "create":
        return WORKLOAD.create(0, index)
    did = WORKLOAD.did_of(0, index)
    head = LedgerDidReader(memory).did_head(did)
    if head is None:
        return None
    key = WORKLOAD.did_key(0, index)
    prev = bytes.fromhex(head.version_hash)
    if kind == "stale-update":
        prev = sha256(prev)
    if kind == "wrong-key-update":
        key = WORKLOAD.did_key(0, (index + 1) % 6)
    if kind == "deactivate":
        op_type, body = "did.deactivate", {}
    else:
        service = {"id": f"{did}#svc-{label}", "type": "LinkedDomains", "serviceEndpoint": "https://example.org/"}
        op_type, body = "did.update", {"document": document_for(did, WORKLOAD.did_key(0, index),
                                                                extra={"service": [service]})}
    return sign_operation(op_type, did, body, prev=prev, chain_id=CHAIN_ID, valid_until_height=10_000,
                          verification_method=f"{did}#key-1", key=key)


def _blocks(actions: list[tuple[str, int]], sizes: list[int]) -> list[list[tuple[str, int]]]:
    out, start, i = [], 0, 0
    while start < len(actions):
        size = sizes[i % len(sizes)]
        out.append(actions[start:start + size])
        start += size
        i += 1
    return out


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(actions=ACTIONS, sizes=BLOCK_SIZES)
def test_roots_agree_in_memory_in_store_and_across_reopen(actions: list[tuple[str, int]],
                                                          sizes: list[int]) -> None:
    memory = MemoryState()
    writes, nodes, _root = genesis_writes(WORKLOAD.genesis)
    memory.apply_writes(writes, nodes)
    with tempfile.TemporaryDirectory() as tmp:
        kept_path, reopened_path = Path(tmp) / "kept", Path(tmp) / "reopened"
        with Store.open(reopened_path) as reopened:
            reopened.initialize_genesis(WORKLOAD.genesis)
        with Store.open(kept_path) as kept:
            kept.initialize_genesis(WORKLOAD.genesis)
            for number, chunk in enumerate(_blocks(actions, sizes)):
                ops = [op for kind, index in chunk
                       if (op := _operation(memory, kind, index, str(number))) is not None]
                block, built = WORKLOAD.build(memory, ops)
                qc = WORKLOAD.qc(block)
                memory.apply(built)
                with kept.snapshot() as view:  # the validator path, reading through the store
                    executed = execute_block(view, block)
                assert executed.app_root == built.app_root == block.header.app_root
                assert executed.state_writes == built.state_writes
                kept.commit_block(block, qc, executed)
                with Store.open(reopened_path) as again:
                    before = again.tip()
                    assert before is not None and before.height == block.height - 1
                    again.commit_block(block, qc, executed)
            tip = kept.tip()
            kept_state = kept.read(lambda v: dict(v.iter_db(b"state")))
        with Store.open(kept_path) as kept, Store.open(reopened_path) as again:
            assert kept.tip() == again.tip() == tip
            assert tip is not None and tip.app_root == block.header.app_root
            expected = {data_key(k): v for k, v in memory.values.items()}
            assert kept_state == expected
            assert again.read(lambda v: dict(v.iter_db(b"state"))) == expected
            with kept.snapshot() as view:
                for index in range(6):
                    key = did_head_key(WORKLOAD.did_of(0, index))
                    served = certified_read(view, key)
                    value_hash = None if served.value is None else sha256(served.value)
                    assert served.value == memory.get(key)
                    assert verify_proof(tip.app_root, sha256(key), value_hash, served.proof)
                    assert not verify_proof(tip.app_root, sha256(key), sha256(b"tampered"), served.proof)
