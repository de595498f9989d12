"""Random allocation of status list indexes (docs/privacy.md §"Status lists").

Bitstring Status List v1.0 §6.1 (privacy considerations): sequential indexes let anyone who sees two
credentials estimate issuance order and volume, and group people by list position. ledgr issuers draw
every index uniformly at random from the unused ones. Randomness is an input (``random_below(n)``
returns a uniform integer in ``[0, n)``; the node passes a CSPRNG, tests a seeded generator).
"""

from __future__ import annotations

from collections.abc import Callable

from ledgr.errors import Conflict, InvalidInput

MAX_ATTEMPTS = 256


def allocate_index(size: int, is_taken: Callable[[int], bool], random_below: Callable[[int], int],
                   *, attempts: int = MAX_ATTEMPTS) -> int:
    """A uniformly random index in ``[0, size)`` for which ``is_taken`` is False.

    Rejection sampling: with a list at most half full, 256 attempts all fail with probability
    below 2^-256. Raises Conflict when the list is (nearly) full, so the caller opens a new list.
    """
    if size <= 0:
        raise InvalidInput("a status list has a positive size")
    for _ in range(attempts):
        index = random_below(size)
        if not 0 <= index < size:
            raise InvalidInput("random_below returned a value outside [0, size)")
        if not is_taken(index):
            return index
    raise Conflict("no free status list index found; the list is full: start a new list")
