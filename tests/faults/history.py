"""Client operation histories for linearizability checking (consensus.md §4.5).

Every client operation is recorded twice: at *invoke* and at *completion*, with timestamps from
``time.monotonic_ns`` (one clock for every client of the test process, so real-time order between
clients is meaningful). The completion is one of:

- ``ok``: the write committed / the read returned a value;
- ``fail``: the operation definitely did not take effect (e.g. rejected with ``prev-mismatch``);
- ``unknown``: the outcome is not known (timeout, connection reset, node killed). Knossos calls this
  ``info``; the checker lets such a write take effect at any time after its invoke, or never.

Each key (a DID, a status list) is a versioned register. A write names the version it replaces
(``prev``; ``None`` for a create) and the version it produces (``version``: the operation hash, which
ledgr uses as the version id). A read returns a version id, or ``None`` while the key does not exist.
Reads come in two modes: ``read`` (ordered by consensus; checked for linearizability) and ``cread``
(a certified read served by one node; checked for the weaker property in linearizability.py).
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

WRITE = "write"
READ = "read"
CREAD = "cread"
KINDS = (WRITE, READ, CREAD)

PENDING = "pending"
OK = "ok"
FAIL = "fail"
UNKNOWN = "unknown"
STATUSES = (PENDING, OK, FAIL, UNKNOWN)


@dataclass
class Op:
    """One client operation on one key."""

    id: int
    client: str
    kind: str
    key: str
    invoke_ns: int
    complete_ns: int | None = None
    status: str = PENDING
    version: str | None = None
    prev: str | None = None
    height: int | None = None
    age_ms: int | None = None
    note: str = ""
    committed_later: bool = False

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"op kind must be one of {KINDS}")
        if self.status not in STATUSES:
            raise ValueError(f"op status must be one of {STATUSES}")


class History:
    """An append-only list of operations, recorded by the workload as they happen."""

    def __init__(self, ops: Iterable[Op] = ()) -> None:
        self.ops: list[Op] = list(ops)

    def __iter__(self) -> Iterator[Op]:
        return iter(self.ops)

    def __len__(self) -> int:
        return len(self.ops)

    def invoke(self, client: str, kind: str, key: str, *, version: str | None = None,
               prev: str | None = None) -> Op:
        """Record the start of an operation (for a write: the version it would produce)."""
        op = Op(id=len(self.ops), client=client, kind=kind, key=key, invoke_ns=time.monotonic_ns(),
                version=version, prev=prev)
        self.ops.append(op)
        return op

    def ok(self, op: Op, *, version: str | None = None, height: int | None = None,
           age_ms: int | None = None) -> None:
        """The operation took effect; reads pass the version they returned."""
        self._complete(op, OK)
        if op.kind != WRITE:
            op.version = version
        op.height = height
        op.age_ms = age_ms

    def fail(self, op: Op, note: str = "") -> None:
        """The operation definitely did not take effect."""
        self._complete(op, FAIL)
        op.note = note

    def unknown(self, op: Op, note: str = "") -> None:
        """The outcome is not known; a write may still take effect later."""
        self._complete(op, UNKNOWN)
        op.complete_ns = None
        op.note = note

    def _complete(self, op: Op, status: str) -> None:
        if op.status != PENDING:
            raise ValueError(f"op {op.id} already completed as {op.status}")
        op.status = status
        op.complete_ns = time.monotonic_ns()

    def close_pending(self) -> None:
        """Operations still running when the run stops have an unknown outcome."""
        for op in self.ops:
            if op.status == PENDING:
                op.status = UNKNOWN
                op.complete_ns = None

    def save(self, path: Path) -> None:
        with path.open("w", encoding="utf-8") as out:
            for op in self.ops:
                out.write(json.dumps(asdict(op), sort_keys=True) + "\n")

    @classmethod
    def load(cls, path: Path) -> History:
        with path.open(encoding="utf-8") as source:
            return cls(Op(**json.loads(line)) for line in source if line.strip())
