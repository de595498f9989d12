"""``ledgr did create|update|deactivate|resolve``: did:ledgr operations against a node.

Each write command builds the operation, signs it with ``--secret-key`` (a multibase Ed25519 secret
key, e.g. from ``ledgr key generate``), submits it with ``POST /v1/operations`` and waits until it is
committed (or rejected, which is reported with the rule it broke).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import click

from ledgr.cli.base import echo_json, read_json_file
from ledgr.cli.http import get_json, request_json
from ledgr.crypto import PrivateKey
from ledgr.errors import InvalidInput, LedgrError, NotFound, OperationRejected, Unavailable
from ledgr.node import authoring
from ledgr.node.didclient import import_checkpoint, resolve_from_node

WAIT_S = 30.0

node_option = click.option("--node", "url", required=True,
                           help="Base URL of a node's API, e.g. http://127.0.0.1:8700")
key_option = click.option("--secret-key", "secret", required=True, envvar="LEDGR_SECRET_KEY",
                          help="Ed25519 secretKeyMultibase (z3u2…) of a controller key ($LEDGR_SECRET_KEY).")


@click.group("did")
def did() -> None:
    """Create, update, deactivate and resolve did:ledgr identifiers."""


def _key(secret: str) -> PrivateKey:
    try:
        return PrivateKey.from_multikey(secret.strip())
    except LedgrError as exc:
        raise InvalidInput(f"--secret-key: {exc.detail}") from exc


def _submit_and_wait(url: str, envelope: bytes) -> dict[str, Any]:
    accepted = request_json(url, "/v1/operations", raw=envelope)
    op_hash = accepted["hash"]
    deadline = time.monotonic() + WAIT_S
    while time.monotonic() < deadline:
        answer = get_json(url, f"/v1/operations/{op_hash}?wait=10", timeout_s=20)
        if answer["status"] == "committed":
            return dict(answer)
        if answer["status"] == "rejected":
            raise OperationRejected(f"operation rejected: {answer.get('reason')}")
    raise Unavailable(f"operation {op_hash} was not committed within {WAIT_S:.0f} s")


def _chain(url: str) -> tuple[str, int]:
    status = get_json(url, "/v1/status")
    return str(status["chain_id"]), int(status["height"])


def _current(url: str, did_value: str) -> dict[str, Any]:
    try:
        state = get_json(url, f"/v1/state/did/{did_value}")
    except NotFound as exc:
        raise NotFound(f"{did_value} is not on the ledger") from exc
    return dict(state["entries"])


def _signing_method(document: dict[str, Any], key: PrivateKey) -> str:
    for method in document.get("verificationMethod", []):
        if isinstance(method, dict) and method.get("publicKeyMultibase") == key.public_key.multikey:
            return str(method["id"])
    raise InvalidInput("--secret-key is not a verification method of the current DID document")


@did.command("create")
@node_option
@key_option
@click.option("--service", "services", multiple=True, metavar="ID=URL",
              help="Add a service endpoint (type LinkedDomains), e.g. --service website=https://example.org")
def create(url: str, secret: str, services: tuple[str, ...]) -> None:
    """Create a did:ledgr whose first document holds the key as #key-1; print the new DID as JSON.

    \b
    Example:
      ledgr key generate > key.json
      ledgr did create --node http://127.0.0.1:8700 --secret-key "$(jq -r .secretKeyMultibase key.json)"
    """
    key = _key(secret)
    chain_id, height = _chain(url)
    endpoints = []
    for item in services:
        name, sep, endpoint = item.partition("=")
        if not sep or not name or not endpoint:
            raise InvalidInput(f"--service {item!r}: expected ID=URL")
        endpoints.append({"id": f"#{name}", "type": "LinkedDomains", "serviceEndpoint": endpoint})
    template = authoring.did_template(key, endpoints or None)
    new_did, envelope = authoring.create_did(key, chain_id, height, template)
    receipt = _submit_and_wait(url, envelope)
    echo_json({"did": new_did, "operation": receipt["hash"], "height": receipt["height"],
               "document": authoring.document_for(new_did, template)})


@did.command("update")
@node_option
@key_option
@click.option("--document", "document_path", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="The complete new DID document (JSON); '-' reads stdin.")
@click.argument("did_value", metavar="DID")
def update(url: str, secret: str, document_path: Path, did_value: str) -> None:
    """Replace the document of DID (signed by a current capabilityInvocation/authentication key)."""
    key = _key(secret)
    document = read_json_file(str(document_path))
    if not isinstance(document, dict):
        raise InvalidInput("the new DID document must be a JSON object")
    entries = _current(url, did_value)
    head = entries["head"]["value"]
    current = entries["version"]["value"]["document"]
    chain_id, height = _chain(url)
    envelope = authoring.update_did(key, did_value, document, bytes.fromhex(head["version_hash"]), chain_id,
                                    height, _signing_method(current, key))
    receipt = _submit_and_wait(url, envelope)
    echo_json({"did": did_value, "operation": receipt["hash"], "height": receipt["height"],
               "versionId": str(head["seq"] + 1)})


@did.command("deactivate")
@node_option
@key_option
@click.argument("did_value", metavar="DID")
def deactivate(url: str, secret: str, did_value: str) -> None:
    """Deactivate DID for good (it then resolves with deactivated: true)."""
    key = _key(secret)
    entries = _current(url, did_value)
    head = entries["head"]["value"]
    current = entries["version"]["value"]["document"]
    chain_id, height = _chain(url)
    envelope = authoring.deactivate_did(key, did_value, bytes.fromhex(head["version_hash"]), chain_id, height,
                                        _signing_method(current, key))
    receipt = _submit_and_wait(url, envelope)
    echo_json({"did": did_value, "operation": receipt["hash"], "height": receipt["height"],
               "deactivated": True})


@did.command("resolve")
@node_option
@click.option("--proof", is_flag=True,
              help="Check the answer as a certified read against the network's genesis validator set "
                   "(fetched and pinned on first use).")
@click.option("--trust-dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Where pinned genesis documents and checkpoints are kept (default ~/.config/ledgr/trust).")
@click.option("--checkpoint", "checkpoint_file", default=None,
              type=click.Path(dir_okay=False, path_type=Path),
              help="Pin this checkpoint (from `ledgr ledger checkpoint`, published by the operators) first.")
@click.option("--max-age-ms", type=click.IntRange(min=1), default=None, envvar="LEDGR_MAX_AGE_MS",
              help="With --proof: refuse an answer whose block is older than this (staleness bound; "
                   "nodes make a heartbeat block every 30 s by default).")
@click.argument("did_value", metavar="DID")
def resolve(url: str, proof: bool, trust_dir: Path | None, checkpoint_file: Path | None,
            max_age_ms: int | None, did_value: str) -> None:
    """Print the W3C DID Resolution result of DID as one node answers it."""
    if (checkpoint_file is not None or max_age_ms is not None) and not proof:
        raise InvalidInput("--checkpoint and --max-age-ms only make sense with --proof")
    if checkpoint_file is not None:
        import_checkpoint(url, checkpoint_file, trust_dir)
    echo_json(resolve_from_node(url, did_value, proof, trust_dir, max_age_ms=max_age_ms))


COMMANDS = [did]
