"""What an operation sees while a block executes: chain facts, height, time, the state overlay."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ledgr.crypto import canonicalize
from ledgr.errors import InvalidDocument, OperationRejected
from ledgr.ledger.records import ChainRecord


@dataclass(frozen=True, slots=True)
class ExecContext:
    chain: ChainRecord
    height: int
    time_ms: int


def reject(detail: str, rule: str) -> OperationRejected:
    return OperationRejected(detail, rule=rule)


def sized_json(value: Any, limit: int, what: str) -> bytes:
    """Canonical bytes of ``value``, rejecting it (rule ``size-limit``) beyond ``limit`` bytes."""
    try:
        raw = canonicalize(value)
    except InvalidDocument as exc:
        raise reject(f"{what}: {exc.detail}", "malformed") from exc
    if len(raw) > limit:
        raise reject(f"{what} exceeds {limit} bytes", "size-limit")
    return raw


def require_members(body: dict[str, Any], required: set[str], optional: frozenset[str] = frozenset(),
                    what: str = "body") -> None:
    keys = set(body)
    if not required <= keys or keys - required - optional:
        allowed = sorted(required | optional)
        raise reject(f"{what} must have the members {allowed} (required: {sorted(required)})",
                     "malformed")
