"""``ledgr validators list --node URL``: the validator set a node works with, and who is connected."""

from __future__ import annotations

import click

from ledgr.cli.base import echo_json
from ledgr.cli.http import get_json


@click.group()
def validators() -> None:
    """The network's validators."""


@validators.command("list")
@click.option("--node", required=True, envvar="LEDGR_NODE", metavar="URL", help="Base URL of a node.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def list_validators(node: str, as_json: bool) -> None:
    """List the validators of the next height as NODE sees them (name, key, connected, height).

    \b
    Examples:
      ledgr validators list --node http://127.0.0.1:8700
      ledgr validators list --node http://127.0.0.1:8700 --json
    """
    status = get_json(node, "/v1/status")
    entries = status.get("validators", []) if isinstance(status, dict) else []
    if as_json:
        echo_json(entries)
        return
    for entry in entries:
        state = "self" if entry.get("self") else ("connected" if entry.get("connected") else "not connected")
        height = entry.get("height")
        click.echo(f"{entry.get('name', '?'):<12} {entry.get('node_key', '?')}  {state}"
                   + (f"  height {height}" if height is not None else ""))


COMMANDS = [validators]
