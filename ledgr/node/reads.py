"""JSON views of committed data for the HTTP API: blocks, operation receipts, certified state reads.

Every answer comes from ONE store snapshot, so a value, its SMT proof, the header whose ``app_root``
the proof reaches and the QC over that header belong together (consensus.md §2.2). Alongside the
readable JSON, the exact encodings (``*_encoded``, hex) are included: a verifier checks those bytes,
never a re-serialisation.
"""

from __future__ import annotations

import base64
import json
from collections import OrderedDict
from collections.abc import Container
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from ledgr.crypto import sha256
from ledgr.errors import InvalidInput, NotFound
from ledgr.ledger.formats import Block, Header, QuorumCertificate
from ledgr.ledger.smt import prove
from ledgr.ledger.state import (
    CHAIN_KEY,
    EVIDENCE_PREFIX,
    VALIDATORS_KEY,
    did_head_key,
    did_version_key,
    evidence_key,
    resource_key,
    status_list_key,
)
from ledgr.ledger.validator_history import HISTORY_KEY
from ledgr.node.txtree import TxTree
from ledgr.store.env import STATE
from ledgr.store.keys import data_key
from ledgr.store.store import Store
from ledgr.store.view import StoreView

STATE_KINDS = ("did", "did-version", "status-list", "resource", "validators", "chain", "evidence")
MAX_EVIDENCE_LISTED = 1000


def iso_time(time_ms: int) -> str:
    return datetime.fromtimestamp(time_ms / 1000, tz=UTC).isoformat(timespec="milliseconds").replace(
        "+00:00", "Z")


def qc_json(qc: QuorumCertificate) -> dict[str, Any]:
    return {"height": qc.height, "round": qc.round, "block_hash": qc.block_hash.hex(),
            "signers": qc.signer_indexes(), "signer_count": qc.signer_count,
            "signatures": [s.hex() for s in qc.signatures], "encoded": qc.encode().hex()}


def header_json(header: Header) -> dict[str, Any]:
    return {**header.to_json(), "time": iso_time(header.time_ms), "encoded": header.encode().hex()}


def _load(view: StoreView, height: int) -> tuple[Block, QuorumCertificate] | None:
    raw_block, raw_qc = view.block_bytes(height), view.qc_bytes(height)
    if raw_block is None or raw_qc is None:
        return None
    return Block.decode(bytes(raw_block)), QuorumCertificate.decode(bytes(raw_qc))


def block_json(store: Store, height: int) -> dict[str, Any] | None:
    with store.snapshot() as view:
        found = _load(view, height)
    if found is None:
        return None
    block, qc = found
    return {"height": height, "hash": block.hash().hex(), "header": header_json(block.header),
            "operations": [sha256(e).hex() for e in block.operations],
            "operation_count": len(block.operations), "qc": qc_json(qc)}


@dataclass
class _CachedBlock:
    block_hash: str
    header: dict[str, Any]
    qc: dict[str, Any]
    tree: TxTree


class ReceiptCache:
    """Decoded recent blocks with their memoized operation trees (bounded LRU), so answering many
    ``GET /v1/operations`` for one block decodes it once and hashes its tree once."""

    def __init__(self, size: int = 8) -> None:
        self.size = size
        self._blocks: OrderedDict[int, _CachedBlock] = OrderedDict()

    def get(self, view: StoreView, height: int) -> _CachedBlock | None:
        found = self._blocks.get(height)
        if found is not None:
            self._blocks.move_to_end(height)
            return found
        loaded = _load(view, height)
        if loaded is None:
            return None
        block, qc = loaded
        entry = _CachedBlock(block.hash().hex(), header_json(block.header), qc_json(qc),
                             TxTree([sha256(e) for e in block.operations]))
        self._blocks[height] = entry
        while len(self._blocks) > self.size:
            self._blocks.popitem(last=False)
        return entry


def op_receipt(store: Store, op_hash: bytes, cache: ReceiptCache) -> dict[str, Any] | None:
    """Where ``op_hash`` was committed, with header, QC and its RFC 6962 inclusion proof."""
    with store.snapshot() as view:
        location = view.op_location(op_hash)
        if location is None:
            return None
        entry = cache.get(view, location.height)
    if entry is None:
        return None
    return {
        "hash": op_hash.hex(), "height": location.height, "index": location.index,
        "block_hash": entry.block_hash, "header": entry.header, "qc": entry.qc,
        "inclusion_proof": {"leaf_index": location.index, "tree_size": len(entry.tree.leaves),
                            "path": [p.hex() for p in entry.tree.proof(location.index)],
                            "tx_root": entry.header["tx_root"]},
    }


def tip_json(store: Store) -> dict[str, Any]:
    with store.snapshot() as view:
        tip = view.tip()
        latest = _load(view, tip.height) if tip is not None and tip.height > 0 else None
    if tip is None:
        return {}
    out: dict[str, Any] = {"height": tip.height, "block_hash": tip.block_hash.hex(),
                           "app_root": tip.app_root.hex(), "time": None}
    if latest is not None:
        out["time"] = iso_time(latest[0].header.time_ms)
    return out


def _state_keys(kind: str, ident: str, view: StoreView) -> list[tuple[str, bytes]]:
    if kind == "did":
        keys = [("head", did_head_key(ident))]
        head = view.get(did_head_key(ident))
        if head is not None:
            seq = json.loads(head)["seq"]
            keys.append(("version", did_version_key(ident, int(seq))))
        return keys
    if kind == "did-version":
        did, _, seq = ident.rpartition("@")
        if not did or not seq.isdigit():
            raise InvalidInput("a did-version id is <did>@<version number>")
        return [("version", did_version_key(did, int(seq)))]
    if kind == "status-list":
        return [("status_list", status_list_key(ident))]
    if kind == "resource":
        did, sep, rid = ident.partition("/resources/")
        if not sep or not rid:
            raise InvalidInput("a resource id is <did>/resources/<id>")
        return [("resource", resource_key(did, rid))]
    if kind == "validators":  # the record and the sets of past heights (a verifier follows them)
        return [("validators", VALIDATORS_KEY), ("history", HISTORY_KEY)]
    if kind == "chain":
        return [("chain", CHAIN_KEY)]
    if kind == "evidence":
        if len(ident) != 64 or ident != ident.lower() or any(c not in "0123456789abcdef" for c in ident):
            raise InvalidInput("an evidence id is 64 lowercase hex characters")
        return [("evidence", evidence_key(bytes.fromhex(ident)))]
    raise NotFound(f"unknown state kind {kind!r}; one of {', '.join(STATE_KINDS)}")


def state_json(store: Store, kind: str, ident: str, with_proof: bool) -> dict[str, Any]:
    """State entries for ``kind``/``ident``; with ``with_proof``, each with an SMT proof against the
    tip header, plus that header and its QC (a certified read; absence is proved the same way)."""
    try:
        ident.encode("ascii")
    except UnicodeEncodeError as exc:
        raise InvalidInput("state ids are ASCII") from exc
    with store.snapshot() as view:
        tip = view.tip()
        keys = _state_keys(kind, ident, view)
        entries: dict[str, Any] = {}
        for name, key in keys:
            value = view.get(key)
            entry: dict[str, Any] = {
                "key": key.hex(), "value": None if value is None else json.loads(value),
                "value_b64": None if value is None else base64.urlsafe_b64encode(value).decode().rstrip("="),
            }
            if with_proof and tip is not None and tip.height > 0:
                proof = prove(view.get_node, tip.app_root, sha256(key))
                entry["smt_proof"] = {**proof.to_json(), "encoded": proof.encode().hex()}
            entries[name] = entry
        latest = _load(view, tip.height) if with_proof and tip is not None and tip.height > 0 else None
    found = any(e["value"] is not None for e in entries.values())
    out: dict[str, Any] = {"kind": kind, "id": ident, "found": found, "entries": entries,
                           "height": tip.height if tip is not None else 0}
    if with_proof:
        if latest is None:
            raise NotFound("no block is committed yet, so no state can be certified")
        block, qc = latest
        out["header"] = header_json(block.header)
        out["qc"] = qc_json(qc)
    elif not found:
        raise NotFound(f"no {kind} {ident!r} in the ledger state")
    return out


def evidence_records(store: Store, known: Container[str] = frozenset(),
                     limit: int = MAX_EVIDENCE_LISTED) -> list[dict[str, Any]]:
    """Committed equivocation evidence (``e\\0<id>`` state records) whose id is not in ``known``, at
    most ``limit`` scanned, in id order.

    A range scan over the state database (run after every commit, so known records are skipped
    without decoding them): the node lists what the ledger holds for ``/v1/status``; each record
    can be read with a proof through ``GET /v1/state/evidence/{id}?proof=true``."""
    start = data_key(EVIDENCE_PREFIX)

    def collect(view: StoreView) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        for scanned, (key, value) in enumerate(view.iter_db(STATE, start)):
            if not key.startswith(start) or scanned >= limit:
                break
            if key[len(start):].hex() not in known:
                out.append(json.loads(value))
        return out

    found: list[dict[str, Any]] = store.read(collect)
    return found
