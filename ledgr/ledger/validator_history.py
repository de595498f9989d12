"""Validator sets of past heights, kept for as long as evidence about those heights is accepted.

The validator record holds only the set in force and a pending change (consensus.md §3), but
equivocation evidence (``ledgr.ledger.rules_evidence``) must be checked against the set of the
height the votes were cast at, which may be older than the last change (e.g. a key rotation).
So when a pending set activates at height ``H``, the outgoing set is appended here with the heights
it signed, ``[from_height, H-1]``, and sets that ended more than ``evidence_max_age_heights`` ago
are dropped (at most :data:`MAX_PAST_SETS` are kept). The record is ordinary state (an SMT leaf),
written only at activations, so every node holds the same history.

Record (RFC 8785 JSON under :data:`HISTORY_KEY`)::

    {"active_since": H, "past": [{"from_height", "to_height", "set": <validator set JSON>}, ...]}

A chain without the record has had its genesis set since height 1.
"""

from __future__ import annotations

from typing import Any

from ledgr.ledger.records import decode, encode
from ledgr.ledger.state import Overlay, StateReader
from ledgr.ledger.validators import ValidatorSet

HISTORY_KEY = b"validator-history"
MAX_PAST_SETS = 16


def _read(reader: StateReader) -> dict[str, Any]:
    raw = reader.get(HISTORY_KEY)
    if raw is None:
        return {"active_since": 1, "past": []}
    return decode(raw)


def record_activation(state: Overlay, outgoing: ValidatorSet, height: int, max_age_heights: int) -> None:
    """The set ``outgoing`` signed its last block at ``height - 1``; a new set signs from ``height``."""
    history = _read(state)
    past = [entry for entry in history["past"] if entry["to_height"] >= height - max_age_heights]
    since = int(history["active_since"])
    if since <= height - 1:
        past.append({"from_height": since, "to_height": height - 1, "set": outgoing.to_json()})
    state.put(HISTORY_KEY, encode({"active_since": height, "past": past[-MAX_PAST_SETS:]}))


def past_set_for_height(reader: StateReader, height: int) -> ValidatorSet | None:
    """The set that signed ``height`` if it has since been replaced and is still kept, else None.

    ``None`` also for heights of the current configuration; ask the validator record for those
    (see :func:`active_since`).
    """
    for entry in _read(reader)["past"]:
        if entry["from_height"] <= height <= entry["to_height"]:
            return ValidatorSet.from_json(entry["set"])
    return None


def active_since(reader: StateReader) -> int:
    """The first height signed by the validator record's ``active`` set."""
    return int(_read(reader)["active_since"])
