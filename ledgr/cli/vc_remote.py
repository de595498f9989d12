"""``ledgr vc …`` against a node: issue and verify over the VC API, revoke / suspend / unsuspend.

``ledgr vc issue --node URL --token T`` signs with an issuer key held by the node (the token needs
``issue:<issuer DID>``); ``ledgr vc verify --node URL`` verifies on the node (DIDs and status lists from
its ledger); ``ledgr vc revoke|suspend|unsuspend --node URL --token T CREDENTIAL_FILE`` changes the
status entry of a credential (the token needs ``status`` or ``status:<issuer DID>``). Errors are one
line on stderr (the node's problem detail).
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any

import click

from ledgr.cli.base import EXIT_FAILED, echo_json, read_json_file
from ledgr.cli.http import BY_STATUS, MAX_RESPONSE_BYTES
from ledgr.cli.vc import vc
from ledgr.errors import (
    InvalidInput,
    Unavailable,
)

COMMANDS: list[click.Command] = []

node_option = click.option("--node", required=True, envvar="LEDGR_NODE", metavar="URL",
                           help="Base URL of the node, e.g. http://127.0.0.1:8700 (or LEDGR_NODE).")
token_option = click.option("--token", envvar="LEDGR_TOKEN", metavar="TOKEN",
                            help="Bearer API token (or LEDGR_TOKEN; keeps it out of shell history).")


def call_node(base: str, path: str, body: Any, token: str | None, timeout_s: float = 60.0) -> Any:
    """POST ``body`` to the node; a problem answer becomes the matching one-line :class:`LedgrError`."""
    if not base.startswith(("http://", "https://")):
        raise InvalidInput(f"--node must start with http:// or https:// (got {base!r})")
    headers = {"Content-Type": "application/json", "Accept": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    request = urllib.request.Request(base.rstrip("/") + path, data=json.dumps(body).encode(),
                                     headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=timeout_s) as response:
            return json.loads(response.read(MAX_RESPONSE_BYTES))
    except urllib.error.HTTPError as exc:
        try:
            problem = json.loads(exc.read(MAX_RESPONSE_BYTES))
            detail = problem.get("detail") or problem.get("title") or f"HTTP {exc.code}"
        except (ValueError, AttributeError):
            detail = f"HTTP {exc.code}"
        raise BY_STATUS.get(exc.code, Unavailable)(f"{base} answered {exc.code}: {detail}",
                                                    status=exc.code) from exc
    except (urllib.error.URLError, TimeoutError, ConnectionError) as exc:
        raise Unavailable(f"cannot reach node at {base}: {getattr(exc, 'reason', exc)}") from exc
    except json.JSONDecodeError as exc:
        raise Unavailable(f"{base} did not answer with JSON") from exc


def issue_on_node(node: str, token: str | None, credential: dict[str, Any], suite: str | None,
                  status_purpose: str | None) -> dict[str, Any]:
    if not token:
        raise InvalidInput("issuing on a node needs --token (a token with issue:<issuer DID>)")
    options: dict[str, Any] = {"cryptosuite": suite or "eddsa-rdfc-2022"}
    if status_purpose:
        options["credentialStatus"] = {"statusPurpose": status_purpose}
    answer = call_node(node, "/v1/credentials/issue", {"credential": credential, "options": options}, token)
    signed: dict[str, Any] = answer["verifiableCredential"]
    return signed


def verify_on_node(node: str, token: str | None, document: dict[str, Any], challenge: str | None,
                   domain: str | None) -> dict[str, Any]:
    types = document.get("type")
    if "VerifiablePresentation" in (types if isinstance(types, list) else [types]):
        options = {k: v for k, v in (("challenge", challenge), ("domain", domain)) if v is not None}
        result: dict[str, Any] = call_node(node, "/v1/presentations/verify",
                                           {"verifiablePresentation": document, "options": options}, token)
    else:
        result = call_node(node, "/v1/credentials/verify", {"verifiableCredential": document}, token)
    return result


def _status_command(action: str, summary: str) -> click.Command:
    @vc.command(action, help=f"""{summary} on a node (the credential's status entry in CREDENTIAL_FILE).

    \b
    Example:
      ledgr vc {action} --node http://127.0.0.1:8700 --token "$LEDGR_TOKEN" signed.json
    """)
    @node_option
    @token_option
    @click.option("--json", "as_json", is_flag=True, help="Print the node's answer as JSON.")
    @click.argument("credential_file")
    def command(node: str, token: str | None, as_json: bool, credential_file: str) -> None:
        credential = read_json_file(credential_file)
        if not isinstance(credential, dict):
            raise InvalidInput(f"{credential_file} does not hold a JSON object")
        entries = credential.get("credentialStatus")
        entries = entries if isinstance(entries, list) else [entries] if entries else []
        purpose = "revocation" if action == "revoke" else "suspension"
        entry = next((e for e in entries if isinstance(e, dict) and e.get("statusPurpose") == purpose), None)
        if entry is None:
            raise InvalidInput(f"the credential has no {purpose} status entry")
        if not token:
            raise InvalidInput(f"{action} needs --token (a token with status or status:<issuer DID>)")
        request: dict[str, Any] = {"credentialStatus": entry, "action": action}
        if isinstance(credential.get("id"), str):
            request["credentialId"] = credential["id"]
        answer = call_node(node, "/v1/credentials/status", request, token)
        if as_json:
            echo_json(answer)
        else:
            state = "set" if answer.get("set") else "cleared"
            index, url = answer.get("statusListIndex"), answer.get("statusListCredential")
            click.echo(f"{action}: bit {index} of {url} {state} (operation {answer.get('operationHash')})")

    return command


for _action, _summary in (("revoke", "Revoke a credential"), ("suspend", "Suspend a credential"),
                          ("unsuspend", "Lift a credential's suspension")):
    _status_command(_action, _summary)


def exit_unverified(ctx: click.Context, result: dict[str, Any]) -> None:
    echo_json(result)
    if not result.get("verified"):
        ctx.exit(EXIT_FAILED)
