"""Node config: the documented example loads, environment overrides apply, mistakes are one line."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from ledgr.crypto import PrivateKey
from ledgr.errors import ConfigError
from ledgr.node.config import PeerConfig, load_config
from ledgr.node.config_toml import render_node_toml
from ledgr.node.keyfile import read_secret_key, write_secret_key
from tests.paths import ROOT

EXAMPLE = ROOT / "configs" / "node.example.toml"


def test_documented_example_loads_with_paths_relative_to_the_file() -> None:
    config = load_config(EXAMPLE, environ={})
    assert config.api.port == 8700
    assert config.p2p.port == 8701
    assert config.data_dir == EXAMPLE.parent / "data"
    assert config.consensus.heartbeat_ms == 30000
    assert config.p2p.peers == ()


def test_environment_overrides_every_kind_of_setting() -> None:
    env = {
        "LEDGR_API_PORT": "9100",
        "LEDGR_CONSENSUS_STRICT": "true",
        "LEDGR_API_MAX_WAIT_S": "2.5",
        "LEDGR_DATA_DIR": "/var/lib/ledgr",
        "LEDGR_LOG_FORMAT": "json",
        "LEDGR_P2P_PEERS": '[{"url": "ws://10.0.0.2:8701/p2p", "public_key": "z6Mkabc"}]',
    }
    config = load_config(EXAMPLE, environ=env)
    assert config.api.port == 9100
    assert config.consensus.strict is True
    assert config.api.max_wait_s == 2.5
    assert config.data_dir == Path("/var/lib/ledgr")
    assert config.log.format == "json"
    assert config.p2p.peers == (PeerConfig(url="ws://10.0.0.2:8701/p2p", public_key="z6Mkabc"),)


@pytest.mark.parametrize(("text", "env", "message"), [
    ("[api]\nport = 'x'\n", {}, "api.port must be an integer"),
    ("[api]\nprot = 1\n", {}, "unknown setting api.prot"),
    ("colour = 1\n", {}, "unknown setting colour"),
    ("[api]\nport = 70000\n", {}, "api.port must be between 1 and 65535"),
    ("[mempool]\nmax_ops = 0\n", {}, "mempool.max_ops must be greater than 0"),
    ("[log]\nformat = 'xml'\n", {}, "log.format must be one of"),
    ("[p2p]\npeers = [{url = 'http://x', public_key = 'z'}]\n", {}, "must start with ws://"),
    ("", {"LEDGR_API_PORT": "eighty"}, "LEDGR_API_PORT='eighty' is not a valid value for api.port"),
    ("a = [\n", {}, "is not valid TOML"),
])
def test_mistakes_are_one_line_config_errors(tmp_path: Path, text: str, env: dict[str, str],
                                             message: str) -> None:
    path = tmp_path / "node.toml"
    path.write_text(text)
    with pytest.raises(ConfigError) as info:
        load_config(path, environ=env)
    assert message in info.value.detail
    assert "\n" not in info.value.detail


def test_missing_config_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        load_config(tmp_path / "nope.toml", environ={})


def test_rendered_config_round_trips(tmp_path: Path) -> None:
    peers = [PeerConfig(url="ws://127.0.0.1:9001/p2p", public_key="z6MkPeer")]
    path = tmp_path / "node.toml"
    path.write_text(render_node_toml(name='n "0"', api_host="127.0.0.1", api_port=9000,
                                     p2p_host="127.0.0.1", p2p_port=9001, peers=peers,
                                     extra_consensus={"heartbeat_ms": 1000}))
    config = load_config(path, environ={})
    assert config.name == 'n "0"'
    assert config.p2p.peers == tuple(peers)
    assert config.consensus.heartbeat_ms == 1000
    assert config.genesis_file == tmp_path / "genesis.json"


def test_secret_key_files_are_owner_only_and_never_overwritten(tmp_path: Path) -> None:
    key = PrivateKey.generate()
    path = tmp_path / "validator.key"
    write_secret_key(path, key)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert read_secret_key(path).seed == key.seed
    with pytest.raises(ConfigError, match="refusing to overwrite"):
        write_secret_key(path, PrivateKey.generate())
    os.chmod(path, 0o644)
    with pytest.raises(ConfigError, match="chmod 600"):
        read_secret_key(path)
