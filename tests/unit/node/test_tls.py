"""TLS listeners and wss:// peers from operator files, with a self-signed certificate made here."""

from __future__ import annotations

import asyncio
import datetime
import ipaddress
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from ledgr.crypto import PrivateKey
from ledgr.errors import ConfigError
from ledgr.node import tls
from ledgr.node.config import P2PConfig, PeerConfig, load_config
from ledgr.node.metrics import NodeMetrics
from ledgr.node.peers import PATH, PeerNetwork
from tests.paths import ROOT
from tests.unit.node.test_peers import CHAIN, free_port, wait_for


def self_signed(directory: Path, name: str = "node") -> tuple[str, str]:
    """A certificate for 127.0.0.1 / localhost and its key, as PEM files."""
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime.now(datetime.UTC)
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost"),
                                                        x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                           critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    cert_file, key_file = directory / f"{name}.crt", directory / f"{name}.key"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return str(cert_file), str(key_file)


async def _networks(cert: str, key: str, ca: str) -> list[PeerNetwork]:
    keys = [PrivateKey.from_seed(bytes([i + 7]) * 32) for i in range(2)]
    ports = [free_port() for _ in keys]
    peers = tuple(PeerConfig(url=f"wss://127.0.0.1:{p}{PATH}", public_key=k.public_key.multikey)
                  for k, p in zip(keys, ports, strict=True))
    nets = []
    for k, port in zip(keys, ports, strict=True):
        config = P2PConfig(port=port, reconnect_initial_ms=20, reconnect_max_ms=100,
                           handshake_timeout_ms=2000, tls_cert_file=cert, tls_key_file=key, tls_ca_file=ca)
        net = PeerNetwork(CHAIN, k, {x.public_key.multikey for x in keys}, peers, config, lambda *_: None,
                          NodeMetrics())
        await net.start()
        nets.append(net)
    return nets


async def test_peers_connect_over_wss_with_the_configured_ca(tmp_path: Path) -> None:
    cert, key = self_signed(tmp_path)
    nets = await _networks(cert, key, ca=cert)
    try:
        await wait_for(lambda: all(len(n.connected()) == 1 for n in nets))
    finally:
        for net in nets:
            await net.close()


async def test_a_peer_certificate_outside_the_trust_store_is_refused(tmp_path: Path) -> None:
    cert, key = self_signed(tmp_path)
    other_ca, _ = self_signed(tmp_path, "other")
    nets = await _networks(cert, key, ca=other_ca)
    try:
        await asyncio.sleep(1.0)
        assert all(n.connected() == set() for n in nets)
    finally:
        for net in nets:
            await net.close()


async def test_the_api_context_serves_https(tmp_path: Path) -> None:
    cert, key = self_signed(tmp_path)
    context = tls.server_context(cert, key, "api")
    assert context is not None
    async def health(_request: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    app = web.Application()
    app.router.add_get("/v1/health", health)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port, ssl_context=context).start()
    try:
        client = aiohttp.TCPConnector(ssl=tls.client_context(cert))
        async with aiohttp.ClientSession(connector=client) as session:
            async with session.get(f"https://127.0.0.1:{port}/v1/health") as response:
                assert (await response.json()) == {"status": "ok"}
            with pytest.raises(aiohttp.ClientError):
                await session.get(f"http://127.0.0.1:{port}/v1/health")  # plain HTTP is not answered
    finally:
        await runner.cleanup()


def test_tls_settings_are_checked_and_resolved_against_the_config_directory(tmp_path: Path) -> None:
    assert tls.server_context("", "", "api") is None
    cert, key = self_signed(tmp_path)
    with pytest.raises(ConfigError, match="set together"):
        tls.server_context(cert, "", "api")
    with pytest.raises(ConfigError, match="does not exist"):
        tls.server_context(str(tmp_path / "missing.crt"), key, "p2p")
    with pytest.raises(ConfigError, match="cannot load"):
        tls.server_context(key, cert, "p2p")  # swapped files
    with pytest.raises(ConfigError, match="does not exist"):
        tls.client_context(str(tmp_path / "missing-ca.pem"))
    env = {"LEDGR_API_TLS_CERT_FILE": "tls/api.crt", "LEDGR_P2P_TLS_CA_FILE": "/etc/ca.pem"}
    config = load_config(ROOT / "configs" / "node.example.toml", environ=env)
    assert config.api.tls_cert_file == str(ROOT / "configs" / "tls" / "api.crt")
    assert config.p2p.tls_ca_file == "/etc/ca.pem"
    assert config.api.tls_key_file == ""
