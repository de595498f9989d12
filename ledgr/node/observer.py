"""Read-only observer nodes (issue 7 "Growth"; consensus.md §1.5 block sync, §2.2 one-node reads).

An observer (``[node] role = "observer"``) holds a key only to authenticate to its peers; it is not
in the validator set, never runs consensus and never signs a vote. It follows the chain by block
sync alone: every block must carry a QC with a quorum of valid precommits of *that height's*
validator set (which the observer derives from the state it has applied, so it follows
``validators.update`` changes by itself), must extend the local tip and must re-execute to its
header's ``app_root`` (``Chain.apply_synced_run``). It serves reads and certified proofs from its own
store like any node; writes are refused (submit to a validator).

Validators accept an observer as a *sync client*: authenticated by the same signed handshake, but
only its STATUS and sync frames are taken, its claimed height never pauses their consensus, and
broadcasts skip it (``ledgr.node.peers``). Unlike a validator, an observer fetches as soon as any
validator is one height ahead, so it trails the network by about one STATUS interval.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from ledgr.node.logs import get_logger
from ledgr.node.sync import CHECK_INTERVAL_S

if TYPE_CHECKING:
    from ledgr.node.runtime import Node

log = get_logger("ledgr.observer")


async def follow_chain(node: Node) -> None:
    """Block-sync forever: whenever a connected validator reports a higher height, fetch and apply."""
    node.started = True
    log.info("observer_following", height=node.chain.height)
    while True:
        if node.sync.best_height() > node.chain.height:
            await node.sync.catch_up(node._apply_synced)
        await asyncio.sleep(CHECK_INTERVAL_S)


def observer_readiness(node: Node) -> tuple[bool, str]:
    """Ready when caught up with at least one connected validator (an observer needs no quorum)."""
    validators = node.chain.validator_keys(node.chain.height + 1)
    if not node.peers.connected() & validators:
        return False, "connected to no validator"
    if node.sync.best_height() > node.chain.height + 1:
        return False, "catching up"
    return True, "ready"
