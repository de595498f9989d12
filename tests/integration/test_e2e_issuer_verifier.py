"""End to end over HTTP against three real node processes (issue 6 "Evidence"): an issuer with a token
creates its did:ledgr and a status list and issues a credential with a status entry on node A; a
verifier on node B finds it valid; the issuer revokes it (with the CLI, against node A); a verifier on
node C sees it revoked. A presentation with challenge and domain verifies on B; replayed (another
challenge) or for another domain it does not. Status list credentials are served by every node from
its own ledger under the network's public address."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ledgr.api.tokens import TokenStore
from ledgr.crypto import PrivateKey, sealed
from ledgr.did.key import did_key_from_public_key
from ledgr.node import testnet as tn
from ledgr.node.keystore import Keystore, secret_from_passphrase
from ledgr.vc import create_presentation, sign_presentation
from tests.integration.test_node_cluster import worker_pids

pytestmark = [pytest.mark.integration, pytest.mark.timeout(300)]

PASSPHRASE = "e2e keystore passphrase"


def call(url: str, method: str = "GET", body: Any = None, token: str | None = None) -> tuple[int, Any]:
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"null")


@pytest.fixture(scope="module")
def network(tmp_path_factory: pytest.TempPathFactory) -> Iterator[list[tn.TestnetNode]]:
    directory = tmp_path_factory.mktemp("e2e") / "net"
    nodes = tn.create(directory, 3, tn.free_base_port(3), consensus={"heartbeat_ms": 2000})
    public = nodes[0].url  # the network's public address (a load balancer in production)
    Keystore.create(Path(nodes[0].data_dir) / "keystore", secret_from_passphrase(PASSPHRASE),
                    params=sealed.TEST_ONLY_MINIMUM)
    try:
        for i, node in enumerate(nodes):
            env = {"LEDGR_API_PUBLIC_BASE_URL": public}
            if i == 0:
                env["LEDGR_KEYSTORE_PASSPHRASE"] = PASSPHRASE
            tn.start_node(node, env=env)
        tn.wait_committed(nodes, 1, 60)
        yield nodes
    finally:
        tn.stop_nodes(nodes)


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*tn.ledgr_command(), *args], capture_output=True, text=True, timeout=120,
                          env={**os.environ, "LEDGR_LOG_FORMAT": "json"}, check=False)


def wait_height(node: tn.TestnetNode, height: int) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        status = tn.status_of(node.url)
        if status is not None and status["height"] >= height:
            return
        time.sleep(0.05)
    raise AssertionError(f"{node.name} did not reach height {height}")


def test_issue_on_a_verify_on_b_revoke_and_see_it_on_c(network: list[tn.TestnetNode]) -> None:
    a, b, c = network
    tokens = TokenStore(Path(a.data_dir) / "api")
    admin, _ = tokens.create(["admin"], label="admin", now=_now())
    code, issuer = call(f"{a.url}/v1/issuers", "POST", {"label": "Gemeente E2E", "didMethod": "ledgr"}, admin)
    assert code == 201, issuer
    did = issuer["did"]
    made = cli("token", "create", "--data-dir", a.data_dir, "--label", "issuer app",
               "--scope", f"issue:{did}", "--scope", f"status:{did}")
    assert made.returncode == 0, made.stderr
    token = made.stdout.strip()

    code, created = call(f"{a.url}/v1/identifiers", "POST",
                         {"verificationMethod": issuer["verificationMethod"]}, token)
    assert code == 201 and created["did"] == did, created
    code, listed = call(f"{a.url}/v1/status-lists", "POST", {"issuer": did, "statusPurpose": "revocation"},
                        token)
    assert code == 201, listed
    assert listed["statusListCredential"].startswith(a.url + "/v1/status-lists/")

    code, body = call(f"{a.url}/v1/credentials/issue", "POST", {
        "credential": {"@context": ["https://www.w3.org/ns/credentials/v2"], "type": ["VerifiableCredential"],
                       "issuer": did, "credentialSubject": {"id": "did:example:alice", "name": "Alice"}},
        "options": {"credentialStatus": {"statusPurpose": "revocation"}}}, token)
    assert code == 201, body
    vc = body["verifiableCredential"]
    assert vc["credentialStatus"]["statusListCredential"] == listed["statusListCredential"]
    wait_height(b, int(tn.status_of(a.url)["height"]))  # type: ignore[index]

    code, result = call(f"{b.url}/v1/credentials/verify", "POST", {"verifiableCredential": vc})
    assert code == 200 and result["verified"] is True, result

    (Path(a.data_dir).parent / "vc.json").write_text(json.dumps(vc))
    revoked = cli("vc", "revoke", "--node", a.url, "--token", token, str(Path(a.data_dir).parent / "vc.json"),
                  "--json")
    assert revoked.returncode == 0, revoked.stderr
    assert json.loads(revoked.stdout)["set"] is True
    wait_height(c, int(tn.status_of(a.url)["height"]))  # type: ignore[index]

    code, result = call(f"{c.url}/v1/credentials/verify", "POST", {"verifiableCredential": vc})
    assert code == 200 and result["verified"] is False
    status = next(check for check in result["checks"] if check["check"] == "status")
    assert status["verified"] is False
    checked = cli("vc", "verify", "--node", c.url, str(Path(a.data_dir).parent / "vc.json"))
    assert checked.returncode == 1, checked.stdout

    unsigned = Path(a.data_dir).parent / "unsigned.json"
    unsigned.write_text(json.dumps({"@context": ["https://www.w3.org/ns/credentials/v2"],
                                    "type": ["VerifiableCredential"], "issuer": did,
                                    "credentialSubject": {"id": "did:example:carol", "name": "Carol"}}))
    issued = cli("vc", "issue", "--node", a.url, "--token", token, "--suite", "eddsa-jcs-2022",
                 "--status", "revocation", str(unsigned))
    assert issued.returncode == 0, issued.stderr
    by_cli = json.loads(issued.stdout)
    assert by_cli["proof"]["cryptosuite"] == "eddsa-jcs-2022" and "credentialStatus" in by_cli

    listed_validators = cli("validators", "list", "--node", b.url, "--json")
    assert listed_validators.returncode == 0, listed_validators.stderr
    assert len(json.loads(listed_validators.stdout)["active"]["validators"]) == 3

    slug = listed["statusListCredential"].rsplit("/", 1)[-1]
    for node in (b, c):
        code, list_vc = call(f"{node.url}/v1/status-lists/{slug}")
        assert code == 200 and list_vc["id"] == listed["statusListCredential"] and list_vc["issuer"] == did


def test_presentation_challenge_domain_and_replay(network: list[tn.TestnetNode]) -> None:
    a, b, _c = network
    tokens = TokenStore(Path(a.data_dir) / "api")
    admin, _ = tokens.create(["admin"], label="admin", now=_now())
    code, issuer = call(f"{a.url}/v1/issuers", "POST", {"label": "did:key issuer"}, admin)
    assert code == 201 and issuer["did"].startswith("did:key:")
    token, _ = tokens.create([f"issue:{issuer['did']}"], label="key issuer", now=_now())
    code, body = call(f"{a.url}/v1/credentials/issue", "POST", {
        "credential": {"@context": ["https://www.w3.org/ns/credentials/v2"], "type": ["VerifiableCredential"],
                       "issuer": issuer["did"], "credentialSubject": {"id": "did:example:bob"}},
        "options": {"cryptosuite": "eddsa-jcs-2022"}}, token)
    assert code == 201, body
    holder = PrivateKey.generate()
    holder_did = did_key_from_public_key(holder.public_key)
    vp = create_presentation([body["verifiableCredential"]], holder=holder_did)
    signed = sign_presentation(vp, secret_key=holder.multikey, suite="eddsa-rdfc-2022",
                               challenge="session-42", domain="https://verifier.example")
    url = f"{b.url}/v1/presentations/verify"
    code, ok = call(url, "POST", {"verifiablePresentation": signed,
                                  "options": {"challenge": "session-42", "domain": "https://verifier.example"}})
    assert code == 200 and ok["verified"] is True, ok
    code, replay = call(url, "POST", {"verifiablePresentation": signed,
                                      "options": {"challenge": "session-43", "domain": "https://verifier.example"}})
    assert code == 200 and replay["verified"] is False
    code, wrong = call(url, "POST", {"verifiablePresentation": signed,
                                     "options": {"challenge": "session-42", "domain": "https://evil.example"}})
    assert code == 200 and wrong["verified"] is False


def test_cli_rotates_a_published_issuer_key_on_the_node(network: list[tn.TestnetNode]) -> None:
    """``ledgr issuer rotate-key --node``: the node rotates and publishes the new key (did.update)."""
    a, b, _c = network
    tokens = TokenStore(Path(a.data_dir) / "api")
    admin, _ = tokens.create(["admin"], label="rotating admin", now=_now())
    code, issuer = call(f"{a.url}/v1/issuers", "POST", {"label": "Rotating issuer", "didMethod": "ledgr"},
                        admin)
    assert code == 201, issuer
    did, old_method = issuer["did"], issuer["verificationMethod"]
    issuing, _ = tokens.create([f"issue:{did}"], label="rotating issuer app", now=_now())
    code, created = call(f"{a.url}/v1/identifiers", "POST", {"verificationMethod": old_method}, issuing)
    assert code == 201, created

    offline = cli("issuer", "rotate-key", "--data-dir", a.data_dir, did)
    assert offline.returncode != 0 and "--node" in offline.stderr and "Traceback" not in offline.stderr
    no_token = cli("issuer", "rotate-key", "--node", a.url, did)
    assert no_token.returncode != 0 and "--token" in no_token.stderr
    wrong = cli("issuer", "rotate-key", "--node", a.url, "--token", "not-a-token", did)
    assert wrong.returncode != 0 and "401" in wrong.stderr and "Traceback" not in wrong.stderr

    rotated = cli("issuer", "rotate-key", "--node", a.url, "--token", admin, did, "--json")
    assert rotated.returncode == 0, rotated.stderr
    info = json.loads(rotated.stdout)
    assert info["did"] == did and info["verificationMethod"] != old_method
    assert [key["retired"] is None for key in info["keys"]] == [False, True]
    new_key = info["keys"][-1]["publicKeyMultibase"]
    deadline = time.monotonic() + 30
    published: list[str] = []
    while time.monotonic() < deadline:
        code, resolved = call(f"{b.url}/v1/identifiers/{did}")
        published = [m.get("publicKeyMultibase") for m in resolved["didDocument"]["verificationMethod"]]
        if code == 200 and new_key in published:
            break
        time.sleep(0.1)
    assert new_key in published, published


def _now() -> Any:
    from datetime import UTC, datetime
    return datetime.now(UTC)


def test_vc_workers_exit_with_a_killed_node(network: list[tn.TestnetNode]) -> None:
    """Node A has issued and verified, so its canonicalization worker runs; SIGKILL must not leave it."""
    a = network[0]
    assert a.pid is not None
    children = worker_pids(a.pid)
    assert len(children) == 2, "one ledger worker and the VC worker"
    os.kill(a.pid, signal.SIGKILL)
    deadline = time.monotonic() + 10
    while any(tn.pid_alive(pid) for pid in children) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not any(tn.pid_alive(pid) for pid in children)
    tn.stop_node(a)
