"""Block contents seen at one height and the caller's verdicts on them (the paper's ``valid(v)``).

A value id is the block hash, so two different contents under one id mean someone lied. The verdict
is therefore kept per content ``(value_id, time_ms, block)``, not per id: a Byzantine proposer that
pairs an honest id with garbage cannot make the honest block look invalid later. At most one
validation per id is outstanding; once an id has a valid content, any other content under it is
invalid without asking the caller again.
"""

from __future__ import annotations

Content = tuple[bytes, int, bytes]


class BlockBook:
    __slots__ = ("_good", "_validating", "_verdict")

    def __init__(self) -> None:
        self._verdict: dict[Content, bool | None] = {}
        self._good: dict[bytes, tuple[bytes, int]] = {}
        self._validating: dict[bytes, Content] = {}

    def offer(self, value_id: bytes, block: bytes, time_ms: int) -> Content | None:
        """Record a content; returns it when the caller must now be asked to validate it."""
        key = (value_id, time_ms, block)
        if key in self._verdict:
            return None
        good = self._good.get(value_id)
        if good is not None:
            self._verdict[key] = good == (block, time_ms)
            return None
        self._verdict[key] = None
        if value_id in self._validating:
            return None
        self._validating[value_id] = key
        return key

    def accept_own(self, value_id: bytes, block: bytes, time_ms: int) -> None:
        """A block this node built (or already validated before a restart) is valid."""
        self._verdict[(value_id, time_ms, block)] = True
        self._good.setdefault(value_id, (block, time_ms))

    def verdict(self, value_id: bytes, block: bytes, time_ms: int) -> bool | None:
        return self._verdict.get((value_id, time_ms, block))

    def good(self, value_id: bytes) -> tuple[bytes, int] | None:
        """The validated ``(block, time_ms)`` of ``value_id``, if any."""
        return self._good.get(value_id)

    def resolve(self, value_id: bytes, valid: bool) -> Content | None:
        """Apply the caller's verdict; returns the next content of this id to validate, if any."""
        key = self._validating.pop(value_id, None)
        if key is None:
            return None
        self._verdict[key] = valid
        pending = [k for k, v in self._verdict.items() if k[0] == value_id and v is None]
        if valid:
            self._good[value_id] = (key[2], key[1])
            for other in pending:
                self._verdict[other] = False
            return None
        if pending:
            self._validating[value_id] = pending[0]
            return pending[0]
        return None
