"""Three-node demo (``python -m ledgr.demo``): the README's main job.

1. brings up a local testnet of three validator processes on 127.0.0.1 (as ``ledgr testnet up``),
   with an encrypted issuer keystore on node0;
2. creates a ``did:ledgr`` by submitting a signed ``did.create`` to node0 and waiting for its commit;
3. resolves the DID from node2 and checks the answer as a certified read — the QC of the block
   against the genesis validator set and the SMT path of the DID's records to that block's
   ``app_root`` — so a verifier could trust node2 alone;
4. an issuer (admin-made issuer, scoped API token) registers its did:ledgr and a revocation status
   list, issues a credential with a status entry on node0 (W3C VC API), a verifier checks it on
   node1 (valid), the issuer revokes it and a verifier on node2 sees it revoked;
5. stops one validator and shows the other two still commit a DID update (n=3 tolerates one crash);
6. shuts the testnet down (``--keep`` leaves it running and prints how to stop it).

Exits 0 when every step behaves as expected, 1 otherwise.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import secrets
import sys
import tempfile
import time
import urllib.error
import urllib.request
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ledgr.api.tokens import TokenStore
from ledgr.crypto import PrivateKey
from ledgr.errors import LedgrError
from ledgr.ledger.genesis import Genesis
from ledgr.node import testnet as tn
from ledgr.node.authoring import create_did, update_did
from ledgr.node.didclient import resolve_from_node
from ledgr.node.keystore import Keystore, secret_from_passphrase


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


def _call(url: str, method: str = "GET", body: Any = None, token: str | None = None) -> Any:
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return json.loads(response.read())
    except urllib.error.HTTPError as exc:
        raise RuntimeError(f"{method} {url} answered {exc.code}: {exc.read()[:300]!r}") from exc


def _wait_height(node: tn.TestnetNode, height: int) -> None:
    deadline = time.monotonic() + 30
    while (tn.status_of(node.url) or {}).get("height", 0) < height:
        if time.monotonic() > deadline:
            raise RuntimeError(f"{node.name} did not reach height {height}")
        time.sleep(0.05)


def _start(directory: Path) -> list[tn.TestnetNode]:
    """Create the testnet, give node0 an encrypted issuer keystore, start all three nodes."""
    nodes = tn.create(directory, 3, _free_base_port())
    passphrase = secrets.token_urlsafe(24)
    passphrase_file = directory / "keystore-passphrase"
    passphrase_file.write_text(passphrase)
    os.chmod(passphrase_file, 0o600)
    Keystore.create(Path(nodes[0].data_dir) / "keystore", secret_from_passphrase(passphrase))
    for i, node in enumerate(nodes):
        env = {"LEDGR_API_PUBLIC_BASE_URL": nodes[0].url}
        if i == 0:
            env["LEDGR_KEYSTORE_PASSPHRASE"] = passphrase
        tn.start_node(node, env=env)
    tn.save_manifest(directory, nodes)
    try:
        tn.wait_committed(nodes, 1, 60)
    except BaseException:
        tn.stop_nodes(nodes)
        raise
    return nodes


def _credentials(nodes: list[tn.TestnetNode]) -> None:
    """Issue on node0, verify on node1, revoke on node0, see it revoked on node2 (W3C VC API)."""
    a, b, c = nodes
    tokens = TokenStore(Path(a.data_dir) / "api")
    admin, _ = tokens.create(["admin"], label="demo admin", now=datetime.now(UTC))
    issuer = _call(f"{a.url}/v1/issuers", "POST", {"label": "Gemeente Demo", "didMethod": "ledgr"}, admin)
    did = issuer["did"]
    token, _ = tokens.create([f"issue:{did}", f"status:{did}"], label="issuer app", now=datetime.now(UTC))
    _call(f"{a.url}/v1/identifiers", "POST", {"verificationMethod": issuer["verificationMethod"]}, token)
    listed = _call(f"{a.url}/v1/status-lists", "POST", {"issuer": did, "statusPurpose": "revocation"}, token)
    _say("issuer registered on the ledger", f"{did} with status list {listed['statusListCredential']}")
    body = _call(f"{a.url}/v1/credentials/issue", "POST", {
        "credential": {"@context": ["https://www.w3.org/ns/credentials/v2"],
                       "type": ["VerifiableCredential"], "issuer": did,
                       "credentialSubject": {"id": "did:example:alice", "name": "Alice"}},
        "options": {"credentialStatus": {"statusPurpose": "revocation"}}}, token)
    vc = body["verifiableCredential"]
    _say("issued a credential on node0 (eddsa-rdfc-2022, with a status entry)",
         f"proof by {vc['proof']['verificationMethod']}")
    _wait_height(b, int((tn.status_of(a.url) or {}).get("height", 0)))
    result = _call(f"{b.url}/v1/credentials/verify", "POST", {"verifiableCredential": vc})
    if result.get("verified") is not True:
        raise RuntimeError(f"node1 did not verify the fresh credential: {result}")
    _say("verified it on node1", "verified: true (proof, validity, status, issuer binding)")
    _call(f"{a.url}/v1/credentials/status", "POST",
          {"credentialStatus": vc["credentialStatus"], "action": "revoke"}, token)
    _wait_height(c, int((tn.status_of(a.url) or {}).get("height", 0)))
    result = _call(f"{c.url}/v1/credentials/verify", "POST", {"verifiableCredential": vc})
    status = next(check for check in result["checks"] if check["check"] == "status")
    if result.get("verified") is not False or status.get("verified") is not False:
        raise RuntimeError(f"node2 still accepts the revoked credential: {result}")
    _say("revoked it on node0; node2 now reports it revoked", "verified: false (status check failed)")


def _free_base_port() -> int:
    for _ in range(200):
        base = random.randrange(20000, 60000, 20)
        if all(tn.port_free(p) for p in range(base, base + 6)):
            return base
    raise RuntimeError("no free port range on 127.0.0.1")


def run(directory: Path, keep: bool) -> int:
    _say("starting three validator nodes", f"testnet in {directory}")
    nodes = _start(directory)
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
        _credentials(nodes)
        tn.stop_node(nodes[1])
        tn.save_manifest(directory, nodes)
        document = result["didDocument"]
        document["service"] = [{"id": f"{did}#website", "type": "LinkedDomains",
                                "serviceEndpoint": "https://example.org"}]
        height = int((tn.status_of(nodes[0].url) or {}).get("height", 0))
        head = json.loads(urllib.request.urlopen(f"{nodes[0].url}/v1/state/did/{did}", timeout=10).read())
        prev = bytes.fromhex(head["entries"]["head"]["value"]["version_hash"])
        update = update_did(key, did, document, prev, genesis.chain_id, height)
        answer = _post(nodes[2].url, update)
        _say("stopped node1; node0 and node2 still commit",
             f"DID update committed at height {answer['height']} with QC signers {answer['qc']['signers']}")
        _wait_height(nodes[0], int(answer["height"]))
        resolved = resolve_from_node(nodes[0].url, did, proof=True, trust_dir=trust)
        version = resolved["didDocumentMetadata"]["versionId"]
        if version != "2":
            raise RuntimeError(f"node0 resolves version {version}, not 2")
        _say("done", "every step behaved as expected")
        return 0
    except (LedgrError, RuntimeError, OSError, KeyError, AssertionError) as exc:
        detail = getattr(exc, "detail", None) or str(exc) or repr(exc)
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
