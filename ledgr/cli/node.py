"""``ledgr node run|status``: run a validator node; ask a node how it is doing."""

from __future__ import annotations

from pathlib import Path

import click

from ledgr.cli.base import echo_json
from ledgr.cli.http import get_json
from ledgr.node.config import load_config


@click.group("node")
def node() -> None:
    """Run a ledgr node or query one."""


@node.command("run")
@click.option("--config", "config_path", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="The node's TOML config (see configs/node.example.toml).")
def run(config_path: Path) -> None:
    """Run a validator node until SIGTERM/SIGINT (logs go to stderr).

    \b
    Example:
      ledgr node run --config /var/lib/ledgr/node0/node.toml
    """
    from ledgr.api.server import run_node

    run_node(load_config(config_path))


@node.command("status")
@click.option("--node", "url", required=True, help="Base URL of the node's API, e.g. http://127.0.0.1:8700")
def status(url: str) -> None:
    """Print the node's status: chain, height, app_root, peers, catch-up progress.

    \b
    Example:
      ledgr node status --node http://127.0.0.1:8700
    """
    echo_json(get_json(url, "/v1/status"))


COMMANDS = [node]
