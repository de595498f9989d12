"""Secret key files: one multibase Ed25519 secret key per file, readable by its owner only.

A node holds two keys: the validator key (signs consensus votes and peer handshakes) and the
operator admin key (approves ``validators.update`` operations). Both are written with mode 0600
through ``O_EXCL`` so an existing key is never overwritten, and a key file that others can read is
refused at load time (like OpenSSH refuses an unprotected private key).
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from ledgr.crypto import PrivateKey
from ledgr.errors import ConfigError, InvalidKey

MAX_KEY_FILE_BYTES = 4096


def write_secret_key(path: Path, key: PrivateKey) -> None:
    """Create ``path`` (0600) holding ``key``; refuse to overwrite an existing file."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError as exc:
        raise ConfigError(f"{path} already exists; refusing to overwrite a key") from exc
    except OSError as exc:
        raise ConfigError(f"cannot create {path}: {exc.strerror}") from exc
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(key.multikey + "\n")
        handle.flush()
        os.fsync(handle.fileno())


def read_secret_key(path: Path) -> PrivateKey:
    """Load the key in ``path``; it must exist, be small and not be readable by group or others."""
    try:
        info = path.stat()
    except FileNotFoundError as exc:
        raise ConfigError(f"key file {path} does not exist") from exc
    except OSError as exc:
        raise ConfigError(f"cannot read key file {path}: {exc.strerror}") from exc
    if info.st_mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise ConfigError(f"key file {path} is accessible by others; run: chmod 600 {path}")
    if info.st_size > MAX_KEY_FILE_BYTES:
        raise ConfigError(f"key file {path} is larger than {MAX_KEY_FILE_BYTES} bytes")
    text = path.read_text(encoding="ascii", errors="replace").strip()
    try:
        return PrivateKey.from_multikey(text)
    except InvalidKey as exc:
        raise ConfigError(f"key file {path} does not hold an Ed25519 secretKeyMultibase") from exc
