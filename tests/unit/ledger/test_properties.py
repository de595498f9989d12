"""Property tests over random operation sequences (hypothesis): block boundaries never change outcomes,
roots equal a one-batch rebuild of the final state, and every key has a verifying proof."""

from __future__ import annotations

import hashlib
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ledgr.crypto import sha256
from ledgr.did.ledgr_method import derive_did
from ledgr.ledger.execute import OperationReceipt, _run
from ledgr.ledger.queries import read_chain_record
from ledgr.ledger.records import LedgerDidReader
from ledgr.ledger.smt import EMPTY, apply_updates, prove, verify_proof
from ledgr.ledger.state import is_meta_key, read_tip
from tests.unit.ledger.chain import Chain, did_template, document_for, key

KEYS = [key(f"prop-{i}") for i in range(4)]
ACTIONS = st.lists(st.tuples(st.sampled_from(["create", "update", "deactivate", "resource", "stale",
                                              "forged", "empty-block"]),
                             st.integers(0, 3), st.integers(0, 3)), min_size=6, max_size=30)


def realize(chain: Chain, action: str, a: int, b: int, holders: dict[str, Any],
            n: int) -> bytes | None:
    """An envelope for ``action`` built against ``chain``'s current state.

    ``holders`` maps each DID to the key currently listed as its ``#key-1`` (the honest signer).
    """
    if action == "create":
        template = did_template(KEYS[a], extra={"alsoKnownAs": [f"urn:example:{b}"]})
        did = derive_did(template)
        holders.setdefault(did, KEYS[a])
        return chain.op("did.create", did, {"document": template}, KEYS[a], f"{did}#key-1")
    if not holders:
        return None
    did = sorted(holders)[a % len(holders)]
    head = LedgerDidReader(chain.state).did_head(did)
    prev = bytes.fromhex(head.version_hash) if head else b"\x00" * 32
    signer = holders[did]
    if action == "update":
        return chain.op("did.update", did, {"document": document_for(did, KEYS[b], signer)}, signer,
                        f"{did}#key-1", prev=prev)
    if action == "deactivate":
        return chain.op("did.deactivate", did, {}, signer, f"{did}#key-1", prev=prev)
    if action == "resource":
        return chain.op("resource.create", f"{did}/resources/r{b}", {
            "name": "schema", "mediaType": "application/json", "content": {"n": n}}, signer,
            f"{did}#key-1")
    if action == "stale":
        return chain.op("did.update", did, {"document": document_for(did, signer)}, signer,
                        f"{did}#key-1", prev=hashlib.sha256(b"stale%d" % n).digest())
    if action == "forged":
        return chain.op("did.update", did, {"document": document_for(did, KEYS[0])}, key("forger"),
                        f"{did}#key-1", prev=prev)
    return None


def receipts_of(chain: Chain, chunk: list[bytes]) -> tuple[OperationReceipt, ...]:
    """Per-operation outcomes of applying all of ``chunk`` in one block (rejected ones included): the
    executor's own ordered application, as a proposer's build runs it (a *valid* block holds only the
    accepted ones, so a block of the whole chunk could not be executed to learn them)."""
    tip = read_tip(chain.state)
    return _run(chain.state, read_chain_record(chain.state), tip.height + 1, tip.time_ms + 1000,
                chain.node_keys[0].public_key.raw, chunk, limit=None).receipts


def snapshot(chain: Chain, dids: list[str]) -> dict[str, Any]:
    """State without times: keys, and each DID's versions, status and resources."""
    reader = LedgerDidReader(chain.state)
    out: dict[str, Any] = {"keys": sorted(k for k in chain.state.values if not is_meta_key(k))}
    for did in sorted(set(dids)):
        head = reader.did_head(did)
        if head is None:
            continue
        versions = [reader.did_version(did, s) for s in range(1, head.seq + 1)]
        out[did] = (head.deactivated, [v.document for v in versions if v is not None],
                    [reader.did_resource(did, f"r{b}") is not None for b in range(4)])
    return out


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ACTIONS, st.integers(1, 6))
def test_block_boundaries_do_not_change_outcomes(actions: list[tuple[str, int, int]], split: int) -> None:
    one_by_one, holders = Chain.start(), {}
    envelopes: list[bytes] = []
    accepted: list[bool] = []
    for n, (action, a, b) in enumerate(actions):
        env = realize(one_by_one, action, a, b, holders, n)
        if env is None:
            one_by_one.commit([])
            continue
        block, _ = one_by_one.commit([env])
        envelopes.append(env)
        accepted.append(len(block.operations) == 1)
        if accepted[-1] and action == "update":
            holders[sorted(holders)[a % len(holders)]] = KEYS[b]
    dids = list(holders)

    batched = Chain.start()
    batched_accepted: list[bool] = []
    for start in range(0, len(envelopes), split):
        chunk = envelopes[start:start + split]
        batched_accepted.extend(receipt.accepted for receipt in receipts_of(batched, chunk))
        batched.commit(chunk)
    assert batched_accepted == accepted
    assert snapshot(batched, dids) == snapshot(one_by_one, dids)

    for chain in (one_by_one, batched):
        values = {k: v for k, v in chain.state.values.items() if not is_meta_key(k)}
        rebuilt, _ = apply_updates(lambda _h: None, EMPTY, {sha256(k): sha256(v) for k, v in values.items()})
        root = read_tip(chain.state).app_root
        assert rebuilt == root
        for state_key, value in values.items():
            proof = prove(chain.state.get_node, root, sha256(state_key))
            assert verify_proof(root, sha256(state_key), sha256(value), proof)
            assert not verify_proof(root, sha256(state_key), sha256(value + b" "), proof)
            assert not verify_proof(root, sha256(state_key), None, proof)
        for i in range(5):
            absent = sha256(b"absent-%d" % i)
            assert verify_proof(root, absent, None, prove(chain.state.get_node, root, absent))
