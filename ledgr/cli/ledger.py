"""``ledgr ledger …``: offline checks of a node's ledger."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from ledgr.cli.base import echo_json, read_json_file
from ledgr.errors import IntegrityError
from ledgr.ledger.genesis import Genesis
from ledgr.store import Store
from ledgr.store.verify import verify_ledger


@click.group()
def ledger() -> None:
    """Inspect and verify the ledger in a data directory."""


@ledger.command("verify")
@click.option("--data-dir", type=click.Path(file_okay=False, path_type=Path), required=True,
              help="The node's data directory (may belong to a running node).")
@click.option("--genesis", "genesis_path", type=click.Path(dir_okay=False), default=None,
              help="Your copy of the genesis document (default: the one recorded in the data dir).")
def verify(data_dir: Path, genesis_path: str | None) -> None:
    """Re-verify the whole ledger from genesis; exit 0 only if everything holds.

    Checks every block's QC against the validator set of its height, re-executes every block,
    compares every app_root, and compares the replayed state with the stored state.

    \b
    Example:
      ledgr ledger verify --data-dir /var/lib/ledgr --genesis genesis.json
    """
    with Store.open(data_dir, readonly=True) as store:
        if genesis_path is not None:
            genesis = Genesis.from_json(read_json_file(genesis_path))
            source = "given"
        else:
            stored = store.genesis_document()
            if stored is None:
                raise IntegrityError("the data directory records no genesis document; pass --genesis FILE")
            genesis, source = stored, "recorded in the data directory"
        tip = store.tip()
        total = 0 if tip is None else tip.height
        with click.progressbar(length=max(total, 1), label="verifying", file=sys.stderr,
                               show_pos=True) as bar:

            def progress(done: int, _total: int) -> None:
                bar.update(done - bar.pos)

            report = verify_ledger(store, genesis, progress)
            bar.update(max(total, 1) - bar.pos)
    echo_json({
        "ok": True,
        "height": report.height,
        "operations": report.operations,
        "state_entries": report.state_entries,
        "smt_nodes": report.smt_nodes,
        "app_root": report.app_root.hex(),
        "genesis": source,
    })


COMMANDS = [ledger]
