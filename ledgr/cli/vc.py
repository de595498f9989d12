"""``ledgr vc …``: issue and verify W3C Verifiable Credentials offline.

This is an edge: it reads files and the clock, then calls the pure :mod:`ledgr.vc` API. Exit codes
of ``verify``: 0 verified, 1 not verified, 2 unusable input (unreadable file, bad JSON, unknown
check), each with a one-line error on stderr.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import click

from ledgr.cli.base import EXIT_FAILED, echo_json, read_json_file
from ledgr.did.key import did_key_from_public_key
from ledgr.errors import InvalidInput, NotFound, TooLarge
from ledgr.vc import create_presentation, sign_presentation
from ledgr.vc import issue as issue_credential
from ledgr.vc import verify as verify_document
from ledgr.vc.dates import format_date_time_stamp, parse_date_time_stamp
from ledgr.vc.issue import private_key_from_multikey
from ledgr.vc.loader import MAX_CONTEXT_BYTES, DocumentLoader, parse_context_document

SUITE_NAMES = ("eddsa-rdfc-2022", "eddsa-jcs-2022", "Ed25519Signature2020")
MAX_FILE_BYTES = 8 * 1024 * 1024


@click.group()
def vc() -> None:
    """Issue and verify W3C Verifiable Credentials (offline; did:key resolved locally)."""


@vc.command("issue")
@click.option("--secret-key", required=True, envvar="LEDGR_SECRET_KEY", metavar="MULTIBASE",
              help="Ed25519 secretKeyMultibase (z3u2…); or set LEDGR_SECRET_KEY.")
@click.option("--suite", required=True, type=click.Choice(SUITE_NAMES), help="Proof suite.")
@click.option("--created", metavar="ISO8601", help="Proof creation time (default: now, UTC, seconds).")
@click.option("--verification-method", metavar="ID",
              help="Verification method (default for a did:key issuer: the key's own).")
@click.option("--context", "contexts", multiple=True, metavar="URL=FILE",
              help="Serve FILE as the JSON-LD context URL (repeatable).")
@click.argument("file")
def issue(secret_key: str, suite: str, created: str | None, verification_method: str | None,
          contexts: tuple[str, ...], file: str) -> None:
    """Sign the credential in FILE ('-' for stdin) and print it.

    \b
    Examples:
      ledgr key generate > issuer.json
      ledgr vc issue --secret-key "$(jq -r .secretKeyMultibase issuer.json)" \\
          --suite eddsa-rdfc-2022 credential.json > signed.json
      ledgr vc issue --secret-key z3u2… --suite eddsa-jcs-2022 \\
          --context https://example.org/ctx/v1=ctx.json credential.json
    """
    document = _read_object(file)
    if created is None:
        created = format_date_time_stamp(datetime.now(UTC))
    else:
        parse_date_time_stamp(created, "--created")
    signed = issue_credential(document, secret_key=secret_key, suite=suite,
                              verification_method=verification_method, created=created,
                              loader=_loader(contexts))
    echo_json(signed)


@vc.command("present")
@click.option("--secret-key", required=True, envvar="LEDGR_SECRET_KEY", metavar="MULTIBASE",
              help="The holder's Ed25519 secretKeyMultibase (z3u2…); or set LEDGR_SECRET_KEY.")
@click.option("--suite", required=True, type=click.Choice(SUITE_NAMES), help="Proof suite.")
@click.option("--challenge", required=True, help="The challenge the verifier gave you.")
@click.option("--domain", help="The verifier's domain, if it asked for one.")
@click.option("--holder", metavar="DID", help="Holder DID (default: the did:key of the secret key).")
@click.option("--verification-method", metavar="ID", help="Needed for a holder that is not a did:key.")
@click.option("--created", metavar="ISO8601", help="Proof creation time (default: now, UTC, seconds).")
@click.option("--context", "contexts", multiple=True, metavar="URL=FILE",
              help="Serve FILE as the JSON-LD context URL (repeatable).")
@click.argument("files", nargs=-1, required=True)
def present(secret_key: str, suite: str, challenge: str, domain: str | None, holder: str | None,
            verification_method: str | None, created: str | None, contexts: tuple[str, ...],
            files: tuple[str, ...]) -> None:
    """Wrap the credentials in FILES in a presentation signed for a verifier's challenge.

    \b
    Example:
      ledgr vc present --secret-key z3u2… --suite eddsa-rdfc-2022 \\
          --challenge 5f1c… --domain verifier.example signed.json > presentation.json
    """
    credentials = [_read_object(path) for path in files]
    if created is None:
        created = format_date_time_stamp(datetime.now(UTC))
    else:
        parse_date_time_stamp(created, "--created")
    if holder is None:
        holder = did_key_from_public_key(private_key_from_multikey(secret_key).public_key)
    presentation = sign_presentation(
        create_presentation(credentials, holder=holder), secret_key=secret_key, suite=suite,
        challenge=challenge, domain=domain, verification_method=verification_method, created=created,
        loader=_loader(contexts))
    echo_json(presentation)


@vc.command("verify")
@click.option("--check", "checks", multiple=True, metavar="NAME",
              help="Run only this check (repeatable): proof, validity, schema, status, issuer-binding.")
@click.option("--context", "contexts", multiple=True, metavar="URL=FILE",
              help="Serve FILE as the JSON-LD context URL (repeatable).")
@click.option("--challenge", help="The challenge you gave the holder (presentations).")
@click.option("--domain", help="The domain you expect in the presentation proof.")
@click.option("--now", "now_text", metavar="ISO8601", help="Check validity at this time (default: now).")
@click.option("--did-document", "did_documents", multiple=True, metavar="FILE",
              help="A DID document to resolve its DID with (repeatable; did:key needs none).")
@click.option("--status-list", "status_lists", multiple=True, metavar="URL=FILE",
              help="The status list credential served at URL (repeatable).")
@click.option("--schema", "schemas", multiple=True, metavar="URL=FILE",
              help="The JSON Schema (or JsonSchemaCredential) at URL (repeatable).")
@click.argument("file")
@click.pass_context
def verify(ctx: click.Context, checks: tuple[str, ...], contexts: tuple[str, ...], challenge: str | None,
           domain: str | None, now_text: str | None, did_documents: tuple[str, ...],
           status_lists: tuple[str, ...], schemas: tuple[str, ...], file: str) -> None:
    """Verify the credential or presentation in FILE ('-' for stdin); print the JSON result.

    Exit status: 0 verified, 1 not verified, 2 unusable input.

    \b
    Examples:
      ledgr vc verify signed.json
      ledgr vc verify --check proof --check issuer-binding signed.json
      ledgr vc verify --challenge 5f1c… --domain verifier.example presentation.json
      ledgr vc verify --status-list https://issuer.example/status/1=list.json signed.json
    """
    document = _read_object(file)
    now = parse_date_time_stamp(now_text, "--now") if now_text else datetime.now(UTC)
    result = verify_document(
        document, checks=list(checks) if checks else None, now=now,
        resolver=_lookup({_did_of(path, doc): doc for path, doc in _documents(did_documents)}, "DID"),
        status_list_fetcher=_lookup(_pairs(status_lists, "--status-list"), "status list"),
        schema_resolver=_lookup(_pairs(schemas, "--schema"), "schema"),
        challenge=challenge, domain=domain, loader=_loader(contexts))
    echo_json(result.to_json())
    if not result.verified:
        ctx.exit(EXIT_FAILED)


def _read_object(path: str) -> dict[str, Any]:
    try:
        size = os.stat(path).st_size if path != "-" else 0
    except OSError:
        size = 0  # read_json_file reports the unreadable file
    if size > MAX_FILE_BYTES:
        raise TooLarge(f"{path} is {size} bytes; at most {MAX_FILE_BYTES} are accepted", limit=MAX_FILE_BYTES)
    document = read_json_file(path)
    if not isinstance(document, dict):
        raise InvalidInput(f"{path} must hold a JSON object (a credential or presentation)")
    return document


def _split(value: str, option: str) -> tuple[str, str]:
    url, sep, path = value.rpartition("=")
    if not sep or not url or not path:
        raise InvalidInput(f"{option} expects URL=FILE, got {value!r}")
    return url, path


def _loader(contexts: tuple[str, ...]) -> DocumentLoader | None:
    if not contexts:
        return None
    loader = DocumentLoader()
    for value in contexts:
        url, path = _split(value, "--context")
        try:
            with open(path, "rb") as handle:
                data = handle.read(MAX_CONTEXT_BYTES + 1)
        except OSError as exc:
            raise InvalidInput(f"cannot read context file {path}: {exc.strerror}") from exc
        loader.register(url, parse_context_document(data, url))
    return loader


def _pairs(values: tuple[str, ...], option: str) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for value in values:
        url, path = _split(value, option)
        out[url] = _read_object(path)
    return out


def _documents(paths: tuple[str, ...]) -> list[tuple[str, dict[str, Any]]]:
    return [(path, _read_object(path)) for path in paths]


def _did_of(path: str, document: dict[str, Any]) -> str:
    did = document.get("id")
    if not isinstance(did, str) or not did.startswith("did:"):
        raise InvalidInput(f"{path} is not a DID document (its 'id' is not a DID)")
    return did


def _lookup(table: dict[str, dict[str, Any]], what: str) -> Callable[[str], dict[str, Any]] | None:
    if not table:
        return None

    def find(key: str) -> dict[str, Any]:
        try:
            return table[key]
        except KeyError:
            raise NotFound(f"no {what} was given for {key}") from None

    return find


COMMANDS = [vc]
