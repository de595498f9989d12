"""Random status list index allocation."""

from __future__ import annotations

import random

import pytest

from ledgr.errors import Conflict, InvalidInput
from ledgr.ledger.status_index import allocate_index


def test_indexes_are_spread_and_unused() -> None:
    rng = random.Random(7)
    taken: set[int] = set()
    for _ in range(1000):
        taken.add(allocate_index(131_072, taken.__contains__, rng.randrange))
    assert len(taken) == 1000
    ordered = sorted(taken)
    assert ordered[0] < 1000 and ordered[-1] > 130_000  # not sequential from zero


def test_full_list_and_bad_inputs() -> None:
    with pytest.raises(Conflict):
        allocate_index(4, lambda _i: True, random.Random(1).randrange)
    with pytest.raises(InvalidInput):
        allocate_index(0, lambda _i: False, random.Random(1).randrange)
    with pytest.raises(InvalidInput):
        allocate_index(4, lambda _i: False, lambda _n: 4)
