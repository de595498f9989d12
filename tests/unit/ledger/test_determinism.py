"""Same blocks, same bytes, same app_root in other processes (different hash seeds)."""

from __future__ import annotations

import os
import subprocess
import sys

from tests.paths import ROOT

SCENARIO = """
from tests.unit.ledger.chain import Chain, document_for, key, status_credential
chain = Chain.start()
a, b = key("det-a"), key("det-b")
did, env = chain.create_did(a, b)
chain.accept(env)
chain.accept(chain.op("did.update", did, {"document": document_for(did, b),
                                          "compromisedKeys": [a.public_key.multikey]},
                      b, did + "#key-2", prev=chain.prev(did)))
vm = did + "#key-1"
chain.accept(chain.op("statuslist.create", "https://e.example/l", {
    "credential": status_credential("https://e.example/l", did, vm, b, revoked=(5, 9))}, b, vm))
chain.accept(chain.op("resource.create", did + "/resources/s", {
    "name": "s", "mediaType": "application/json", "content": {"z": 1, "a": [1, 2]}}, b, vm))
import dataclasses
from ledgr.ledger.author import evidence_submit
from ledgr.ledger.rules_evidence import SignedVote
culprit = chain.node_keys[1]
votes = []
for block_id in (b"\x01" * 32, b"\x02" * 32):
    unsigned = SignedVote("precommit", 2, 0, block_id, -1, b"")
    votes.append(dataclasses.replace(unsigned, signature=culprit.sign(unsigned.sign_bytes("ledgr-test"))))
chain.accept(evidence_submit(culprit.public_key, votes, node_key=chain.node_keys[0], chain_id="ledgr-test",
                             valid_until_height=100))
print(chain.blocks[-1].header.app_root.hex(), chain.blocks[-1].hash().hex())
"""


def run(seed: str) -> str:
    env = {**os.environ, "PYTHONHASHSEED": seed, "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-c", SCENARIO], env=env, cwd=ROOT, capture_output=True,
                          text=True, timeout=120, check=True)
    return done.stdout.strip()


def test_roots_agree_across_processes() -> None:
    first, second = run("1"), run("4242")
    assert first == second
    assert len(first.split()) == 2 and all(len(part) == 64 for part in first.split())
