"""Three-node demo (``python -m ledgr.node.demo``): the README's run command.

1. brings up a local testnet of three validator processes on 127.0.0.1 (``ledgr testnet up``);
2. creates a ``did:ledgr`` by submitting a signed ``did.create`` to node0 and waiting for its commit;
3. resolves the DID from node2 and checks the answer as a certified read — the QC of the block
   against the genesis validator set and the SMT path of the DID's records to that block's
   ``app_root`` — so a verifier could trust node2 alone;
4. stops one validator and shows the other two still commit a DID update (n=3 tolerates one crash);
5. shuts the testnet down (``--keep`` leaves it running and prints how to stop it).

Exits 0 when every step behaves as expected, 1 otherwise.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

from ledgr.crypto import PrivateKey
from ledgr.errors import LedgrError
from ledgr.ledger.genesis import Genesis
from ledgr.node import testnet as tn
from ledgr.node.authoring import create_did, update_did
from ledgr.node.didclient import resolve_from_node


def _say(step: str, detail: str = "") -> None:
    print(f"==> {step}" + (f"\n    {detail}" if detail else ""), flush=True)


def _post(url: str, envelope: bytes) -> dict[str, Any]:
    request = urllib.request.Request(f"{url}/v1/operations", data=envelope, method="POST",
                                     headers={"Content-Type": "application/octet-stream"})
    with urllib.request.urlopen(request, timeout=10) as response:
        accepted = json.loads(response.read())
    with urllib.request.urlopen(f"{url}/v1/operations/{accepted['hash']}?wait=20", timeout=30) as response:
        answer: dict[str, Any] = json.loads(response.read())
    if answer.get("status") != "committed":
        raise RuntimeError(f"operation {accepted['hash']} not committed: {answer}")
    return answer


def _free_base_port() -> int:
    for _ in range(200):
        base = random.randrange(20000, 60000, 20)
        if all(tn.port_free(p) for p in range(base, base + 6)):
            return base
    raise RuntimeError("no free port range on 127.0.0.1")


def run(directory: Path, keep: bool) -> int:
    _say("starting three validator nodes", f"ledgr testnet up --dir {directory}")
    nodes = tn.up(directory, 3, _free_base_port(), timeout_s=60)
    for node in nodes:
        print(f"    {node.name}: {node.url}  (config {node.config})")
    try:
        genesis = Genesis.from_json(json.loads((directory / "genesis.json").read_text()))
        status = tn.status_of(nodes[0].url) or {}
        key = PrivateKey.generate()
        did, envelope = create_did(key, genesis.chain_id, int(status.get("height", 0)))
        started = time.monotonic()
        receipt = _post(nodes[0].url, envelope)
        _say("created a DID through node0",
             f"{did}\n    committed at height {receipt['height']} in "
             f"{(time.monotonic() - started) * 1000:.0f} ms; QC signers {receipt['qc']['signers']}")
        deadline = time.monotonic() + 10
        while (tn.status_of(nodes[2].url) or {}).get("height", 0) < receipt["height"]:
            if time.monotonic() > deadline:
                raise RuntimeError("node2 did not receive the block")
            time.sleep(0.05)
        trust = directory / "trust"
        result = resolve_from_node(nodes[2].url, did, proof=True, trust_dir=trust)
        certified = result["didResolutionMetadata"]["ledgrCertifiedRead"]
        _say("resolved it from node2 as a certified read",
             f"document id {result['didDocument']['id']}, key "
             f"{result['didDocument']['verificationMethod'][0]['publicKeyMultibase']}\n"
             f"    QC of block {certified['height']} checked against the genesis validator set "
             f"(pinned in {trust}); SMT proof to app_root {certified['appRoot'][:16]}…")
        tn.stop_node(nodes[1])
        tn.save_manifest(directory, nodes)
        document = result["didDocument"]
        document["service"] = [{"id": f"{did}#website", "type": "LinkedDomains",
                                "serviceEndpoint": "https://example.org"}]
        head = json.loads(urllib.request.urlopen(f"{nodes[0].url}/v1/state/did/{did}", timeout=10).read())
        prev = bytes.fromhex(head["entries"]["head"]["value"]["version_hash"])
        update = update_did(key, did, document, prev, genesis.chain_id, receipt["height"])
        answer = _post(nodes[2].url, update)
        _say("stopped node1; node0 and node2 still commit",
             f"DID update committed at height {answer['height']} with QC signers {answer['qc']['signers']}")
        resolved = resolve_from_node(nodes[0].url, did, proof=True, trust_dir=trust)
        assert resolved["didDocumentMetadata"]["versionId"] == "2"
        _say("done", "every step behaved as expected")
        return 0
    except (LedgrError, RuntimeError, OSError, KeyError, AssertionError) as exc:
        detail = getattr(exc, "detail", None) or str(exc)
        print(f"demo failed: {detail}", file=sys.stderr)
        return 1
    finally:
        if keep:
            print(f"    the testnet keeps running; stop it with: ledgr testnet down --dir {directory}")
        else:
            tn.stop_nodes(nodes)
            tn.save_manifest(directory, nodes)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="ledgr three-node demo")
    parser.add_argument("--dir", type=Path, default=None, help="testnet directory (default: a temp dir)")
    parser.add_argument("--keep", action="store_true", help="leave the testnet running")
    args = parser.parse_args(argv)
    directory = args.dir or Path(tempfile.mkdtemp(prefix="ledgr-demo-")) / "testnet"
    try:
        return run(directory, args.keep)
    except LedgrError as exc:
        print(f"demo failed: {exc.detail}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    raise SystemExit(main())
