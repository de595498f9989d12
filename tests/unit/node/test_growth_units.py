"""Growth building blocks without processes: validator-change proposals against the real ledger,
SMT page checks, and snapshot staging/installation in real LMDB stores."""

from __future__ import annotations

from pathlib import Path

import pytest

from ledgr.crypto import PrivateKey, sha256
from ledgr.errors import InvalidInput, PeerError, StorageError
from ledgr.ledger.records import ValidatorRecord, decode
from ledgr.ledger.smt import EMPTY, apply_updates
from ledgr.ledger.state import VALIDATORS_KEY
from ledgr.node import membership
from ledgr.node.membership import Proposal
from ledgr.node.statesync import check_page
from ledgr.store import snapshot
from ledgr.store.store import Store
from tests.unit.ledger.chain import CHAIN_ID, Chain


def record(chain: Chain) -> ValidatorRecord:
    raw = chain.state.get(VALIDATORS_KEY)
    assert raw is not None
    return ValidatorRecord.from_json(decode(raw))


def test_a_proposal_approved_by_a_quorum_becomes_the_set_at_h_plus_2() -> None:
    chain = Chain.start()
    current = record(chain)
    node_key, admin_key = PrivateKey.generate(), PrivateKey.generate()
    target = membership.added(current.active, "node3", node_key.public_key.multikey,
                              admin_key.public_key.multikey)
    proposal = Proposal(CHAIN_ID, current.version_hash, 500, False, "add node3", target)
    first = proposal.approved_by(chain.admin_keys[0])
    second = Proposal.from_json(proposal.to_json()).approved_by(chain.admin_keys[1])
    outsider = proposal.approved_by(PrivateKey.generate())
    merged = first.merged(second).merged(outsider)
    assert merged.valid_approvers(current.active) == {chain.admin_keys[i].public_key.multikey for i in (0, 1)}
    alone = first.merged(outsider)
    assert chain.check(alone.envelope(chain.admin_keys[0])) == "unauthorized-key"
    assert chain.check(merged.envelope(chain.admin_keys[2])) == "unauthorized-key"  # the outsider
    chain.accept(merged.only_valid(current.active).envelope(chain.admin_keys[2]))
    chain.commit([])
    chain.commit([])
    assert record(chain).active == target and record(chain).active.size == 4


def test_proposal_edits_and_mismatches_are_refused() -> None:
    chain = Chain.start()
    active = record(chain).active
    with pytest.raises(InvalidInput, match="no validator named"):
        membership.removed(active, "nobody")
    with pytest.raises(InvalidInput, match="Multikey"):
        membership.added(active, "x", "not-a-key", "z6Mk")
    rotated = membership.rotated(active, active.validators[1].name, PrivateKey.generate().public_key.multikey)
    assert rotated.validators[1].admin_key == active.validators[1].admin_key
    assert rotated.validators[1].node_key != active.validators[1].node_key
    one = Proposal(CHAIN_ID, "00" * 32, 10, False, "x", membership.removed(active, active.validators[0].name))
    other = Proposal(CHAIN_ID, "00" * 32, 11, False, "x", one.validator_set)
    with pytest.raises(InvalidInput, match="different proposals"):
        one.merged(other)
    with pytest.raises(InvalidInput):
        Proposal.from_json({"type": "something else"})


def tree(count: int) -> tuple[bytes, dict[bytes, bytes], dict[bytes, bytes]]:
    values = {f"k{i}".encode(): f"value {i}".encode() for i in range(count)}
    root, pages = apply_updates(lambda _h: None, EMPTY, {sha256(k): sha256(v) for k, v in values.items()})
    return root, pages, values


def test_every_page_checks_against_its_hash_and_a_tampered_page_does_not() -> None:
    root, pages, values = tree(300)
    leaves: dict[bytes, bytes] = {}
    frontier = [root]
    while frontier:
        page_hash = frontier.pop()
        found, refs = check_page(page_hash, pages[page_hash])
        leaves.update({leaf.key: leaf.value for leaf in found})
        frontier.extend(refs)
    assert leaves == {sha256(k): sha256(v) for k, v in values.items()}
    page = bytearray(pages[root])
    page[-1] ^= 1
    with pytest.raises(PeerError):
        check_page(root, bytes(page))
    with pytest.raises(PeerError):
        check_page(root, b"\x02\x07")


def source_store(path: Path, values: dict[bytes, bytes], root: bytes, pages: dict[bytes, bytes]) -> Store:
    store = Store.open(path)
    store.initialize(genesis_hash=b"\x01" * 32, chain_id="c", state_writes=dict(values), smt_nodes=pages,
                     app_root=root)
    return store


def test_snapshot_chunks_stage_and_install_exactly_the_leaves(tmp_path: Path) -> None:
    root, pages, values = tree(120)
    source = source_store(tmp_path / "a", values, root, pages)
    target = Store.open(tmp_path / "b")
    target.initialize(genesis_hash=b"\x01" * 32, chain_id="c", state_writes={b"stale": b"x"}, smt_nodes={},
                      app_root=EMPTY)
    leaves = {sha256(k): sha256(v) for k, v in values.items()}
    cursor, chunks = b"", 0
    while True:
        entries, done = source.read(lambda view, after=cursor: snapshot.state_chunk(view, after, 25, 1 << 20))
        chunks += 1
        if entries:
            cursor = entries[-1][0]
        staged = entries[:-1] if chunks == 1 else entries  # hold one entry back
        snapshot.stage(target, {"cursor": cursor.hex()}, {}, staged)
        if done:
            break
    assert chunks == 5  # 120 entries in chunks of 25 (meta keys skipped)
    assert snapshot.read_marker(target) is not None
    with pytest.raises(StorageError, match="119 of the snapshot's 120"):
        snapshot.install(target, leaves, b"block", b"qc", 7, b"\x02" * 32, root, 1000, b"\x01" * 32)
    first_chunk, _ = source.read(lambda view: snapshot.state_chunk(view, b"", 25, 1 << 20))
    held_back = first_chunk[-1]
    snapshot.stage(target, {"cursor": ""}, {}, [held_back])
    assert snapshot.install(target, leaves, b"block", b"qc", 7, b"\x02" * 32, root, 1000, b"\x01" * 32) == 120
    tip = target.tip()
    assert tip is not None and tip.height == 7 and tip.app_root == root
    missing = held_back[0][1:]
    assert target.get(b"stale") is None and target.get(missing) == values[missing]
    assert snapshot.read_marker(target) is None
    # the history below the anchor is recorded as missing, to be back-filled down to block 6
    marker = snapshot.read_backfill_marker(target)
    assert marker == {"anchor": 7, "anchor_prev_hash": "01" * 32, "follower": None}
    assert target.read(snapshot.missing_history) == 6
    source.close()
    target.close()


async def test_a_key_outside_the_set_is_a_sync_client_only() -> None:
    from ledgr.node.peers import KIND_CONSENSUS, KIND_STATUS
    from tests.unit.node.test_peers import make_nodes, start, wait_for

    validator, observer = make_nodes(2)
    await start([validator, observer], validators={validator.key.public_key.multikey})
    try:
        assert validator.net is not None and observer.net is not None
        await wait_for(lambda: len(validator.net.connected()) == 1 and len(observer.net.connected()) == 1)
        me = observer.key.public_key.multikey
        observer.net.send(validator.key.public_key.multikey, KIND_CONSENSUS, b"vote")
        observer.net.send(validator.key.public_key.multikey, KIND_STATUS, b"status")
        await wait_for(lambda: any(kind == KIND_STATUS for _p, kind, _b in validator.received))
        assert [(p, k, b) for p, k, b in validator.received] == [(me, KIND_STATUS, b"status")]
        assert validator.metrics.peer_dropped.labels("not_validator")._value.get() == 1
        validator.net.broadcast(KIND_CONSENSUS, b"proposal")
        validator.net.send(me, KIND_STATUS, b"height")
        await wait_for(lambda: len(observer.received) == 1)
        assert observer.received[0][1:] == (KIND_STATUS, b"height")
    finally:
        for node in (validator, observer):
            assert node.net is not None
            await node.net.close()


def test_snapshot_frames_that_are_truncated_or_unknown_are_peer_errors() -> None:
    from ledgr.node.statesync import StateSync

    sync = StateSync(node=None)  # type: ignore[arg-type]
    with pytest.raises(PeerError):
        sync.on_frame("peer", b"\x01\x00")
    with pytest.raises(PeerError):
        sync.on_frame("peer", b"\x09\x00\x00\x00\x01")
