"""Extra nodes for a local testnet: a validator-to-be or an observer joining a running network.

The new node gets its own directory beside the others (``DIR/node{i}``) with fresh keys, the shared
genesis and a config that lists every existing validator as a peer. The existing nodes need no change:
the new node dials them (``ledgr.node.peers``: a node outside the validator set dials every
configured peer; a later-added validator with the larger key dials after a grace period). Used by the
growth tests and ``bench/sync.py``.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from ledgr.crypto import PrivateKey
from ledgr.node import testnet as tn
from ledgr.node.config import PeerConfig
from ledgr.node.config_toml import render_node_toml, toml_string
from ledgr.node.keyfile import read_secret_key, write_secret_key


def add_node(directory: Path, nodes: list[tn.TestnetNode], peers_of: list[tn.TestnetNode], api_port: int,
             role: str = "validator", sync: dict[str, int | bool] | None = None) -> tn.TestnetNode:
    """Create (not start) node ``len(nodes)`` peering with ``peers_of``; it is appended to ``nodes``."""
    index = len(nodes)
    node_dir = directory / f"node{index}"
    node_dir.mkdir()
    write_secret_key(node_dir / "validator.key", PrivateKey.generate())
    write_secret_key(node_dir / "admin.key", PrivateKey.generate())
    shutil.copyfile(directory / "genesis.json", node_dir / "genesis.json")
    peers = [PeerConfig(url=f"ws://{tn.HOST}:{p.p2p_port}/p2p",
                        public_key=tn.validator_key(p).public_key.multikey) for p in peers_of]
    text = render_node_toml(name=f"node{index}", api_host=tn.HOST, api_port=api_port, p2p_host=tn.HOST,
                            p2p_port=api_port + 1, peers=peers)
    text += f"\n[node]\nrole = {toml_string(role)}\n"
    if sync:
        text += "\n[sync]\n" + "".join(f"{key} = {str(value).lower() if isinstance(value, bool) else value}\n"
                                     for key, value in sorted(sync.items()))
    (node_dir / "node.toml").write_text(text)
    node = tn.TestnetNode(name=f"node{index}", url=f"http://{tn.HOST}:{api_port}",
                          config=str(node_dir / "node.toml"), data_dir=str(node_dir / "data"),
                          log=str(node_dir / "node.log"), api_port=api_port, p2p_port=api_port + 1)
    nodes.append(node)
    tn.save_manifest(directory, nodes)
    return node


def admin_key(node: tn.TestnetNode) -> PrivateKey:
    return read_secret_key(Path(node.config).parent / "admin.key")
