"""One writer process per data directory: an exclusive ``flock`` on ``<data dir>/ledgr.lock``.

LMDB itself happily serialises writers from several processes, so two node processes pointed at the
same data directory by mistake would both run, and both sign: a validator equivocating with itself.
A writable :class:`~ledgr.store.Store` therefore holds this lock for as long as it is open; read-only
opens (``ledgr ledger verify``, ``ledgr backup``, ``ledgr ledger info``) do not need it, and
``ledgr restore`` refuses a directory whose lock is held. The kernel drops the lock when the process
dies (SIGKILL included), so a crashed node never leaves a stale lock behind.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

from ledgr.errors import StorageError

LOCK_FILE = "ledgr.lock"


class DirectoryLock:
    """An acquired lock; :meth:`release` (or process exit) gives it up."""

    def __init__(self, path: Path, fd: int) -> None:
        self.path = path
        self._fd: int | None = fd

    @classmethod
    def acquire(cls, directory: Path) -> DirectoryLock:
        try:
            directory.mkdir(parents=True, exist_ok=True)
            fd = os.open(directory / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            raise StorageError(f"cannot create the lock file in {directory}: {exc.strerror}") from exc
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 32, 0).decode("ascii", "replace").strip() or "unknown"
            os.close(fd)
            raise StorageError(
                f"{directory} is in use by another ledgr process (pid {holder}); "
                "only one node may use a data directory"
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode("ascii"), 0)
        return cls(directory, fd)

    def release(self) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None


def is_locked(directory: Path) -> bool:
    """Whether a live process holds ``directory``'s lock (checked without taking it for long)."""
    if not (directory / LOCK_FILE).is_file():
        return False
    try:
        lock = DirectoryLock.acquire(directory)
    except StorageError:
        return True
    lock.release()
    return False
