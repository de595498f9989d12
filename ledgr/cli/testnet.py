"""``ledgr testnet up|status|down``: N local validator nodes on 127.0.0.1 with one command."""

from __future__ import annotations

from pathlib import Path

import click

from ledgr.cli.base import echo_json
from ledgr.node import testnet as tn


@click.group("testnet")
def testnet() -> None:
    """A local multi-node network for trying ledgr out (one process per node)."""


def _entry(node: tn.TestnetNode) -> dict[str, object]:
    return {"name": node.name, "url": node.url, "config": node.config, "data_dir": node.data_dir,
            "pid": node.pid}


@testnet.command("up")
@click.option("--dir", "directory", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="Testnet directory (created on first use; reused to restart).")
@click.option("--nodes", "count", default=3, show_default=True, type=click.IntRange(1, tn.MAX_NODES))
@click.option("--base-port", default=8700, show_default=True, type=click.IntRange(1024, 65000),
              help="Node i listens on P+2i (API) and P+2i+1 (peers).")
@click.option("--timeout", "timeout_s", default=60.0, show_default=True, help="Seconds to wait for block 1.")
@click.option("--json", "as_json", is_flag=True, help="Print the nodes as JSON.")
def up(directory: Path, count: int, base_port: int, timeout_s: float, as_json: bool) -> None:
    """Create genesis, keys and configs (first time), start every node in the background and wait
    until all have committed a block; print the API URLs, one per line.

    \b
    Example:
      ledgr testnet up --dir ./testnet
      ledgr node status --node http://127.0.0.1:8700
      ledgr testnet down --dir ./testnet
    """
    nodes = tn.up(directory, count, base_port, timeout_s)
    if as_json:
        echo_json({"nodes": [_entry(n) for n in nodes]})
    else:
        for node in nodes:
            click.echo(node.url)


@testnet.command("status")
@click.option("--dir", "directory", required=True, type=click.Path(file_okay=False, path_type=Path))
def status(directory: Path) -> None:
    """Show each node's process and chain status as JSON."""
    out = []
    for node in tn.load_manifest(directory):
        alive = tn.pid_alive(node.pid)
        remote = tn.status_of(node.url) if alive else None
        out.append({**_entry(node), "running": alive,
                    "height": remote.get("height") if remote else None,
                    "app_root": remote.get("app_root") if remote else None,
                    "catching_up": remote.get("catching_up") if remote else None})
    echo_json({"nodes": out})


@testnet.command("down")
@click.option("--dir", "directory", required=True, type=click.Path(file_okay=False, path_type=Path))
def down(directory: Path) -> None:
    """Stop every node of the testnet (SIGTERM, then SIGKILL after 10 s). Data is kept."""
    for node in tn.down(directory):
        click.echo(f"{node.name} stopped")


COMMANDS = [testnet]
