"""``ledgr validators rotate-key`` end to end with real node processes (issue 7 "Growth").

Three validators under a light write load: node1's operator rotates its consensus key through the
CLI (proposal, approval by a second operator, submission). The change commits at H and signs from
H+2; node1 keeps running with the retired key until then (and as an observer of the heights after),
is restarted with the new key, and votes again. Checked: the network commits throughout, every QC
from H+2 verifies with the new set and names node1 among its signers, a precommit signature by the
retired key is refused in such a QC, and a certified read through ``ledgr did resolve --proof`` (a
verifier that pinned the genesis set) still verifies by following the change.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from ledgr.crypto import PrivateKey
from ledgr.errors import VerificationFailed
from ledgr.ledger.formats import Header, QuorumCertificate, precommit_sign_bytes, verify_qc
from ledgr.ledger.genesis import Genesis
from ledgr.ledger.validators import ValidatorSet
from ledgr.node import membership
from ledgr.node import testnet as tn
from ledgr.node.authoring import create_did
from ledgr.node.checkpoint import read_checkpoint_file
from ledgr.node.keyfile import write_secret_key
from tests.integration.growth_ports import free_base_port
from tests.integration.test_growth import Net, _change, _with_load, get_json, ledgr, wait
from tests.integration.test_node_cluster import post_op

pytestmark = [pytest.mark.integration, pytest.mark.timeout(180)]


@pytest.fixture(scope="module")
def net(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Net]:
    directory = tmp_path_factory.mktemp("rotate") / "net"
    nodes = tn.up(directory, 3, free_base_port(3), timeout_s=60,
                  consensus={"heartbeat_ms": 1000, "timeout_propose_ms": 500})
    genesis = Genesis.from_json(json.loads((directory / "genesis.json").read_text()))
    try:
        yield Net(directory, nodes, genesis)
    finally:
        tn.stop_nodes(nodes)


def _block(net: Net, i: int, height: int) -> tuple[Header, QuorumCertificate]:
    block = net.block(i, height)
    return (Header.decode(bytes.fromhex(block["header"]["encoded"])),
            QuorumCertificate.decode(bytes.fromhex(block["qc"]["encoded"])))


def test_rotate_key_under_load_then_the_node_votes_with_its_new_key(net: Net, tmp_path: Path) -> None:
    node1 = net.nodes[1]
    key_file = Path(node1.config).parent / "validator.key"
    retired = tn.validator_key(node1)
    fresh = PrivateKey.generate()
    key = PrivateKey.generate()
    did, envelope = create_did(key, net.genesis.chain_id, net.height(0))
    receipt = post_op(net.nodes[0].url, envelope)
    assert get_json(f"{net.nodes[0].url}/v1/operations/{receipt['hash']}?wait=10")["status"] == "committed"
    trust = tmp_path / "trust"
    before = json.loads(ledgr("did", "resolve", did, "--proof", "--trust-dir", str(trust),
                              "--node", net.nodes[2].url))
    assert before["didResolutionMetadata"]["ledgrCertifiedRead"]["verified"] is True

    state: dict[str, int] = {}

    def rotate() -> None:
        changed = _change(net, ["rotate-key", "node1", fresh.public_key.multikey], [2], tmp_path)
        active = state["active"] = int(changed["activates_at"])
        # node1 still holds the retired key: from H+2 it is no longer in the set, node0 and node2 carry on
        wait(lambda: min(net.height(i) for i in (0, 2)) >= active + 2, 30, "the rotated set to sign")
        tn.stop_node(node1)
        os.replace(key_file, key_file.with_name("validator.key.retired"))
        write_secret_key(key_file, fresh)
        wait(lambda: tn.port_free(node1.api_port) and tn.port_free(node1.p2p_port), 15, "node1's ports")
        tn.start_node(node1)
        wait(lambda: get_json(f"{node1.url}/v1/status")["voting"] is True, 30,
             "node1 to vote with its new key")
        restarted = net.height(0)
        # every node keeps the QC it collected itself: node1's own commits carry its new signature
        wait(lambda: any(1 in _block(net, 1, h)[1].signer_indexes()
                         for h in range(restarted, net.height(1) + 1)), 60, "a QC signed by node1's new key")
        target = net.height(0) + 3
        wait(lambda: min(net.height(i) for i in range(3)) >= target, 30, "all three to commit")

    result = asyncio.run(_with_load(net, rotate))
    assert len(result.records) > 20 and result.committed
    lost = [r for r in result.records if r.accepted and r.committed_s is None]
    for record in lost:
        url = f"{net.nodes[2].url}/v1/operations/{record.op_hash}"
        wait(lambda u=url: get_json(u)["status"] == "committed", 30, f"operation {record.op_hash} to commit")

    active = state["active"]
    record = membership.record_from_state(get_json(f"{net.nodes[0].url}/v1/state/validators/current"))
    new_set: ValidatorSet = record.active
    assert new_set.validators[1].node_key == fresh.public_key
    old_set = net.genesis.validator_set
    top = min(net.height(i) for i in range(3))
    signed_by_node1 = []
    for height in range(active, top + 1):
        for i in range(3):
            header, qc = _block(net, i, height)
            verify_qc(qc, header, new_set)  # every QC from H+2 verifies with the new set…
            with pytest.raises(VerificationFailed):
                verify_qc(qc, header, old_set)  # …and not with the old one
            if 1 in qc.signer_indexes():
                signed_by_node1.append((i, height))
    assert signed_by_node1, "node1 signed no QC with its new key"
    # the retired key's precommit is refused where node1's signature is required
    holder, height = signed_by_node1[-1]
    header, qc = _block(net, holder, height)
    message = precommit_sign_bytes(header.chain_id, height, qc.round, qc.block_hash)
    votes = dict(zip(qc.signer_indexes(), qc.signatures, strict=True))
    votes[1] = retired.sign(message)
    forged = QuorumCertificate.from_votes(height, qc.round, qc.block_hash, new_set.size,
                                          {i: votes[i] for i in (1, min(i for i in votes if i != 1))})
    with pytest.raises(VerificationFailed):
        verify_qc(forged, header, new_set)
    # the block before H+2 is the last one the old set signed, announcing the new set
    header, qc = _block(net, 0, active - 1)
    verify_qc(qc, header, old_set)
    assert header.next_validators_hash == new_set.hash()
    # a verifier that pinned the genesis set follows the change and still verifies the read
    after = json.loads(ledgr("did", "resolve", did, "--proof", "--trust-dir", str(trust),
                             "--node", net.nodes[1].url))
    certified = after["didResolutionMetadata"]["ledgrCertifiedRead"]
    assert certified["verified"] is True and certified["height"] >= active
    assert certified["validatorsHash"] == new_set.hash().hex()
    # the followed change moved the verifier's anchor forward: a checkpoint with the new set
    pinned = read_checkpoint_file(trust / f"{net.genesis.chain_id}.checkpoint.json")
    assert pinned.height == certified["height"] and pinned.validators.hash() == new_set.hash()
    again = json.loads(ledgr("did", "resolve", did, "--proof", "--trust-dir", str(trust),
                             "--node", net.nodes[0].url))
    assert again["didResolutionMetadata"]["ledgrCertifiedRead"]["trustAnchorHeight"] == pinned.height
    # the verifier's staleness bound: 1 ms is older than any answer can be
    stale = subprocess.run([*tn.ledgr_command(), "did", "resolve", did, "--proof", "--trust-dir", str(trust),
                            "--max-age-ms", "1", "--node", net.nodes[0].url],
                           capture_output=True, text=True, timeout=120)
    assert stale.returncode != 0 and "ms old (limit 1 ms)" in stale.stderr
    # operators publish a checkpoint; a new verifier starts from it instead of genesis
    published = tmp_path / "checkpoint.json"
    published.write_text(ledgr("ledger", "checkpoint", "--node", net.nodes[2].url, "--trust-dir", str(trust)))
    offered = read_checkpoint_file(published)
    assert offered.height >= pinned.height and offered.validators.hash() == new_set.hash()
    fresh_trust = tmp_path / "fresh-trust"
    started = json.loads(ledgr("did", "resolve", did, "--proof", "--trust-dir", str(fresh_trust),
                               "--checkpoint", str(published), "--node", net.nodes[1].url))
    assert started["didResolutionMetadata"]["ledgrCertifiedRead"]["trustAnchorHeight"] == offered.height
    # a checkpoint naming a block the network does not hold is refused, with one line
    forged = offered.to_json() | {"block_hash": "00" * 32}
    bad = tmp_path / "forged.json"
    bad.write_text(json.dumps(forged))
    command = [*tn.ledgr_command(), "did", "resolve", did, "--proof", "--trust-dir", str(tmp_path / "t2"),
               "--checkpoint", str(bad), "--node", net.nodes[0].url]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert done.returncode != 0 and "holds another block" in done.stderr and done.stderr.count("\n") == 1
