"""``ledgr validators list|add|remove|rotate-key|approve|submit``: live validator changes.

A change needs approvals from a quorum of the *current* operators' admin keys (consensus.md §3),
collected off-ledger in one proposal file (``ledgr.node.membership``):

\b
  1. operator A:  ledgr validators add node3 z6Mk…node z6Mk…admin --node URL --admin-key a.key
                     --out change.json          # proposal + A's approval (nothing submitted)
  2. operator B:  ledgr validators approve change.json --node URL_B --admin-key b.key
                                                   # checks it against B's node, adds B's approval
  3. anyone of them: ledgr validators submit change.json --node URL --admin-key a.key
                                                   # validators.update, waits until committed

Without ``--out``, ``add``/``remove``/``rotate-key`` submit at once when the operator's own approval
already reaches the quorum (or with ``--approval FILE`` copies approved by others). The new set
signs from two heights after the commit; every node follows without a restart.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import click

from ledgr.cli.base import echo_json, read_json_file
from ledgr.cli.http import get_json, request_json
from ledgr.crypto import PrivateKey
from ledgr.errors import InvalidInput, OperationRejected, Unavailable
from ledgr.ledger.records import ValidatorRecord
from ledgr.ledger.validators import ValidatorSet
from ledgr.node import membership
from ledgr.node.keyfile import read_secret_key
from ledgr.node.membership import Proposal

WAIT_S = 60.0
DEFAULT_VALID_BLOCKS = 500

node_option = click.option("--node", "url", required=True,
                           help="Base URL of a node's API, e.g. http://127.0.0.1:8700")
admin_option = click.option("--admin-key", "admin_key_file", required=True,
                            type=click.Path(dir_okay=False, path_type=Path),
                            help="File holding this operator's admin secret key (mode 0600).")


@click.group("validators")
def validators() -> None:
    """List the validator set and change it (add, remove, rotate a node key) with operator approvals."""


def _record(url: str) -> tuple[str, int, ValidatorRecord]:
    status = get_json(url, "/v1/status")
    answer = get_json(url, "/v1/state/validators/current")
    return str(status["chain_id"]), int(status["height"]), membership.record_from_state(answer)


def _set_json(validator_set: ValidatorSet) -> dict[str, Any]:
    return {"quorum_mode": validator_set.quorum_mode, "size": validator_set.size,
            "quorum": validator_set.quorum,
            "validators": [v.to_json() for v in validator_set.validators]}


@validators.command("list")
@node_option
@click.option("--json", "as_json", is_flag=True, help="Print JSON (active set, pending change).")
def list_(url: str, as_json: bool) -> None:
    """Show the active validator set and any pending change (with its activation height).

    \b
    Example:
      ledgr validators list --node http://127.0.0.1:8700
    """
    chain_id, height, record = _record(url)
    if as_json:
        echo_json({"chain_id": chain_id, "height": height, "version": record.version_hash,
                   "active": _set_json(record.active),
                   "pending": None if record.pending is None else _set_json(record.pending),
                   "activates_at": record.activates_at})
        return
    click.echo(f"chain {chain_id} at height {height}: {record.active.size} validators, "
               f"quorum {record.active.quorum} ({record.active.quorum_mode})")
    for v in record.active.validators:
        click.echo(f"  {v.name:<16} node {v.node_key.multikey}  admin {v.admin_key.multikey}")
    if record.pending is not None:
        click.echo(f"pending from height {record.activates_at}: "
                   f"{', '.join(v.name for v in record.pending.validators)}")


def _load(path: str) -> Proposal:
    return Proposal.from_json(read_json_file(path))


def _write(proposal: Proposal, out: Path | None) -> None:
    text = json.dumps(proposal.to_json(), indent=2)
    if out is None:
        click.echo(text)
    else:
        out.write_text(text + "\n", encoding="utf-8")


def _check_against_node(proposal: Proposal, url: str) -> ValidatorRecord:
    chain_id, height, record = _record(url)
    if proposal.chain_id != chain_id:
        raise InvalidInput(f"the proposal is for chain {proposal.chain_id!r}; {url} is on {chain_id!r}")
    if record.pending is not None:
        raise InvalidInput("a validator change is already pending "
                           f"(active from height {record.activates_at})")
    if proposal.prev != record.version_hash:
        raise InvalidInput("the proposal was made against another version of the validator set "
                           "(stale); make a new one")
    if proposal.valid_until_height <= height:
        raise InvalidInput(f"the proposal expired at height {proposal.valid_until_height} "
                           f"(chain is at {height})")
    return record


def _submit(url: str, proposal: Proposal, submitter: PrivateKey) -> dict[str, Any]:
    accepted = request_json(url, "/v1/operations", raw=proposal.envelope(submitter))
    op_hash = accepted["hash"]
    deadline = time.monotonic() + WAIT_S
    while time.monotonic() < deadline:
        answer = get_json(url, f"/v1/operations/{op_hash}?wait=10", timeout_s=20)
        if answer["status"] == "committed":
            return {"hash": op_hash, "height": answer["height"], "activates_at": int(answer["height"]) + 2,
                    "change": proposal.change}
        if answer["status"] == "rejected":
            raise OperationRejected(f"validators.update rejected: {answer.get('reason')}")
    raise Unavailable(f"validators.update {op_hash} was not committed within {WAIT_S:.0f} s")


def _finish(url: str, proposal: Proposal, key: PrivateKey, record: ValidatorRecord, out: Path | None) -> None:
    have = len(proposal.valid_approvers(record.active))
    need = record.active.quorum
    if out is not None or have < need:
        _write(proposal, out)
        click.echo(f"{have} of {need} approvals; other operators run: ledgr validators approve FILE "
                   "--node URL --admin-key KEYFILE, then: ledgr validators submit FILE …", err=True)
        return
    echo_json(_submit(url, proposal.only_valid(record.active), key))


def _change_options(func: Any) -> Any:
    for option in reversed([
        node_option, admin_option,
        click.option("--approval", "approvals", multiple=True,
                     help="A proposal file already approved by other operators (repeatable)."),
        click.option("--out", type=click.Path(dir_okay=False, path_type=Path),
                     help="Write the proposal with this operator's approval here instead of submitting."),
        click.option("--valid-blocks", type=click.IntRange(10, 100000), default=DEFAULT_VALID_BLOCKS,
                     show_default=True, help="Heights during which the proposal can still be committed."),
        click.option("--force", is_flag=True, help="Allow a set that does not survive one node down."),
    ]):
        func = option(func)
    return func


def _propose(url: str, admin_key_file: Path, approvals: tuple[str, ...], out: Path | None, valid_blocks: int,
             force: bool, change: str, build: Any) -> None:
    key = read_secret_key(admin_key_file)
    chain_id, height, record = _record(url)
    if record.pending is not None:
        raise InvalidInput("a validator change is already pending "
                           f"(active from height {record.activates_at})")
    new_set = build(record.active)
    if approvals:
        proposal = _load(approvals[0])
        for path in approvals[1:]:
            proposal = proposal.merged(_load(path))
        if proposal.validator_set != new_set:
            raise InvalidInput(f"the approval files propose another set than: {change}")
        _check_against_node(proposal, url)
    else:
        proposal = Proposal(chain_id, record.version_hash, height + valid_blocks, force, change, new_set)
    _finish(url, proposal.approved_by(key), key, record, out)


@validators.command("add")
@click.argument("name")
@click.argument("node_key")
@click.argument("new_admin_key")
@_change_options
def add(name: str, node_key: str, new_admin_key: str, url: str, admin_key_file: Path,
        approvals: tuple[str, ...], out: Path | None, valid_blocks: int, force: bool) -> None:
    """Add validator NAME with node key NODE_KEY and operator admin key NEW_ADMIN_KEY (Multikeys).

    \b
    The new node's config lists the existing validators as peers; they need no change (the new node
    dials them; it follows the chain until its set activates, then votes).
    Example:
      ledgr validators add node3 z6Mk… z6Mk… --node URL --admin-key admin.key --out change.json
    """
    _propose(url, admin_key_file, approvals, out, valid_blocks, force, f"add {name}",
             lambda current: membership.added(current, name, node_key, new_admin_key))


@validators.command("remove")
@click.argument("name")
@_change_options
def remove(name: str, url: str, admin_key_file: Path, approvals: tuple[str, ...], out: Path | None,
           valid_blocks: int, force: bool) -> None:
    """Remove validator NAME (it stops counting two heights after the change commits).

    \b
    Example:
      ledgr validators remove node3 --node http://127.0.0.1:8700 --admin-key admin.key --out change.json
    """
    _propose(url, admin_key_file, approvals, out, valid_blocks, force, f"remove {name}",
             lambda current: membership.removed(current, name))


@validators.command("rotate-key")
@click.argument("name")
@click.argument("new_node_key")
@_change_options
def rotate_key(name: str, new_node_key: str, url: str, admin_key_file: Path, approvals: tuple[str, ...],
               out: Path | None, valid_blocks: int, force: bool) -> None:
    """Replace the node (consensus) key of validator NAME by NEW_NODE_KEY.

    \b
    Restart that node with the new key after the change is active.
    Example:
      ledgr validators rotate-key node1 z6Mk… --node http://127.0.0.1:8700 --admin-key admin.key
    """
    _propose(url, admin_key_file, approvals, out, valid_blocks, force, f"rotate-key {name}",
             lambda current: membership.rotated(current, name, new_node_key))


@validators.command("approve")
@click.argument("proposal_file")
@node_option
@admin_option
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path),
              help="Where to write the approved proposal (default: overwrite PROPOSAL_FILE; - for stdout).")
def approve_(proposal_file: str, url: str, admin_key_file: Path, out: Path | None) -> None:
    """Check PROPOSAL_FILE against your own node (chain, current set version, expiry) and add your
    admin key's approval.

    \b
    Example:
      ledgr validators approve change.json --node http://127.0.0.1:8702 --admin-key admin.key
    """
    proposal = _load(proposal_file)
    record = _check_against_node(proposal, url)
    key = read_secret_key(admin_key_file)
    if key.public_key not in record.active.admin_keys():
        raise InvalidInput("this admin key is not one of the current operators' admin keys")
    approved = proposal.approved_by(key)
    target = out if out is not None else (None if proposal_file == "-" else Path(proposal_file))
    if target is not None and str(target) == "-":
        target = None
    _write(approved, target)
    click.echo(f"approved: {proposal.change} ({len(approved.valid_approvers(record.active))} of "
               f"{record.active.quorum} approvals)", err=True)


@validators.command("submit")
@click.argument("proposal_files", nargs=-1, required=True)
@node_option
@admin_option
def submit(proposal_files: tuple[str, ...], url: str, admin_key_file: Path) -> None:
    """Submit an approved proposal (approvals of several copies are merged) and wait for the commit.

    \b
    Example:
      ledgr validators submit change.json --node http://127.0.0.1:8700 --admin-key admin.key
    """
    proposal = _load(proposal_files[0])
    for path in proposal_files[1:]:
        proposal = proposal.merged(_load(path))
    record = _check_against_node(proposal, url)
    key = read_secret_key(admin_key_file)
    have = len(proposal.valid_approvers(record.active))
    if have < record.active.quorum:
        raise InvalidInput(f"{have} valid approvals; a quorum of {record.active.quorum} current admin keys "
                           "is needed")
    echo_json(_submit(url, proposal.only_valid(record.active), key))


COMMANDS = [validators]
