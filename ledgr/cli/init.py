"""``ledgr init --dir DIR``: a node directory with its keys and a config to edit."""

from __future__ import annotations

from pathlib import Path

import click

from ledgr.cli.base import echo_json
from ledgr.crypto import PrivateKey
from ledgr.errors import ConfigError
from ledgr.node.config_toml import render_node_toml
from ledgr.node.keyfile import write_secret_key

VALIDATOR_KEY = "validator.key"
ADMIN_KEY = "admin.key"
CONFIG = "node.toml"


def init_node_dir(directory: Path, name: str, api_port: int, p2p_port: int,
                  host: str = "127.0.0.1") -> dict[str, str]:
    """Create ``directory`` with a validator key, an operator admin key (both 0600) and ``node.toml``."""
    directory.mkdir(parents=True, exist_ok=True)
    for existing in (VALIDATOR_KEY, ADMIN_KEY, CONFIG):
        if (directory / existing).exists():
            raise ConfigError(f"{directory / existing} already exists; not overwriting a node directory")
    validator = PrivateKey.generate()
    admin = PrivateKey.generate()
    write_secret_key(directory / VALIDATOR_KEY, validator)
    write_secret_key(directory / ADMIN_KEY, admin)
    (directory / CONFIG).write_text(render_node_toml(
        name=name, api_host=host, api_port=api_port, p2p_host=host, p2p_port=p2p_port, peers=[],
        validator_key_file=VALIDATOR_KEY))
    return {
        "name": name,
        "config": str(directory / CONFIG),
        "validator_public_key": validator.public_key.multikey,
        "admin_public_key": admin.public_key.multikey,
        "p2p_url": f"ws://{host}:{p2p_port}/p2p",
    }


@click.command("init")
@click.option("--dir", "directory", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="Node directory to create (keys, node.toml).")
@click.option("--name", default=None, help="Node name for logs (default: the directory name).")
@click.option("--api-port", default=8700, show_default=True, type=click.IntRange(1, 65535))
@click.option("--p2p-port", default=8701, show_default=True, type=click.IntRange(1, 65535))
def init(directory: Path, name: str | None, api_port: int, p2p_port: int) -> None:
    """Create a node directory: validator key, operator admin key (mode 0600) and node.toml.

    Prints the public keys as JSON: share them with the other operators so they can be put in the
    network's genesis document and in each node's [p2p] peers.

    \b
    Example:
      ledgr init --dir /var/lib/ledgr/node0
    """
    echo_json(init_node_dir(directory, name or directory.resolve().name, api_port, p2p_port))


COMMANDS = [init]
