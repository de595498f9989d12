"""``ledgr backup`` / ``ledgr restore``: copy a node's store while it runs; restore it when stopped."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import click

from ledgr.cli.base import echo_json
from ledgr.store import Store
from ledgr.store.backup import backup as backup_store
from ledgr.store.backup import restore as restore_store

_DATA_DIR = click.Path(file_okay=False, path_type=Path)


@click.command("backup")
@click.option("--data-dir", type=_DATA_DIR, required=True, help="The node's data directory.")
@click.option("--out", "out", type=_DATA_DIR, required=True, help="New (or empty) directory for the backup.")
def backup(data_dir: Path, out: Path) -> None:
    """Back up a node's store; safe while the node is running.

    The copy is one consistent snapshot (compacted). It is marked as a backup with its height, so a
    node restored from it knows it must catch up before it signs again.

    \b
    Example:
      ledgr backup --data-dir /var/lib/ledgr --out /backups/ledgr-2026-11-25
    """
    with Store.open(data_dir, readonly=True) as store:
        info = backup_store(store, out, time_ms=int(time.time() * 1000))
    echo_json({**info.to_record(), "path": str(info.path)})


@click.command("restore")
@click.option("--from", "source", type=_DATA_DIR, required=True, help="A directory made by `ledgr backup`.")
@click.option("--data-dir", type=_DATA_DIR, required=True, help="The (stopped) node's data directory.")
@click.option("--force", is_flag=True, help="Restore over a non-empty data dir (kept aside).")
def restore(source: Path, data_dir: Path, force: bool) -> None:
    """Restore a backup into a stopped node's data directory.

    Refuses a non-empty data directory unless --force; then the old one is renamed to
    <data-dir>.replaced-<ms>. The restored node will not sign until it has caught up past the backup.

    \b
    Example:
      ledgr restore --from /backups/ledgr-2026-11-25 --data-dir /var/lib/ledgr
    """
    with click.progressbar(length=100, label="restoring", file=sys.stderr) as bar:

        def progress(done: int, total: int) -> None:
            bar.update(done * 100 // max(total, 1) - bar.pos)

        marker = restore_store(source, data_dir, time_ms=int(time.time() * 1000), force=force,
                               progress=progress)
    echo_json({**marker, "data_dir": str(data_dir)})


COMMANDS = [backup, restore]
