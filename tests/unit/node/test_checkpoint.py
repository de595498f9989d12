"""Verifier checkpoints (ledgr.node.checkpoint): JSON form, pinning only forward, the genesis they
belong to, and a block's QC checked against the checkpoint's set (real Ed25519 QCs from the store
workload)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ledgr.errors import ConfigError, InvalidInput, VerificationFailed
from ledgr.ledger.genesis import Genesis
from ledgr.node.checkpoint import (
    Checkpoint,
    checkpoint_from_block,
    checkpoint_path,
    load_checkpoint,
    read_checkpoint_file,
    save_checkpoint,
)
from ledgr.store import Store
from tests.unit.store.workload import DidWorkload


def _answer(block_bytes: bytes, qc_bytes: bytes) -> dict[str, dict[str, str]]:
    return {"header": {"encoded": block_bytes.hex()}, "qc": {"encoded": qc_bytes.hex()}}


Chain = tuple[DidWorkload, dict[str, dict[str, str]]]


@pytest.fixture
def chain(tmp_path: Path) -> Chain:
    workload = DidWorkload.for_seed("checkpoint")
    with Store.open(tmp_path / "store") as store:
        store.initialize_genesis(workload.genesis)
        with store.snapshot() as view:
            block, qc, result = workload.next_block(view, 2)
        store.commit_block(block, qc, result)
    return workload, _answer(block.header.encode(), qc.encode())


def test_a_block_certified_by_the_set_becomes_a_checkpoint(chain: Chain) -> None:
    workload, answer = chain
    genesis: Genesis = workload.genesis
    found = checkpoint_from_block(genesis, answer, genesis.validator_set)
    assert found.height == 1 and found.genesis_hash == genesis.hash() and found.chain_id == genesis.chain_id
    assert Checkpoint.from_json(json.loads(json.dumps(found.to_json()))) == found
    other = DidWorkload.for_seed("another network").genesis.validator_set
    with pytest.raises(VerificationFailed):
        checkpoint_from_block(genesis, answer, other)  # not signed by that set


def test_pinning_moves_only_forward_and_names_its_genesis(chain: Chain, tmp_path: Path) -> None:
    workload, answer = chain
    genesis = workload.genesis
    trust = tmp_path / "trust"
    first = checkpoint_from_block(genesis, answer, genesis.validator_set)
    assert load_checkpoint(trust, genesis) is None
    assert save_checkpoint(trust, first) is True
    later = Checkpoint(first.chain_id, first.genesis_hash, 10, b"\x01" * 32, first.validators)
    assert save_checkpoint(trust, later) is True
    assert save_checkpoint(trust, first) is False  # never back
    assert load_checkpoint(trust, genesis) == later
    stranger = Checkpoint(first.chain_id, b"\x02" * 32, 11, b"\x01" * 32, first.validators)
    checkpoint_path(trust, genesis.chain_id).write_text(json.dumps(stranger.to_json()))
    with pytest.raises(VerificationFailed):
        load_checkpoint(trust, genesis)
    checkpoint_path(trust, genesis.chain_id).write_text("{not json")
    with pytest.raises(ConfigError):
        load_checkpoint(trust, genesis)


def test_malformed_checkpoint_files_are_refused(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="does not exist"):
        read_checkpoint_file(tmp_path / "missing.json")
    bad = tmp_path / "bad.json"
    for body in ('{"height": 1}', '{"chain_id": "c", "genesis_hash": "zz", "height": 1, "block_hash": "", '
                 '"validators": {}}', "[]"):
        bad.write_text(body)
        with pytest.raises(InvalidInput):
            read_checkpoint_file(bad)
