"""``ledgr key …``: offline key generation."""

from __future__ import annotations

import click

from ledgr.cli.base import echo_json
from ledgr.crypto import PrivateKey
from ledgr.did.key import did_key_from_public_key, did_key_verification_method


@click.group()
def key() -> None:
    """Ed25519 keys (Multikey encoded)."""


@key.command("generate")
def generate() -> None:
    """Generate an Ed25519 key pair and print it with its did:key.

    \b
    Example:
      ledgr key generate > issuer-key.json
    """
    secret = PrivateKey.generate()
    echo_json({
        "publicKeyMultibase": secret.public_key.multikey,
        "secretKeyMultibase": secret.multikey,
        "did": did_key_from_public_key(secret.public_key),
        "verificationMethod": did_key_verification_method(secret.public_key),
    })
COMMANDS = [key]
