"""A verifier follows a key rotation from its pinned set (``ledgr.node.setchain``), and a node that
reports sets or heights it cannot back with signed headers is refused."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from ledgr.errors import VerificationFailed
from ledgr.ledger.records import decode
from ledgr.ledger.validator_history import HISTORY_KEY
from ledgr.ledger.validators import Validator
from ledgr.node.setchain import follow
from tests.unit.ledger.chain import Chain, key
from tests.unit.ledger.test_rules_evidence import rotate


def rotated_chain() -> tuple[Chain, Any, dict[str, Any], dict[str, Any], dict[int, dict[str, Any]]]:
    chain = Chain.start()
    genesis_set, genesis_keys = chain.validator_set, list(chain.node_keys)
    chain.commit([])
    rotate(chain, 1, key("setchain-rotated"))  # activates at 4
    for _ in range(2):
        chain.commit([])
    blocks: dict[int, dict[str, Any]] = {}
    for block in chain.blocks:
        old = block.height < 4
        qc = chain.qc(block, vset=genesis_set if old else chain.validator_set,
                      keys=genesis_keys if old else chain.node_keys)
        blocks[block.height] = {"header": {"encoded": block.header.encode().hex()},
                                "qc": {"encoded": qc.encode().hex()}}
    raw_record, raw_history = chain.state.get(b"validators"), chain.state.get(HISTORY_KEY)
    assert raw_record is not None and raw_history is not None
    return chain, genesis_set, decode(raw_record), decode(raw_history), blocks


def test_a_pinned_genesis_set_follows_a_rotation() -> None:
    chain, genesis_set, record, history, blocks = rotated_chain()
    target = chain.blocks[-1].header.validators_hash
    fetched: list[int] = []

    def fetch(height: int) -> dict[str, Any]:
        fetched.append(height)
        return blocks[height]

    reached = follow(genesis_set, target, record, history, fetch)
    assert reached == chain.validator_set and fetched == [3]  # one header per change
    assert follow(genesis_set, genesis_set.hash(), record, history, fetch) == genesis_set


def test_sets_the_signed_headers_do_not_announce_are_refused() -> None:
    chain, genesis_set, record, history, blocks = rotated_chain()
    target = chain.blocks[-1].header.validators_hash
    # a node claiming another incoming set (one key of its choosing) is caught at header 3
    members = list(chain.validator_set.validators)
    members[2] = Validator(members[2].name, key("setchain-mallory").public_key, members[2].admin_key)
    lie = dataclasses.replace(chain.validator_set, validators=tuple(members))
    with pytest.raises(VerificationFailed):
        follow(genesis_set, lie.hash(), {**record, "active": lie.to_json()}, history, blocks.__getitem__)
    # a node hiding the change (claiming the new set was active from height 1)
    hidden = {"active_since": 1, "past": []}
    with pytest.raises(VerificationFailed):
        follow(genesis_set, target, record, hidden, blocks.__getitem__)
    # a node moving the change to another height: that header announces nothing new
    moved = {**history, "active_since": 3}
    with pytest.raises(VerificationFailed):
        follow(genesis_set, target, record, moved, blocks.__getitem__)
    # a header signed by someone else than the trusted set
    forged = dict(blocks)
    forged[3] = {**blocks[3], "qc": blocks[5]["qc"]}
    with pytest.raises(VerificationFailed):
        follow(genesis_set, target, record, history, forged.__getitem__)
