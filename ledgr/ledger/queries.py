"""Typed reads of committed ledger state for the node and the HTTP API (status lists, validators).

DID reads go through :class:`ledgr.ledger.records.LedgerDidReader` and the resolver in ``ledgr.did``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ledgr.errors import InvalidInput
from ledgr.ledger.records import (
    ChainRecord,
    StatusListRecord,
    ValidatorRecord,
    decode,
    parse_chain_record,
    parse_validator_record,
)
from ledgr.ledger.state import CHAIN_KEY, VALIDATORS_KEY, StateReader, read_tip, status_list_key
from ledgr.ledger.validators import ValidatorSet


def read_chain_record(reader: StateReader) -> ChainRecord:
    raw = reader.get(CHAIN_KEY)
    if raw is None:
        raise InvalidInput("state has no chain record: initialise it from a genesis document first")
    return parse_chain_record(raw)


def read_validator_record(reader: StateReader) -> ValidatorRecord:
    raw = reader.get(VALIDATORS_KEY)
    if raw is None:
        raise InvalidInput("state has no validator record: initialise it from a genesis document first")
    return parse_validator_record(raw)


def validator_set_for_height(reader: StateReader, height: int) -> ValidatorSet:
    """The set that signs block ``height``, for the next two heights after the committed tip.

    A change committed at H is known from H on and signs from H+2, so the state at tip T knows the
    sets of T+1 and T+2 (consensus.md §3). Older heights: keep the sets as blocks are applied.
    """
    tip = read_tip(reader).height
    if not tip < height <= tip + 2:
        raise InvalidInput(f"the state at height {tip} knows the validator sets of heights "
                           f"{tip + 1} and {tip + 2} only")
    return read_validator_record(reader).set_for_height(height)


def read_status_list(reader: StateReader, list_id: str) -> StatusListRecord | None:
    """The current status list (with its issuer-signed credential), or None."""
    raw = reader.get(status_list_key(list_id))
    return None if raw is None else StatusListRecord.from_json(decode(raw))


def status_list_fetcher(reader: StateReader) -> Callable[[str], dict[str, Any]]:
    """A ``list id -> status list credential`` function for ``ledgr.vc.verify(status_list_fetcher=...)``.

    Every node serves every list from its own ledger (architecture.md §5). Raises LookupError for
    an unknown list (``ledgr.vc`` reports it as STATUS_RETRIEVAL_ERROR).
    """
    def fetch(list_id: str) -> dict[str, Any]:
        record = read_status_list(reader, list_id)
        if record is None:
            raise LookupError(f"status list {list_id} is not on this ledger")
        return record.credential

    return fetch
