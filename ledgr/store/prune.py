"""Pruning SMT pages of old versions (``ledgr ledger prune``; offline, the node stopped).

Every block writes new SMT pages and leaves the pages of the versions it replaced in the store, so
proofs against any past ``app_root`` keep working; at a million DIDs those stale pages are about half
of the disk. Certified reads, resolution (``versionId``/``versionTime`` come from version records in
the *current* state) and catch-up only need recent roots, so an operator may keep the trees of the
last ``keep_heights`` blocks and drop the rest.

Pages are content-addressed: a page of an old version may also belong to a kept tree, so pruning is
mark-and-sweep — mark every page reachable from a kept root, delete every other page. A later block
that recreates identical content writes its pages again (the SMT update emits every page of a path it
changes), so nothing a future block needs can be lost. The store must be opened writable, which
takes the data-directory lock: a running node makes pruning fail rather than race it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from ledgr.errors import IntegrityError, InvalidInput, InvariantViolation
from ledgr.ledger.smt import EMPTY
from ledgr.ledger.smt_pages import Internal, Ref, load_page
from ledgr.store.env import SMT
from ledgr.store.reads import load_block
from ledgr.store.store import Store
from ledgr.store.view import META_SMT_PRUNED

NodeGetter = Callable[[bytes], bytes | None]
DELETE_BATCH = 50_000  # pages deleted per write transaction


@dataclass(frozen=True)
class PruneReport:
    tip_height: int
    kept_from_height: int
    pages_kept: int
    pages_deleted: int


def reachable_pages(get_node: NodeGetter, roots: list[bytes]) -> set[bytes]:
    """Hashes of every SMT page reachable from ``roots`` (shared subtrees are walked once)."""
    seen: set[bytes] = set()
    stack = [root for root in roots if root != EMPTY]
    while stack:
        page_hash = stack.pop()
        if page_hash in seen:
            continue
        try:
            page = load_page(get_node, page_hash)
        except InvariantViolation as exc:
            raise IntegrityError(f"the SMT is incomplete: {exc}") from exc
        seen.add(page_hash)
        nodes: list[object] = [page]
        while nodes:
            node = nodes.pop()
            if isinstance(node, Internal):
                nodes.extend((node.left, node.right))
            elif isinstance(node, Ref):
                stack.append(node.hash)
    return seen


def prune_smt(store: Store, keep_heights: int) -> PruneReport:
    """Delete SMT pages not reachable from the roots of the last ``keep_heights`` blocks."""
    if keep_heights < 1:
        raise InvalidInput("keep at least the tree of the tip block (keep_heights >= 1)")
    tip = store.tip()
    if tip is None:
        raise InvalidInput("the store holds no ledger")
    first_kept = tip.height - keep_heights + 1
    earlier = store.read(lambda view: view.meta_json(META_SMT_PRUNED))
    if earlier is not None:  # an earlier prune or a state sync: older trees are not here to keep
        first_kept = max(first_kept, int(earlier["kept_from_height"]))
    if first_kept <= 1:  # every version is still wanted (height 0's tree included)
        return PruneReport(tip.height, 0, store.read(lambda view: view.count(SMT)), 0)

    with store.snapshot() as view:
        kept_roots = []
        for height in range(first_kept, tip.height + 1):
            found = load_block(view, height)
            if found is None:
                raise IntegrityError(f"block {height} is missing")
            kept_roots.append(found.block.header.app_root)
        keep = reachable_pages(view.get_node, kept_roots)
    # recorded before the first deletion, so a crash half-way leaves a store that says it is pruned
    marker = {"kept_from_height": first_kept, "at_height": tip.height}
    store.put_meta_json(META_SMT_PRUNED, {**marker, "complete": False})
    deleted = 0
    resume = b""
    while True:
        doomed: list[bytes] = []
        with store.snapshot() as view:
            for key, _page in view.iter_db(SMT, start=resume):
                if key not in keep:
                    doomed.append(key)
                    if len(doomed) == DELETE_BATCH:
                        break
        if not doomed:
            break
        store.delete_smt_pages(doomed)
        deleted += len(doomed)
        resume = doomed[-1]
    store.put_meta_json(META_SMT_PRUNED, {**marker, "complete": True, "pages_deleted": deleted})
    return PruneReport(tip.height, first_kept, len(keep), deleted)
