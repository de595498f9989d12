"""``ledgr ledger …``: offline checks of a node's ledger."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from ledgr.cli.base import echo_json, read_json_file
from ledgr.errors import IntegrityError
from ledgr.ledger.genesis import Genesis
from ledgr.node.didclient import latest_checkpoint
from ledgr.store import Store
from ledgr.store.env import OPS
from ledgr.store.prune import prune_smt
from ledgr.store.verify import verify_ledger
from ledgr.store.view import META_BACKUP, META_RESTORED


@click.group()
def ledger() -> None:
    """Inspect and verify the ledger in a data directory."""


@ledger.command("info")
@click.option("--data-dir", type=click.Path(file_okay=False, path_type=Path), required=True,
              help="The node's data directory (may belong to a running node).")
def info(data_dir: Path) -> None:
    """Show what a data directory holds: chain, tip, sizes, backup/restore markers.

    \b
    Example:
      ledgr ledger info --data-dir /var/lib/ledgr
    """
    with Store.open(data_dir, readonly=True) as store, store.snapshot() as view:
        tip = view.tip()
        genesis_hash = view.genesis_hash()
        echo_json({
            "chain_id": view.chain_id(),
            "genesis_hash": None if genesis_hash is None else genesis_hash.hex(),
            "schema_version": view.schema_version(),
            "height": None if tip is None else tip.height,
            "tip_hash": None if tip is None else tip.block_hash.hex(),
            "app_root": None if tip is None else tip.app_root.hex(),
            "indexed_operations": view.count(OPS),
            "data_file_bytes": store.disk_bytes(),
            "map_size_bytes": store.map_size_bytes,
            "backup": view.meta_json(META_BACKUP),
            "restored": view.meta_json(META_RESTORED),
        })


@ledger.command("verify")
@click.option("--data-dir", type=click.Path(file_okay=False, path_type=Path), required=True,
              help="The node's data directory (may belong to a running node).")
@click.option("--genesis", "genesis_path", type=click.Path(dir_okay=False), default=None,
              help="Your copy of the genesis document (default: the one recorded in the data dir).")
@click.option("--scratch-dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Where to replay the chain (needs about the ledger's size; default: system temp).")
def verify(data_dir: Path, genesis_path: str | None, scratch_dir: Path | None) -> None:
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

            report = verify_ledger(store, genesis, progress, scratch_dir=scratch_dir)
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


@ledger.command("checkpoint")
@click.option("--node", "url", required=True, envvar="LEDGR_NODE", metavar="URL",
              help="A node of the network (its answer is verified, not trusted).")
@click.option("--trust-dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Where pinned genesis documents and checkpoints are kept (default ~/.config/ledgr/trust).")
def checkpoint(url: str, trust_dir: Path | None) -> None:
    """Print a checkpoint at the network's latest block, verified from this machine's trust anchor.

    The checkpoint (chain id, genesis hash, height, block hash, validator set) is what operators
    publish so new verifiers can start from it instead of genesis (`ledgr did resolve --proof
    --checkpoint FILE`); it is also pinned here. See docs/trust.md §1.

    \b
    Example:
      ledgr ledger checkpoint --node http://127.0.0.1:8700 > checkpoint.json
    """
    echo_json(latest_checkpoint(url, trust_dir).to_json())


@ledger.command("prune")
@click.option("--data-dir", type=click.Path(file_okay=False, path_type=Path), required=True,
              help="The node's data directory (the node must be stopped).")
@click.option("--keep-heights", type=click.IntRange(min=1), default=1000, show_default=True,
              help="Keep the state trees of this many latest blocks; older roots lose their proofs.")
def prune(data_dir: Path, keep_heights: int) -> None:
    """Delete SMT pages of old state versions (offline; the node must be stopped).

    Certified reads, DID resolution (including versionId/versionTime) and catch-up use recent
    trees only; older roots can no longer be proved against afterwards. Blocks, QCs and state stay.

    \b
    Example:
      ledgr ledger prune --data-dir /var/lib/ledgr --keep-heights 1000
    """
    with Store.open(data_dir) as store:
        report = prune_smt(store, keep_heights)
    echo_json({"tip_height": report.tip_height, "kept_from_height": report.kept_from_height,
               "pages_kept": report.pages_kept, "pages_deleted": report.pages_deleted})


COMMANDS = [ledger]
