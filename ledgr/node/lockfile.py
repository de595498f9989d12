"""One process per data directory: an exclusive ``flock`` on ``<data_dir>/node.lock``.

LMDB itself lets several processes open one environment, so without this a node started twice
would run two consensus engines on one key — the double-sign the guard exists to prevent. The lock
dies with the process (even on SIGKILL), so a crashed node never leaves a stale lock behind.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

from ledgr.errors import ConfigError

LOCK_NAME = "node.lock"


class DataDirLock:
    def __init__(self, data_dir: Path) -> None:
        self.path = data_dir / LOCK_NAME
        self._fd: int | None = None

    def acquire(self) -> None:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        except OSError as exc:
            raise ConfigError(f"cannot use data directory {self.path.parent}: {exc.strerror}") from exc
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            os.close(fd)
            holder = self.path.read_text().strip() or "another process"
            raise ConfigError(f"data directory {self.path.parent} is in use by a running node "
                              f"(pid {holder}); stop it first") from exc
        os.ftruncate(fd, 0)
        os.write(fd, str(os.getpid()).encode())
        self._fd = fd

    def release(self) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None
