"""Online backup and offline restore of a node's store (``ledgr backup`` / ``ledgr restore``).

Backup copies the LMDB environment from one read transaction (consistent while the node keeps
committing), then marks the copy as a backup: its height, tip hash and when it was taken.

Restore is for a stopped node. It refuses to overwrite a non-empty data directory unless forced
(then the old directory is kept aside, never deleted), and it leaves a *restored* marker in the new
store. A restored validator is dangerous: its consensus record (``last_signed``) may be older than
what it actually signed before, so signing again could equivocate (architecture.md §4: a validator
restored from an old backup can fork n=3). The node reads :meth:`Store.restore_marker` and must not
sign until it has caught up past the backup's height; only then does it clear the marker.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ledgr.errors import StorageError
from ledgr.store.dirlock import LOCK_FILE, is_locked
from ledgr.store.env import StoreSettings
from ledgr.store.store import SCHEMA_VERSION, Store
from ledgr.store.view import META_BACKUP, META_RESTORED

DATA_FILE = "data.mdb"
COPY_CHUNK_BYTES = 16 * 1024 * 1024


@dataclass(frozen=True)
class BackupInfo:
    """What a backup holds: the tip it was copied at and when."""

    path: Path
    height: int
    block_hash: bytes
    taken_at_ms: int
    has_consensus_state: bool

    def to_record(self) -> dict[str, Any]:
        return {
            "kind": "ledgr-backup",
            "schema_version": SCHEMA_VERSION,
            "height": self.height,
            "block_hash": self.block_hash.hex(),
            "taken_at_ms": self.taken_at_ms,
            "has_consensus_state": self.has_consensus_state,
        }


def backup(store: Store, dest: str | Path, *, time_ms: int) -> BackupInfo:
    """Copy ``store`` (which may be live) into new directory ``dest`` and mark the copy as a backup."""
    target = Path(dest)
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise StorageError(f"backup target {target} exists and is not an empty directory")
    if target.resolve().is_relative_to(store.path.resolve()):
        raise StorageError("the backup target must not be inside the node's data directory")
    target.mkdir(parents=True, exist_ok=True)
    tip = store.copy_to(target)
    if tip is None:
        shutil.rmtree(target)
        raise StorageError("the store has no genesis yet; there is nothing to back up")
    with Store.open(target, StoreSettings(map_size_bytes=store.map_size_bytes), check=False) as copy:
        info = BackupInfo(
            path=target,
            height=tip.height,
            block_hash=tip.block_hash,
            taken_at_ms=time_ms,
            has_consensus_state=copy.get_consensus_state() is not None,
        )
        copy.put_meta_json(META_BACKUP, info.to_record())
    _remove_lock_file(target)
    (target / LOCK_FILE).unlink(missing_ok=True)
    return info


def read_backup(path: str | Path) -> dict[str, Any]:
    """The backup record of the backup in ``path`` (after the open-time integrity check)."""
    source = Path(path)
    if not (source / DATA_FILE).is_file():
        raise StorageError(f"{source} is not a ledgr backup (no {DATA_FILE})")
    with Store.open(source, readonly=True) as store:
        record = store.read(lambda view: view.meta_json(META_BACKUP))
    if record is None or record.get("kind") != "ledgr-backup":
        raise StorageError(f"{source} is a ledgr store but not a backup made by `ledgr backup`")
    return record


def restore(
    backup_dir: str | Path,
    data_dir: str | Path,
    *,
    time_ms: int,
    force: bool = False,
    progress: Callable[[int, int], None] | None = None,
) -> dict[str, Any]:
    """Restore the backup in ``backup_dir`` into ``data_dir`` (the node must be stopped).

    Returns the restored marker. With ``force``, a non-empty ``data_dir`` is renamed to
    ``<data_dir>.replaced-<time_ms>`` first, never deleted. ``progress(done, total)`` is called
    with bytes copied.
    """
    record = read_backup(backup_dir)
    target = Path(data_dir)
    if is_locked(target):
        raise StorageError(f"refusing to restore into {target}: a running ledgr process holds it; "
                           "stop the node first")
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        if not force:
            raise StorageError(
                f"refusing to restore into {target}: it is not empty (stop the node; use --force to "
                "keep the old directory aside and restore anyway)"
            )
        target.rename(target.with_name(f"{target.name}.replaced-{time_ms}"))
    staging = target.with_name(f".{target.name}.restoring-{os.getpid()}")
    if staging.exists():
        shutil.rmtree(staging)
    staging.mkdir(parents=True)
    _copy_durably(Path(backup_dir) / DATA_FILE, staging / DATA_FILE, progress)
    marker = {**record, "restored_at_ms": time_ms}
    with Store.open(staging) as store:
        store.put_meta_json(META_RESTORED, marker)
        store.delete_meta(META_BACKUP)
    _remove_lock_file(staging)
    (staging / LOCK_FILE).unlink(missing_ok=True)
    if target.exists():
        target.rmdir()  # empty (checked above)
    staging.rename(target)
    _fsync_dir(target.parent)
    return marker


def _copy_durably(source: Path, dest: Path, progress: Callable[[int, int], None] | None) -> None:
    total = source.stat().st_size
    done = 0
    with source.open("rb") as src, dest.open("wb") as dst:
        while chunk := src.read(COPY_CHUNK_BYTES):
            dst.write(chunk)
            done += len(chunk)
            if progress is not None:
                progress(done, total)
        dst.flush()
        os.fsync(dst.fileno())
    _fsync_dir(dest.parent)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _remove_lock_file(path: Path) -> None:
    """A backup is just ``data.mdb``; LMDB recreates ``lock.mdb`` on open."""
    (path / "lock.mdb").unlink(missing_ok=True)
