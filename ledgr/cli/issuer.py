"""``ledgr issuer …``: issuer keys in the node's encrypted keystore (issue 6 "Keystore", "CLI").

The keystore lives in ``DATA_DIR/keystore``. It is unlocked with the operator's passphrase (from
``--passphrase-file``, ``LEDGR_KEYSTORE_PASSPHRASE`` or a prompt) or a key file (``--key-file``). Private
keys are never printed; changes go to the audit log.
"""

from __future__ import annotations

import json
import os
import urllib.parse
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click

from ledgr.api.audit import redact
from ledgr.cli.base import echo_json
from ledgr.cli.token import audit_log, cli_actor, data_dir_option
from ledgr.cli.vc_remote import call_node
from ledgr.crypto import sealed
from ledgr.errors import InvalidInput
from ledgr.ledger.records import LedgerDidReader
from ledgr.node.issuing import ledgr_did_for_key
from ledgr.node.keystore import (
    IssuerInfo,
    Keystore,
    read_file_bounded,
    secret_from_key_file,
    secret_from_passphrase,
)
from ledgr.store.store import Store

KEYSTORE_SUBDIR = "keystore"
PASSPHRASE_ENV = "LEDGR_KEYSTORE_PASSPHRASE"
# Hidden, for tests and throwaway testnets only: "test-only-minimum" makes Argon2id trivially cheap.
KDF_PROFILES = {"moderate": sealed.MODERATE, "interactive": sealed.INTERACTIVE,
                "test-only-minimum": sealed.TEST_ONLY_MINIMUM}
MAX_KEY_IMPORT_BYTES = 64 * 1024


def _secret(passphrase_file: Path | None, key_file: Path | None, *, creating: bool) -> bytes:
    if passphrase_file is not None and key_file is not None:
        raise InvalidInput("give either --passphrase-file or --key-file, not both")
    if key_file is not None:
        return secret_from_key_file(key_file)
    if passphrase_file is not None:
        try:
            text = read_file_bounded(passphrase_file, sealed.MAX_SECRET_BYTES).decode("utf-8")
        except FileNotFoundError as exc:
            raise InvalidInput(f"passphrase file {passphrase_file} does not exist") from exc
        except UnicodeDecodeError as exc:
            raise InvalidInput(f"passphrase file {passphrase_file} is not UTF-8 text") from exc
        return secret_from_passphrase(text.rstrip("\r\n"))
    from_env = os.environ.get(PASSPHRASE_ENV)
    if from_env is not None:
        return secret_from_passphrase(from_env)
    prompted = click.prompt("Keystore passphrase", hide_input=True, confirmation_prompt=creating)
    return secret_from_passphrase(str(prompted))


def _open(data_dir: Path, passphrase_file: Path | None, key_file: Path | None, *, create: bool = False,
          kdf: str = "moderate") -> Keystore:
    directory = data_dir / KEYSTORE_SUBDIR
    exists = Keystore.exists(directory)
    if not exists and not create:
        raise InvalidInput(f"no keystore in {directory}; create an issuer first (ledgr issuer create)")
    secret = _secret(passphrase_file, key_file, creating=not exists)
    if exists:
        return Keystore.open(directory, secret)
    return Keystore.create(directory, secret, params=KDF_PROFILES[kdf])


def _read_secret_key(path: Path) -> str | dict[str, Any]:
    """A key to import: ``ledgr key generate`` output, a JWK, or a bare ``z3u2…`` Multikey."""
    try:
        text = read_file_bounded(path, MAX_KEY_IMPORT_BYTES).decode("utf-8").strip()
    except FileNotFoundError as exc:
        raise InvalidInput(f"key file {path} does not exist") from exc
    except UnicodeDecodeError as exc:
        raise InvalidInput(f"key file {path} is not UTF-8 text") from exc
    if not text.startswith("{"):
        return text
    try:
        value = json.loads(text)
    except ValueError as exc:
        raise InvalidInput(f"key file {path} is not valid JSON") from exc
    if isinstance(value, dict) and isinstance(value.get("secretKeyMultibase"), str):
        return str(value["secretKeyMultibase"])
    if isinstance(value, dict) and "kty" in value:
        return value
    raise InvalidInput(f"key file {path} holds neither secretKeyMultibase nor a JWK")


def _show(info: IssuerInfo, as_json: bool) -> None:
    _show_json(info.to_json(), as_json)


keystore_options = [
    click.option("--passphrase-file", type=click.Path(dir_okay=False, path_type=Path), default=None,
                 help=f"File holding the keystore passphrase (else ${PASSPHRASE_ENV}, else a prompt)."),
    click.option("--key-file", type=click.Path(dir_okay=False, path_type=Path), default=None,
                 help="Unlock with a key file (≥ 32 random bytes) instead of a passphrase."),
]


def with_keystore_options(func: Any) -> Any:
    for option in reversed(keystore_options):
        func = option(func)
    return func


@click.group()
def issuer() -> None:
    """Issuer keys held (encrypted) by this node."""


@issuer.command("create")
@data_dir_option
@with_keystore_options
@click.option("--label", required=True, help="Display name of the issuer.")
@click.option("--did", default=None, help="Bind the key to this did:ledgr (default: a new did:key).")
@click.option("--ledgr", "new_ledgr", is_flag=True,
              help="Derive a new did:ledgr from the key's default document; publish it with "
                   "POST /v1/identifiers (verificationMethod = the printed key id).")
@click.option("--import-key", "import_key", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Import this key (ledgr key generate output, a JWK, or z3u2…) instead of generating.")
@click.option("--kdf-profile", type=click.Choice(sorted(KDF_PROFILES)), default="moderate", hidden=True)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def create(data_dir: Path, passphrase_file: Path | None, key_file: Path | None, label: str, did: str | None,
           new_ledgr: bool, import_key: Path | None, kdf_profile: str, as_json: bool) -> None:
    """Create an issuer: generate its key on the node (or import one) into the keystore.

    The keystore is created on first use, sealed with the passphrase or key file.

    \b
    Examples:
      ledgr issuer create --data-dir data --label "Gemeente Voorbeeld"
      ledgr issuer create --data-dir data --label "Gemeente Voorbeeld" --ledgr
      ledgr issuer create --data-dir data --label DUO --did did:ledgr:4Hq3uKxeLmF1cUZzvVwJ7a \\
          --passphrase-file /etc/ledgr/keystore-passphrase
      ledgr key generate > k.json && ledgr issuer create --data-dir data --label RDW --import-key k.json
    """
    if new_ledgr and (did is not None or import_key is not None):
        raise InvalidInput("--ledgr derives the DID of a generated key; "
                           "do not combine it with --did or --import-key")
    store = _open(data_dir, passphrase_file, key_file, create=True, kdf=kdf_profile)
    now = datetime.now(UTC)
    if import_key is not None:
        info = store.import_issuer(_read_secret_key(import_key), label, now=now, did=did)
        event = "issuer.imported"
    else:
        info = store.create_issuer(label, now=now, did=did,
                                   did_for_key=ledgr_did_for_key if new_ledgr else None)
        event = "issuer.created"
    log = audit_log(data_dir)
    try:
        log.record(event, actor=cli_actor(), issuer=info.did, verificationMethod=info.active_key.id,
                   label=redact(info.label))
    finally:
        log.close()
    _show(info, as_json)


@issuer.command("list")
@data_dir_option
@with_keystore_options
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def list_issuers(data_dir: Path, passphrase_file: Path | None, key_file: Path | None, as_json: bool) -> None:
    """List issuers with their public keys (active and retired).

    \b
    Examples:
      ledgr issuer list --data-dir data
      ledgr issuer list --data-dir data --json
    """
    issuers = _open(data_dir, passphrase_file, key_file).issuers()
    if as_json:
        echo_json([info.to_json() for info in issuers])
        return
    if not issuers:
        click.echo("no issuers")
    for info in issuers:
        _show(info, False)


def _published(data_dir: Path, did: str) -> bool:
    """Is ``did`` a did:ledgr on the ledger kept in ``data_dir``? Rotating only the keystore would
    leave the DID document naming the old key, so new credentials would fail verification."""
    if not did.startswith("did:ledgr:") or not (data_dir / "data.mdb").is_file():
        return False
    with Store.open(data_dir, readonly=True, check=False) as store:
        return store.read(lambda view: LedgerDidReader(view).did_head(did)) is not None


@issuer.command("rotate-key")
@click.option("--data-dir", envvar="LEDGR_DATA_DIR", show_envvar=True, default=None,
              type=click.Path(file_okay=False, path_type=Path),
              help="The node's data directory (offline rotation; not with --node).")
@with_keystore_options
@click.option("--node", envvar="LEDGR_NODE", metavar="URL", default=None,
              help="Rotate on this running node instead (POST /v1/issuers/{did}/keys); for a did:ledgr "
                   "on its ledger the node also publishes the new key. Needs --token.")
@click.option("--token", envvar="LEDGR_TOKEN", metavar="TOKEN",
              help="Bearer API token for --node (or LEDGR_TOKEN), e.g. an admin token.")
@click.argument("did")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def rotate_key(data_dir: Path | None, passphrase_file: Path | None, key_file: Path | None, node: str | None,
               token: str | None, did: str, as_json: bool) -> None:
    """Give an issuer a new signing key; the old key is retired, not deleted.

    Credentials signed with the old key stay verifiable (its public key stays in the DID's history).
    Offline (--data-dir) for issuers not (yet) on the ledger: a did:ledgr already on the node's ledger
    is rotated through the running node (--node, --token), which publishes the new key with a
    did.update signed by the key being retired.

    \b
    Examples:
      ledgr issuer rotate-key --data-dir data did:ledgr:4Hq3uKxeLmF1cUZzvVwJ7a
      ledgr issuer rotate-key --node http://127.0.0.1:8700 --token "$LEDGR_TOKEN" \\
          did:ledgr:4Hq3uKxeLmF1cUZzvVwJ7a
    """
    if node is not None:
        source = click.get_current_context().get_parameter_source("data_dir")
        if source is click.core.ParameterSource.COMMANDLINE:  # LEDGR_DATA_DIR set for other commands is fine
            raise InvalidInput("give either --data-dir (offline) or --node (on a running node), not both")
        if not token:
            raise InvalidInput("rotating on a node needs --token (an admin token)")
        answer = call_node(node, f"/v1/issuers/{urllib.parse.quote(did, safe=':')}/keys", {}, token)
        _show_json(answer["issuer"], as_json)
        return
    if data_dir is None:
        raise InvalidInput("give --data-dir (offline rotation) or --node and --token (on a running node)")
    if _published(data_dir, did):
        raise InvalidInput(f"{did} is on this node's ledger: rotate it through the running node with "
                           f"--node URL --token TOKEN, which also publishes the new key with did.update")
    info = _open(data_dir, passphrase_file, key_file).rotate_key(did, now=datetime.now(UTC))
    log = audit_log(data_dir)
    try:
        log.record("issuer.key-rotated", actor=cli_actor(), issuer=info.did,
                   verificationMethod=info.active_key.id)
    finally:
        log.close()
    _show(info, as_json)


def _show_json(info: dict[str, Any], as_json: bool) -> None:
    """An issuer as the node's API shows it (``IssuerInfo.to_json`` plus the node's additions)."""
    if as_json:
        echo_json(info)
        return
    click.echo(f"{info['did']}  {info['label']}")
    for key in info["keys"]:
        state = f"retired {key['retired']}" if key.get("retired") else "active"
        click.echo(f"  {key['id']}  {state}")


COMMANDS = [issuer]
