"""``ledgr token …``: create, list and revoke the node's bearer API tokens (issue 6 "CLI").

Operates on the token store in the node's data directory (``DATA_DIR/api/tokens.json``); a running node
picks changes up at its next request. Every change is written to the audit log (``DATA_DIR/audit.log``)
with the operator's login name, never the token secret.
"""

from __future__ import annotations

import getpass
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import click

from ledgr.api.audit import AuditLog, redact
from ledgr.api.tokens import TokenStore
from ledgr.cli.base import echo_json
from ledgr.errors import InvalidInput

TOKENS_SUBDIR = "api"
AUDIT_FILE = "audit.log"
_DURATION = re.compile(r"^(\d{1,9})([smhd])$")
_UNIT_S = {"s": 1, "m": 60, "h": 3600, "d": 86400}

data_dir_option = click.option(
    "--data-dir", required=True, envvar="LEDGR_DATA_DIR", show_envvar=True,
    type=click.Path(file_okay=False, path_type=Path), help="The node's data directory.")


def token_store(data_dir: Path) -> TokenStore:
    return TokenStore(data_dir / TOKENS_SUBDIR)


def audit_log(data_dir: Path) -> AuditLog:
    return AuditLog(data_dir / AUDIT_FILE, now=lambda: datetime.now(UTC))


def cli_actor() -> str:
    try:
        return "cli:" + getpass.getuser()
    except (KeyError, OSError):
        return "cli:unknown"


def parse_duration(text: str) -> timedelta:
    """``90d``, ``12h``, ``30m`` or ``3600s``."""
    match = _DURATION.match(text.strip())
    if match is None:
        raise InvalidInput(f"invalid duration {text!r}: use e.g. 90d, 12h, 30m or 3600s")
    return timedelta(seconds=int(match.group(1)) * _UNIT_S[match.group(2)])


@click.group()
def token() -> None:
    """Bearer API tokens for issuers, status desks, verifiers and admins."""


@token.command("create")
@data_dir_option
@click.option("--scope", "scopes", multiple=True, required=True,
              help="admin | read | status | status:<did> | issue:<did> (repeatable).")
@click.option("--label", required=True, help="Who or what uses the token (shown in listings).")
@click.option("--expires-in", "expires_in", default=None, help="Lifetime, e.g. 90d or 12h (default: none).")
@click.option("--json", "as_json", is_flag=True, help="Print the token and its record as JSON.")
def create(data_dir: Path, scopes: tuple[str, ...], label: str, expires_in: str | None,
           as_json: bool) -> None:
    """Create a token and print it ONCE (only its SHA-256 is stored).

    \b
    Examples:
      ledgr token create --data-dir data --label "issuer app" --scope issue:did:ledgr:4Hq3uKxeLmF1cUZzvVwJ7a
      ledgr token create --data-dir data --label ops --scope admin --expires-in 30d --json
    """
    lifetime = parse_duration(expires_in) if expires_in is not None else None
    now = datetime.now(UTC)
    secret, record = token_store(data_dir).create(scopes, label=label, now=now, expires_in=lifetime)
    log = audit_log(data_dir)
    try:
        log.record("token.created", actor=cli_actor(), tokenId=record.id, scopes=list(record.scopes),
                   label=redact(record.label), expires=record.expires)
    finally:
        log.close()
    if as_json:
        echo_json({**record.public_json(now), "token": secret})
        return
    click.echo(secret)
    click.echo(f"token {record.id} created; store it now, it cannot be shown again", err=True)


@token.command("list")
@data_dir_option
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def list_tokens(data_dir: Path, as_json: bool) -> None:
    """List tokens (ids, labels, scopes, dates, state; never secrets).

    \b
    Examples:
      ledgr token list --data-dir data
      ledgr token list --data-dir data --json | jq '.[] | select(.state == "active")'
    """
    now = datetime.now(UTC)
    records = [r.public_json(now) for r in token_store(data_dir).list()]
    if as_json:
        echo_json(records)
        return
    if not records:
        click.echo("no tokens")
        return
    for r in records:
        expires = f" expires {r['expires']}" if r["expires"] else ""
        click.echo(f"{r['id']}  {r['state']:<7}  {r['label']}  [{', '.join(r['scopes'])}]"
                   f"  created {r['created']}{expires}")


@token.command("revoke")
@data_dir_option
@click.argument("token_id")
def revoke(data_dir: Path, token_id: str) -> None:
    """Revoke a token by its id (running nodes refuse it at once).

    \b
    Example:
      ledgr token revoke --data-dir data 3f9c0d2a7b1e4c55
    """
    if not re.fullmatch(r"[0-9a-f]{16}", token_id):
        raise InvalidInput(f"{token_id!r} is not a token id (16 hex characters, see ledgr token list)")
    record = token_store(data_dir).revoke(token_id, now=datetime.now(UTC))
    log = audit_log(data_dir)
    try:
        log.record("token.revoked", actor=cli_actor(), tokenId=record.id)
    finally:
        log.close()
    click.echo(f"token {record.id} revoked")


COMMANDS = [token]
