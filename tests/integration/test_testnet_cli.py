"""The operator CLI against real processes: ``ledgr testnet up|status|down`` (and its one-line errors),
``ledgr init``, ``ledgr node status`` and the ``ledgr did`` round trip with a certified resolve."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ledgr.node import testnet as tn

pytestmark = [pytest.mark.integration, pytest.mark.timeout(240)]


def ledgr(*args: str, check: bool = True, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    done = subprocess.run([*tn.ledgr_command(), *args], capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, "LEDGR_LOG_FORMAT": "json"})
    if check:
        assert done.returncode == 0, done.stderr[-2000:]
    return done


def one_line_error(done: subprocess.CompletedProcess[str]) -> str:
    assert done.returncode != 0
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), done.stderr
    return lines[0]




@pytest.fixture(scope="module")
def net(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, list[dict[str, Any]]]]:
    directory = tmp_path_factory.mktemp("cli") / "testnet"
    done = ledgr("testnet", "up", "--dir", str(directory), "--base-port", str(tn.free_base_port(3)), "--json")
    nodes = json.loads(done.stdout)["nodes"]
    try:
        yield directory, nodes
    finally:
        ledgr("testnet", "down", "--dir", str(directory), check=False)


def test_up_starts_three_nodes_with_the_documented_layout(net: tuple[Path, list[dict[str, Any]]]) -> None:
    directory, nodes = net
    assert [n["name"] for n in nodes] == ["node0", "node1", "node2"]
    for i, node in enumerate(nodes):
        assert node["config"] == str(directory / f"node{i}" / "node.toml")
        assert node["data_dir"] == str(directory / f"node{i}" / "data")
        assert tn.pid_alive(node["pid"])
        status = json.loads(ledgr("node", "status", "--node", node["url"]).stdout)
        assert status["height"] >= 1 and status["chain_id"] == "ledgr-testnet"
    listed = json.loads(ledgr("testnet", "status", "--dir", str(directory)).stdout)["nodes"]
    assert all(n["running"] for n in listed)


def test_starting_twice_is_a_one_line_error(net: tuple[Path, list[dict[str, Any]]]) -> None:
    directory, _ = net
    line = one_line_error(ledgr("testnet", "up", "--dir", str(directory), check=False))
    assert "already running" in line


def test_a_second_node_on_one_data_directory_is_refused(net: tuple[Path, list[dict[str, Any]]]) -> None:
    _, nodes = net
    line = one_line_error(ledgr("node", "run", "--config", nodes[0]["config"], check=False, timeout=30))
    assert "in use by a running node" in line


def test_a_port_in_use_is_a_one_line_error(tmp_path: Path) -> None:
    base = tn.free_base_port(3)
    with socket.socket() as blocker:
        blocker.bind(("127.0.0.1", base + 2))
        blocker.listen()
        line = one_line_error(ledgr("testnet", "up", "--dir", str(tmp_path / "t"), "--base-port", str(base),
                                    check=False))
    assert f"port {base + 2}" in line and "in use" in line


def test_a_missing_directory_is_a_one_line_error(tmp_path: Path) -> None:
    for command in ("status", "down"):
        line = one_line_error(ledgr("testnet", command, "--dir", str(tmp_path / "nope"), check=False))
        assert "does not exist" in line
    line = one_line_error(ledgr("testnet", "up", "--dir", str(tmp_path / "a" / "b"), check=False))
    assert "does not exist" in line


def test_init_writes_owner_only_keys_and_a_loadable_config(tmp_path: Path) -> None:
    out = json.loads(ledgr("init", "--dir", str(tmp_path / "n")).stdout)
    assert out["validator_public_key"].startswith("z6Mk")
    for name in ("validator.key", "admin.key"):
        assert (tmp_path / "n" / name).stat().st_mode & 0o077 == 0
    again = one_line_error(ledgr("init", "--dir", str(tmp_path / "n"), check=False))
    assert "already exists" in again


def test_did_create_update_deactivate_and_certified_resolve(net: tuple[Path, list[dict[str, Any]]],
                                                            tmp_path: Path) -> None:
    _, nodes = net
    key = json.loads(ledgr("key", "generate").stdout)["secretKeyMultibase"]
    created = json.loads(ledgr("did", "create", "--node", nodes[0]["url"], "--secret-key", key).stdout)
    did = created["did"]
    trust = str(tmp_path / "trust")
    resolved = json.loads(ledgr("did", "resolve", "--node", nodes[2]["url"], "--proof", "--trust-dir", trust,
                                did).stdout)
    assert resolved["didDocument"]["id"] == did
    assert resolved["didResolutionMetadata"]["ledgrCertifiedRead"]["verified"] is True
    assert list((tmp_path / "trust").iterdir()), "the genesis was pinned on first use"

    document = resolved["didDocument"]
    document["service"] = [{"id": f"{did}#web", "type": "LinkedDomains", "serviceEndpoint": "https://example.org"}]
    doc_file = tmp_path / "doc.json"
    doc_file.write_text(json.dumps(document))
    updated = json.loads(ledgr("did", "update", "--node", nodes[1]["url"], "--secret-key", key,
                               "--document", str(doc_file), did).stdout)
    assert updated["versionId"] == "2"
    again = json.loads(ledgr("did", "resolve", "--node", nodes[0]["url"], "--proof", "--trust-dir", trust,
                             did).stdout)
    assert again["didDocument"]["service"][0]["serviceEndpoint"] == "https://example.org"
    assert again["didDocumentMetadata"]["versionId"] == "2"

    stranger = json.loads(ledgr("key", "generate").stdout)["secretKeyMultibase"]
    refused = one_line_error(ledgr("did", "deactivate", "--node", nodes[0]["url"], "--secret-key", stranger,
                                   did, check=False))
    assert "not a verification method" in refused
    done = json.loads(ledgr("did", "deactivate", "--node", nodes[2]["url"], "--secret-key", key, did).stdout)
    deadline = time.monotonic() + 10
    while tn.status_of(nodes[1]["url"])["height"] < done["height"]:  # type: ignore[index]
        assert time.monotonic() < deadline, "node1 did not reach the deactivation's height"
        time.sleep(0.05)
    final = json.loads(ledgr("did", "resolve", "--node", nodes[1]["url"], did).stdout)
    assert final["didDocumentMetadata"]["deactivated"] is True


def test_down_then_up_restarts_the_same_network(net: tuple[Path, list[dict[str, Any]]]) -> None:
    directory, nodes = net
    before = json.loads(ledgr("node", "status", "--node", nodes[0]["url"]).stdout)
    stopped = ledgr("testnet", "down", "--dir", str(directory)).stdout.split("\n")
    assert [line for line in stopped if line] == ["node0 stopped", "node1 stopped", "node2 stopped"]
    assert not any(n["running"] for n in json.loads(
        ledgr("testnet", "status", "--dir", str(directory)).stdout)["nodes"])
    again = json.loads(ledgr("testnet", "up", "--dir", str(directory), "--json").stdout)["nodes"]
    assert [n["url"] for n in again] == [n["url"] for n in nodes]
    after = json.loads(ledgr("node", "status", "--node", again[1]["url"]).stdout)
    assert after["chain_id"] == before["chain_id"] and after["genesis_hash"] == before["genesis_hash"]
    assert after["height"] >= before["height"]
