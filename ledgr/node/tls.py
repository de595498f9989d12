"""TLS for the node's listeners and its peer dialer, from operator-provided files (issue 7).

* ``[api] tls_cert_file`` / ``tls_key_file``: the HTTP API is served over HTTPS;
* ``[p2p] tls_cert_file`` / ``tls_key_file``: the peer endpoint is served over TLS (peers dial it
  as ``wss://host:port/p2p``);
* ``[p2p] tls_ca_file``: the certificates (PEM) a ``wss://`` peer's certificate must chain to —
  e.g. the operators' private CA, or each peer's self-signed certificate; without it, the system's
  trust store.

Peers still authenticate each other by their validator keys (signed handshake); TLS adds
confidentiality and hides the traffic from on-path observers. Certificates are PEM files; the
key must not be encrypted (the node starts unattended). Server contexts use
``ssl.create_default_context(Purpose.CLIENT_AUTH)`` (TLS ≥ 1.2, the library's secure defaults).
"""

from __future__ import annotations

import ssl

from ledgr.errors import ConfigError


def server_context(cert_file: str, key_file: str, what: str) -> ssl.SSLContext | None:
    """The server context for ``what`` (``api`` / ``p2p``), or None when TLS is not configured."""
    if not cert_file and not key_file:
        return None
    if not cert_file or not key_file:
        raise ConfigError(f"{what}.tls_cert_file and {what}.tls_key_file must be set together")
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    try:
        context.load_cert_chain(cert_file, key_file)
    except FileNotFoundError as exc:
        raise ConfigError(f"{what} TLS file {exc.filename} does not exist") from exc
    except (ssl.SSLError, OSError) as exc:
        raise ConfigError(f"cannot load the {what} TLS certificate/key ({cert_file}, {key_file}): "
                          f"{getattr(exc, 'reason', None) or exc}") from exc
    return context


def client_context(ca_file: str) -> ssl.SSLContext:
    """The context for dialling ``wss://`` peers: ``ca_file`` as trust anchors, else the system's."""
    try:
        context = ssl.create_default_context(cafile=ca_file or None)
    except FileNotFoundError as exc:
        raise ConfigError(f"p2p.tls_ca_file {ca_file} does not exist") from exc
    except (ssl.SSLError, OSError) as exc:
        reason = getattr(exc, "reason", None) or exc
        raise ConfigError(f"cannot load p2p.tls_ca_file {ca_file}: {reason}") from exc
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    return context
