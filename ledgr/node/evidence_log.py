"""Equivocation evidence surfaced to operators (issue 7; consensus.md §4.7 accountability).

When the consensus core reports two conflicting votes of one validator (``ReportEvidence``), the
node keeps the proof and makes the misbehaviour visible:

* the encoded evidence is stored durably in the node's store (``consensus`` records under
  ``evidence/<sha256>``) — the ledger has no operation type for evidence yet, so it is not put on
  chain; anyone holding the record can re-verify it with the validator's key;
* ``/v1/status`` (and so ``ledgr node status``) shows the count and the most recent entries;
* the counter ``ledgr_equivocation_evidence_total{validator}``;
* one log line at error level, ``equivocation_evidence``.

Duplicates (the same two votes reported again, e.g. after a restart) are counted once.
"""

from __future__ import annotations

from collections import deque
from typing import Any

from ledgr.consensus.evidence import Evidence, decode_evidence, encode_evidence
from ledgr.crypto import PublicKey, sha256
from ledgr.errors import LedgrError
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


class EvidenceLog:
    def __init__(self, store: Store, counter: Any) -> None:
        self.store = store
        self.counter = counter
        self.recent: deque[dict[str, Any]] = deque(maxlen=RECENT)
        self.seen: set[bytes] = set()
        self._load()

    def _load(self) -> None:
        """Evidence recorded before a restart still shows in the status."""

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
            self.seen.add(sha256(raw))
            self.recent.append(describe(evidence))

    def record(self, evidence: Evidence) -> bool:
        """Store and surface ``evidence`` now (blocking write); False for a duplicate."""
        raw, digest = self._encoded(evidence)
        if digest in self.seen:
            return False
        self.store.put_record("consensus", PREFIX + digest, raw)
        self._note(digest, evidence)
        return True

    async def report(self, evidence: Evidence, writer: DurableWriter) -> bool:
        """As :meth:`record`, with the durable write on the node's writer thread (in order with the
        consensus persists) and the in-memory view updated on the event loop."""
        raw, digest = self._encoded(evidence)
        if digest in self.seen:
            return False
        await writer.run(self.store.put_record, "consensus", PREFIX + digest, raw)
        self._note(digest, evidence)
        return True

    @staticmethod
    def _encoded(evidence: Evidence) -> tuple[bytes, bytes]:
        raw = encode_evidence(evidence)
        return raw, sha256(raw)

    def _note(self, digest: bytes, evidence: Evidence) -> None:
        self.seen.add(digest)
        entry = describe(evidence)
        self.recent.append(entry)
        self.counter.labels(entry["validator"]).inc()
        log.error("equivocation_evidence", **entry)

    def status(self) -> dict[str, Any]:
        return {"count": len(self.seen), "recent": list(self.recent)}
