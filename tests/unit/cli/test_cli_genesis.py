"""``ledgr genesis``: three operators on three machines agree on one genesis hash (issue 7)."""

from __future__ import annotations

import json
import random
import tomllib
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from ledgr.cli import cli
from ledgr.crypto import PrivateKey, canonicalize, sha256
from ledgr.ledger.genesis import GENESIS_DOMAIN, Genesis
from ledgr.node.config import load_config


def run(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def ceremony(tmp_path: Path, count: int = 3) -> list[Path]:
    """Each operator: ``ledgr init`` then ``ledgr genesis node-info`` (on "their own machine")."""
    infos = []
    for i, name in enumerate(["alpha", "bravo", "charlie", "delta"][:count]):
        node_dir = tmp_path / name
        result = run("init", "--dir", str(node_dir), "--name", name, "--api-port", str(9100 + 2 * i),
                     "--p2p-port", str(9101 + 2 * i))
        assert result.exit_code == 0, result.output
        out = tmp_path / f"{name}.json"
        result = run("genesis", "node-info", "--config", str(node_dir / "node.toml"),
                     "--p2p-url", f"wss://{name}.example.org:8701/p2p", "--out", str(out))
        assert result.exit_code == 0, result.output
        infos.append(out)
    return infos


def test_three_operators_get_one_hash_whatever_the_order(tmp_path: Path) -> None:
    infos = ceremony(tmp_path)
    hashes = []
    for attempt in range(3):
        order = infos[:]
        random.Random(attempt).shuffle(order)
        out = tmp_path / f"genesis{attempt}.json"
        args = ["genesis", "create", "--chain-id", "ledgr-pilot", "--genesis-time", "2026-12-01T09:00:00Z",
                "--out", str(out)]
        for path in order:
            args += ["--node-info", str(path)]
        result = run(*args)
        assert result.exit_code == 0, result.output
        created_hash = result.stdout.strip().splitlines()[-1]
        checked = run("genesis", "hash", str(out))
        assert checked.exit_code == 0
        assert checked.stdout.strip() == created_hash
        hashes.append(created_hash)
    assert len(set(hashes)) == 1
    document = json.loads((tmp_path / "genesis0.json").read_text())
    assert sha256(GENESIS_DOMAIN + canonicalize(document)).hex() == hashes[0]
    assert [v["name"] for v in document["validator_set"]["validators"]] == ["alpha", "bravo", "charlie"]
    assert document["genesis_time_ms"] == 1_796_115_600_000
    genesis = Genesis.from_json(document)
    assert genesis.validator_set.quorum == 2


def test_node_info_holds_public_keys_only(tmp_path: Path) -> None:
    [info_path] = ceremony(tmp_path, count=1)
    info = json.loads(info_path.read_text())
    assert set(info) == {"name", "validator_public_key", "admin_public_key", "p2p_url"}
    node_dir = tmp_path / "alpha"
    config = load_config(node_dir / "node.toml")
    validator = (node_dir / "validator.key").read_text().strip()
    admin = (node_dir / "admin.key").read_text().strip()
    assert info["validator_public_key"] == PrivateKey.from_multikey(validator).public_key.multikey
    assert info["admin_public_key"] == PrivateKey.from_multikey(admin).public_key.multikey
    assert validator not in info_path.read_text() and admin not in info_path.read_text()
    assert info["name"] == config.name == "alpha"
    assert info["p2p_url"] == "wss://alpha.example.org:8701/p2p"


def test_offline_admin_key_and_default_peer_url(tmp_path: Path) -> None:
    node_dir = tmp_path / "n"
    assert run("init", "--dir", str(node_dir), "--name", "n1", "--p2p-port", "9301").exit_code == 0
    offline = PrivateKey.generate().public_key.multikey
    (node_dir / "admin.key").unlink()  # the operator moved it to cold storage
    result = run("genesis", "node-info", "--config", str(node_dir / "node.toml"),
                 "--admin-public-key", offline)
    assert result.exit_code == 0, result.output
    info = json.loads(result.stdout)
    assert info["admin_public_key"] == offline
    assert info["p2p_url"] == "ws://127.0.0.1:9301/p2p"
    missing = run("genesis", "node-info", "--config", str(node_dir / "node.toml"))
    assert missing.exit_code != 0 and "admin.key" in missing.stderr and "Traceback" not in missing.output


def test_peers_prints_every_other_node(tmp_path: Path) -> None:
    infos = ceremony(tmp_path)
    args = ["genesis", "peers", "--config", str(tmp_path / "bravo" / "node.toml")]
    for path in infos:
        args += ["--node-info", str(path)]
    result = run(*args)
    assert result.exit_code == 0, result.output
    assert "alpha.example.org" in result.stdout and "charlie.example.org" in result.stdout
    assert "bravo.example.org" not in result.stdout
    parsed = tomllib.loads(result.stdout)
    assert len(parsed["peers"]) == 2


def test_hash_ignores_formatting_but_not_content(tmp_path: Path) -> None:
    infos = ceremony(tmp_path)
    out = tmp_path / "genesis.json"
    args = ["genesis", "create", "--chain-id", "c1", "--genesis-time", "1764000000000", "--out", str(out)]
    for path in infos:
        args += ["--node-info", str(path)]
    original = run(*args).stdout.strip()
    document = json.loads(out.read_text())
    compact = tmp_path / "compact.json"
    compact.write_text(json.dumps(document, separators=(",", ":"), sort_keys=True))
    assert run("genesis", "hash", str(compact)).stdout.strip() == original
    document["validator_set"]["validators"][0]["admin_key"] = PrivateKey.generate().public_key.multikey
    tampered = tmp_path / "tampered.json"
    tampered.write_text(json.dumps(document))
    assert run("genesis", "hash", str(tampered)).stdout.strip() != original
    details = json.loads(run("genesis", "hash", "--json", str(out)).stdout)
    assert details["genesis_hash"] == original and details["size"] == 3 and details["quorum"] == 2


@pytest.mark.parametrize(("mutate", "message"), [
    (lambda i: i.pop("admin_public_key"), "missing admin_public_key"),
    (lambda i: i.update(extra="x"), "unknown extra"),
    (lambda i: i.update(validator_public_key="z123"), "validator_public_key is not an Ed25519 Multikey"),
    (lambda i: i.update(p2p_url="http://x"), "p2p_url must be a ws"),
])
def test_bad_node_info_is_one_clear_line(tmp_path: Path, mutate: object, message: str) -> None:
    infos = ceremony(tmp_path, count=2)
    info = json.loads(infos[0].read_text())
    mutate(info)  # type: ignore[operator]
    infos[0].write_text(json.dumps(info))
    result = run("genesis", "create", "--chain-id", "c1", "--out", str(tmp_path / "g.json"),
                 "--node-info", str(infos[0]), "--node-info", str(infos[1]))
    assert result.exit_code == 2
    assert message in result.stderr and "Traceback" not in result.output
    assert not (tmp_path / "g.json").exists()


def test_duplicate_node_and_bad_arguments_are_refused(tmp_path: Path) -> None:
    infos = ceremony(tmp_path, count=2)
    out = tmp_path / "g.json"
    twice = run("genesis", "create", "--chain-id", "c1", "--out", str(out),
                "--node-info", str(infos[0]), "--node-info", str(infos[0]))
    assert twice.exit_code == 2 and "distinct" in twice.stderr
    bad_chain = run("genesis", "create", "--chain-id", "Bad Chain!", "--out", str(out),
                    "--node-info", str(infos[0]))
    assert bad_chain.exit_code == 2 and "chain_id" in bad_chain.stderr
    naive = run("genesis", "create", "--chain-id", "c1", "--out", str(out), "--genesis-time",
                "2026-12-01T09:00:00", "--node-info", str(infos[0]))
    assert naive.exit_code == 2 and "UTC offset" in naive.stderr
    assert run("genesis", "create", "--chain-id", "c1", "--out", str(out), "--node-info", str(infos[0])
               ).exit_code == 0
    again = run("genesis", "create", "--chain-id", "c1", "--out", str(out), "--node-info", str(infos[0]))
    assert again.exit_code == 2 and "already exists" in again.stderr
    missing = run("genesis", "hash", str(tmp_path / "nope.json"))
    assert missing.exit_code == 2 and "cannot read" in missing.stderr
    (tmp_path / "junk.json").write_text("{not json")
    junk = run("genesis", "hash", str(tmp_path / "junk.json"))
    assert junk.exit_code == 2 and "not valid JSON" in junk.stderr
