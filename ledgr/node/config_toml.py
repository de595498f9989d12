"""Writing node configs: the TOML that ``ledgr init`` and ``ledgr testnet up`` produce.

``tomllib`` reads TOML but does not write it; the few value kinds a node config holds (strings,
integers, a list of peer tables) are rendered here, with comments that point at the documented
example ``configs/node.example.toml``.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from ledgr.node.config import PeerConfig


def toml_string(value: str) -> str:
    """A TOML basic string (JSON string escaping is a subset TOML accepts)."""
    return json.dumps(value, ensure_ascii=False)


def render_node_toml(*, name: str, api_host: str, api_port: int, p2p_host: str, p2p_port: int,
                     peers: Sequence[PeerConfig], data_dir: str = "data",
                     genesis_file: str = "genesis.json", validator_key_file: str = "validator.key",
                     extra_consensus: dict[str, int] | None = None) -> str:
    lines = [
        "# ledgr node configuration (every setting: configs/node.example.toml).",
        "# Any setting can be overridden from the environment: LEDGR_<SECTION>_<NAME>, e.g. LEDGR_API_PORT.",
        f"name = {toml_string(name)}",
        f"data_dir = {toml_string(data_dir)}",
        f"genesis_file = {toml_string(genesis_file)}",
        f"validator_key_file = {toml_string(validator_key_file)}",
        "",
        "[api]",
        f"host = {toml_string(api_host)}",
        f"port = {api_port}",
        "",
        "[p2p]",
        f"host = {toml_string(p2p_host)}",
        f"port = {p2p_port}",
        "# the other validators: their peer endpoint and the validator key each must prove it holds",
    ]
    lines.append("peers = [")
    for peer in peers:
        lines.append(f"  {{ url = {toml_string(peer.url)}, public_key = {toml_string(peer.public_key)} }},")
    lines.append("]")
    if extra_consensus:
        lines += ["", "[consensus]"]
        lines += [f"{key} = {value}" for key, value in sorted(extra_consensus.items())]
    lines += ["", "[log]", 'format = "auto"', 'level = "info"', ""]
    return "\n".join(lines)
