"""``ledgr genesis node-info|create|hash|peers``: the genesis ceremony of separate operators.

Three (3–7) operators on their own machines each run ``ledgr init`` and then
``ledgr genesis node-info``, which prints only *public* facts about the node (name, validator key,
operator admin key, peer URL) as JSON. The files are exchanged; one operator (or each, with the same
``--genesis-time``) runs ``ledgr genesis create``, which assembles the genesis document in the
ledger's format (:mod:`ledgr.ledger.genesis`) and prints its hash. Every operator then runs
``ledgr genesis hash`` on the document they received and compares the hash out of band (read it
aloud on a call): the hash covers the RFC 8785 form, so whitespace or member order never matter,
and the same hash means the same chain id, time, validators, keys and parameters.

Validators are ordered by name, so the document does not depend on the order of ``--node-info``
options. ``ledgr genesis peers`` prints the ``[p2p] peers`` entries a node's config needs.
"""

from __future__ import annotations

import json
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import click

from ledgr.cli.base import echo_json, read_json_file
from ledgr.crypto import PublicKey
from ledgr.errors import ConfigError, InvalidInput, InvalidKey
from ledgr.ledger.genesis import DEFAULT_PARAMS, Genesis
from ledgr.ledger.validators import QUORUM_MODES, Validator, ValidatorSet
from ledgr.node.config import load_config
from ledgr.node.config_toml import toml_string
from ledgr.node.keyfile import read_secret_key

NODE_INFO_FIELDS = ("name", "validator_public_key", "admin_public_key", "p2p_url")
OPTIONAL_FIELDS = ("config",)  # present in ``ledgr init`` output, ignored here
MAX_NODE_INFO_BYTES = 16 << 10
MAX_GENESIS_BYTES = 1 << 20
ADMIN_KEY_FILE = "admin.key"


def node_info(config_path: Path, admin_key_file: Path | None = None, admin_public_key: str | None = None,
              p2p_url: str | None = None) -> dict[str, str]:
    """The public node info of the node configured in ``config_path``.

    The admin public key comes from ``admin_public_key`` (when the admin key is kept offline), else
    from ``admin_key_file``, else from ``admin.key`` beside the config (where ``ledgr init`` puts it).
    """
    config = load_config(config_path)
    validator = read_secret_key(config.validator_key_file).public_key.multikey
    if admin_public_key is not None:
        admin = _public_key(admin_public_key, "--admin-public-key")
    else:
        key_file = admin_key_file or config_path.resolve().parent / ADMIN_KEY_FILE
        admin = read_secret_key(key_file).public_key.multikey
    url = p2p_url or f"ws://{config.p2p.host}:{config.p2p.port}/p2p"
    if not url.startswith(("ws://", "wss://")):
        raise ConfigError(f"peer URL must start with ws:// or wss:// (got {url!r})")
    return {"name": config.name, "validator_public_key": validator, "admin_public_key": admin, "p2p_url": url}


def _public_key(value: Any, what: str) -> str:
    try:
        return PublicKey.from_multikey(value).multikey
    except (InvalidKey, TypeError, AttributeError) as exc:
        raise InvalidInput(f"{what} is not an Ed25519 Multikey") from exc


def parse_node_info(value: Any, source: str) -> dict[str, str]:
    """Validate one node-info document (exactly the fields ``node-info`` prints)."""
    if not isinstance(value, dict):
        raise InvalidInput(f"{source}: node info must be a JSON object")
    missing = [f for f in NODE_INFO_FIELDS if f not in value]
    unknown = sorted(set(value) - set(NODE_INFO_FIELDS) - set(OPTIONAL_FIELDS))
    if missing or unknown:
        raise InvalidInput(f"{source}: node info needs exactly {', '.join(NODE_INFO_FIELDS)}"
                           + (f" (missing {missing[0]})" if missing else f" (unknown {unknown[0]})"))
    for name in NODE_INFO_FIELDS:
        if not isinstance(value[name], str):
            raise InvalidInput(f"{source}: {name} must be a string")
    if not value["p2p_url"].startswith(("ws://", "wss://")) or len(value["p2p_url"]) > 512:
        raise InvalidInput(f"{source}: p2p_url must be a ws:// or wss:// URL")
    return {
        "name": value["name"],
        "validator_public_key": _public_key(value["validator_public_key"], f"{source}: validator_public_key"),
        "admin_public_key": _public_key(value["admin_public_key"], f"{source}: admin_public_key"),
        "p2p_url": value["p2p_url"],
    }


def read_node_infos(paths: list[Path]) -> list[dict[str, str]]:
    infos = []
    for path in paths:
        try:
            if path.stat().st_size > MAX_NODE_INFO_BYTES:
                raise InvalidInput(f"{path}: larger than {MAX_NODE_INFO_BYTES} bytes; not a node info file")
        except OSError as exc:
            raise InvalidInput(f"cannot read {path}: {exc.strerror}") from exc
        infos.append(parse_node_info(read_json_file(str(path)), str(path)))
    return infos


def assemble(chain_id: str, infos: list[dict[str, str]], genesis_time_ms: int, quorum: str = "bft",
             max_block_ops: int | None = None) -> Genesis:
    """The genesis document for these nodes, validators ordered by name."""
    if quorum not in QUORUM_MODES:
        raise InvalidInput(f"quorum must be one of {', '.join(QUORUM_MODES)}")
    members = [Validator.from_json({"name": i["name"], "node_key": i["validator_public_key"],
                                    "admin_key": i["admin_public_key"]})
               for i in sorted(infos, key=lambda i: i["name"])]
    params = dict(DEFAULT_PARAMS)
    if max_block_ops is not None:
        params["max_block_ops"] = max_block_ops
    return Genesis.from_json({"chain_id": chain_id, "genesis_time_ms": genesis_time_ms,
                              "validator_set": ValidatorSet(tuple(members), quorum).to_json(),
                              "params": params})


def parse_time_ms(text: str, now_ms: int) -> int:
    """``now``, Unix milliseconds, or an RFC 3339 time with an explicit offset (e.g. ``…Z``)."""
    if text == "now":
        return now_ms
    if text.isdigit():
        return int(text)
    try:
        moment = datetime.fromisoformat(text)
    except ValueError as exc:
        raise InvalidInput(f"--genesis-time {text!r} is not 'now', Unix ms or an RFC 3339 time") from exc
    if moment.tzinfo is None:
        raise InvalidInput("--genesis-time needs a UTC offset, e.g. 2026-12-01T09:00:00Z")
    return int(moment.timestamp() * 1000)


def load_genesis(path: Path) -> Genesis:
    try:
        if path.stat().st_size > MAX_GENESIS_BYTES:
            raise InvalidInput(f"{path}: larger than {MAX_GENESIS_BYTES} bytes; not a genesis document")
    except OSError as exc:
        raise InvalidInput(f"cannot read {path}: {exc.strerror}") from exc
    return Genesis.from_json(read_json_file(str(path)))


def peers_toml(infos: list[dict[str, str]], own_key: str | None) -> str:
    """The ``peers = [...]`` entries for a node's ``[p2p]`` section (every node except ``own_key``)."""
    lines = ["peers = ["]
    for info in sorted(infos, key=lambda i: i["name"]):
        if info["validator_public_key"] != own_key:
            lines.append(f"  {{ url = {toml_string(info['p2p_url'])}, "
                         f"public_key = {toml_string(info['validator_public_key'])} }},  # {info['name']}")
    lines.append("]")
    return "\n".join(lines)


@click.group("genesis")
def genesis() -> None:
    """Create a network's genesis with operators on separate machines."""


@genesis.command("node-info")
@click.option("--config", "config_path", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="This node's node.toml (from ledgr init).")
@click.option("--p2p-url", default=None, help="The peer URL other nodes dial, e.g. "
              "wss://node-a.example.org:8701/p2p (default: from [p2p] host and port).")
@click.option("--admin-key", "admin_key_file", default=None, type=click.Path(dir_okay=False, path_type=Path),
              help="Operator admin key file (default: admin.key beside the config).")
@click.option("--admin-public-key", default=None, help="The admin public key, if the admin key is offline.")
@click.option("--out", "out", default=None, type=click.Path(dir_okay=False, path_type=Path),
              help="Write the JSON here as well as printing it.")
def node_info_cmd(config_path: Path, p2p_url: str | None, admin_key_file: Path | None,
                  admin_public_key: str | None, out: Path | None) -> None:
    """Print this node's public info (no secrets) to send to the other operators.

    \b
    Example:
      ledgr genesis node-info --config node0/node.toml --p2p-url wss://a.example.org:8701/p2p --out a.json
    """
    if admin_key_file is not None and admin_public_key is not None:
        raise InvalidInput("give --admin-key or --admin-public-key, not both")
    info = node_info(config_path, admin_key_file, admin_public_key, p2p_url)
    if out is not None:
        out.write_text(json.dumps(info, indent=2) + "\n", encoding="utf-8")
    echo_json(info)


@genesis.command("create")
@click.option("--chain-id", required=True, help="The network's chain id, e.g. ledgr-pilot.")
@click.option("--node-info", "infos", required=True, multiple=True,
              type=click.Path(dir_okay=False, path_type=Path), help="One per validator (repeat).")
@click.option("--out", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="Where to write genesis.json (not overwritten).")
@click.option("--genesis-time", default="now", show_default=True,
              help="'now', Unix ms or RFC 3339; operators assembling independently must agree on it.")
@click.option("--quorum", default="bft", show_default=True, type=click.Choice(QUORUM_MODES),
              help="bft: q=ceil((n+f+1)/2) (n=3 → 2); strict: floor(2n/3)+1 (n=3 → 3).")
@click.option("--max-block-ops", default=None, type=int, help="Ledger parameter (default: ledger default).")
def create(chain_id: str, infos: tuple[Path, ...], out: Path, genesis_time: str, quorum: str,
           max_block_ops: int | None) -> None:
    """Assemble the genesis document from every node's info; print its hash.

    \b
    Example:
      ledgr genesis create --chain-id ledgr-pilot --node-info a.json --node-info b.json \\
          --node-info c.json --genesis-time 2026-12-01T09:00:00Z --out genesis.json
    """
    if out.exists():
        raise ConfigError(f"{out} already exists; not overwriting a genesis document")
    nodes = read_node_infos(list(infos))
    document = assemble(chain_id, nodes, parse_time_ms(genesis_time, time.time_ns() // 1_000_000),
                        quorum, max_block_ops)
    try:
        out.write_text(json.dumps(document.to_json(), indent=2) + "\n", encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot write {out}: {exc.strerror}") from exc
    size = document.validator_set.size
    click.echo(f"wrote {out}: chain {chain_id}, {size} validators, quorum "
               f"{document.validator_set.quorum} of {size}", err=True)
    click.echo(document.hash().hex())


@genesis.command("hash")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Also show chain id, time and validators.")
def hash_cmd(file: Path, as_json: bool) -> None:
    """Print the genesis hash of FILE; every operator must see the same one.

    \b
    Example:
      ledgr genesis hash /var/lib/ledgr/node0/genesis.json
    """
    document = load_genesis(file)
    if not as_json:
        click.echo(document.hash().hex())
        return
    vset = document.validator_set
    echo_json({"genesis_hash": document.hash().hex(), "chain_id": document.chain_id,
               "genesis_time_ms": document.genesis_time_ms, "quorum": vset.quorum, "size": vset.size,
               "validators": [v.to_json() for v in vset.validators]})


@genesis.command("peers")
@click.option("--node-info", "infos", required=True, multiple=True,
              type=click.Path(dir_okay=False, path_type=Path), help="Every validator's node info.")
@click.option("--config", "config_path", default=None, type=click.Path(dir_okay=False, path_type=Path),
              help="This node's config: its own entry is left out.")
def peers(infos: tuple[Path, ...], config_path: Path | None) -> None:
    """Print the [p2p] peers entries to paste into this node's node.toml.

    \b
    Example:
      ledgr genesis peers --node-info a.json --node-info b.json --node-info c.json --config node.toml
    """
    own = None
    if config_path is not None:
        own = read_secret_key(load_config(config_path).validator_key_file).public_key.multikey
    click.echo(peers_toml(read_node_infos(list(infos)), own))


COMMANDS = [genesis]
