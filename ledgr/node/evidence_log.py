"""Equivocation evidence surfaced to operators (issue 7; consensus.md §3 item 5, §4.7 accountability).

Two sources, one view:

* **Detected here.** When the consensus core reports two conflicting votes of one validator
  (``ReportEvidence``), the node keeps the proof durably in its own store (``consensus`` records under
  ``evidence/<sha256>``) — so it survives a restart even before it reaches the ledger — and, when the
  ledger takes that kind (equivocation for two different values, :func:`ledgr.node.bridge.submittable`),
  marks it *pending*: :mod:`ledgr.node.evidence_desk` submits it as an ``evidence.submit`` operation.
  Evidence the ledger does not take (prevotes differing only in ``valid_round``) stays in the local
  log only (logged at error level when detected).
* **Committed on the ledger** (by this node or any other): ``e\\0<id>`` state records. After every
  commit the node looks for new ones; each is logged once at error level
  (``equivocation_evidence_committed``, naming the validator's key and name), counted in
  ``ledgr_equivocation_evidence_total{validator}``, and no longer pending.

``/v1/status`` (and so ``ledgr node status``) shows ``evidence: {count, recent, uncommitted}``: the
ledger's evidence (count and the latest entries, each readable with a proof through
``GET /v1/state/evidence/{id}?proof=true``) and this node's detections that are not on the ledger.
Duplicates (the same two votes reported again, e.g. after a restart) are counted once.
"""

from __future__ import annotations

from typing import Any

from ledgr.consensus.evidence import Evidence, decode_evidence, encode_evidence
from ledgr.crypto import PublicKey, sha256
from ledgr.errors import LedgrError
from ledgr.ledger.rules_evidence import offence_id
from ledgr.node import reads
from ledgr.node.bridge import ledger_votes, submittable
from ledgr.node.logs import get_logger
from ledgr.node.writer import DurableWriter
from ledgr.store.keys import data_key
from ledgr.store.store import Store

log = get_logger("ledgr.evidence")

RECENT = 20
PREFIX = b"evidence/"
MAX_LOADED = 10000


def describe(evidence: Evidence) -> dict[str, Any]:
    return {"validator": PublicKey(evidence.validator_key).multikey, "height": evidence.height,
            "round": evidence.first.round, "kind": evidence.kind.name.lower()}


def ledger_id(evidence: Evidence) -> str:
    """The ledger's evidence id (hex) of core evidence (meaningful for submittable evidence)."""
    return offence_id(PublicKey(evidence.validator_key), *ledger_votes(evidence)).hex()


def summary(record: dict[str, Any]) -> dict[str, Any]:
    """What the status shows of one committed evidence record."""
    return {name: record.get(name) for name in ("id", "kind", "validator", "validator_name", "height",
                                                "round", "vote_type", "committed_height", "submitted_by")}


class EvidenceLog:
    def __init__(self, store: Store, counter: Any) -> None:
        self.store = store
        self.counter = counter
        self.local: dict[bytes, dict[str, Any]] = {}  # digest of the encoding -> description
        self.pending: dict[str, Evidence] = {}  # ledger id -> submittable evidence not yet committed
        self.committed: dict[str, dict[str, Any]] = {}  # ledger id -> summary
        self._load()
        self.refresh_committed(quiet=True)

    def _load(self) -> None:
        """Evidence recorded before a restart still shows, and is submitted again if not committed."""

        start = data_key(PREFIX)

        def collect(view: Any) -> list[bytes]:
            out: list[bytes] = []
            for key, value in view.iter_db(b"consensus", start):
                if not key.startswith(start) or len(out) >= MAX_LOADED:
                    break
                out.append(value)
            return out

        try:
            stored = self.store.read(collect)
        except (LedgrError, KeyError):
            return
        for raw in stored:
            try:
                evidence = decode_evidence(raw)
            except LedgrError:
                continue
            self._remember(sha256(raw), evidence)

    def _remember(self, digest: bytes, evidence: Evidence) -> dict[str, Any]:
        entry = {**describe(evidence), "submittable": submittable(evidence)}
        if entry["submittable"]:
            entry["id"] = ledger_id(evidence)
            self.pending.setdefault(entry["id"], evidence)
        self.local[digest] = entry
        return entry

    def record(self, evidence: Evidence) -> bool:
        """Store and surface ``evidence`` now (blocking write); False for a duplicate."""
        raw, digest = self._encoded(evidence)
        if digest in self.local:
            return False
        self.store.put_record("consensus", PREFIX + digest, raw)
        self._note(digest, evidence)
        return True

    async def report(self, evidence: Evidence, writer: DurableWriter) -> bool:
        """As :meth:`record`, with the durable write on the node's writer thread (in order with the
        consensus persists) and the in-memory view updated on the event loop."""
        raw, digest = self._encoded(evidence)
        if digest in self.local:
            return False
        await writer.run(self.store.put_record, "consensus", PREFIX + digest, raw)
        self._note(digest, evidence)
        return True

    @staticmethod
    def _encoded(evidence: Evidence) -> tuple[bytes, bytes]:
        raw = encode_evidence(evidence)
        return raw, sha256(raw)

    def _note(self, digest: bytes, evidence: Evidence) -> None:
        entry = self._remember(digest, evidence)
        if entry["submittable"]:
            if entry["id"] in self.committed:
                self.pending.pop(entry["id"], None)
            log.warning("equivocation_detected", note="submitting it to the ledger", **describe(evidence))
        else:
            log.error("equivocation_evidence", note="kept in this node's log; the ledger takes "
                      "votes for two different values only", **describe(evidence))

    def refresh_committed(self, quiet: bool = False) -> list[dict[str, Any]]:
        """Pick up evidence newly committed on the ledger: count it, log it (unless ``quiet``, at
        start-up), drop it from the pending set. Returns the new entries."""
        fresh = []
        for record in reads.evidence_records(self.store, self.committed.keys()):
            ident = str(record.get("id"))
            if ident in self.committed:
                continue
            entry = summary(record)
            self.committed[ident] = entry
            self.pending.pop(ident, None)
            self.counter.labels(entry["validator"]).inc()
            if not quiet:
                log.error("equivocation_evidence_committed", **entry)
            fresh.append(entry)
        return fresh

    def status(self) -> dict[str, Any]:
        committed = sorted(self.committed.values(), key=lambda e: (e["committed_height"], e["id"]))
        uncommitted = [e for e in self.local.values() if e.get("id") not in self.committed]
        return {"count": len(committed), "recent": committed[-RECENT:],
                "uncommitted": {"count": len(uncommitted), "recent": uncommitted[-RECENT:]}}
