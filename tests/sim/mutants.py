"""Deliberately broken cores: the simulator must catch each (issue 4, "The simulator must catch real bugs").

- ``no-lock``: ignore locks when prevoting (paper lines 23 and 29 always true);
- ``no-persist``: restart from nothing (the node forgets its lock and its sign watermark);
- ``quorum-minus-one``: decide with q−1 precommits (line 49).
"""

from __future__ import annotations

from ledgr.consensus import Core


class NoLockCore(Core):
    def _lock_allows(self, value_id: bytes, valid_round: int) -> bool:
        return True


class QuorumMinusOneCore(Core):
    def _commit_quorum(self) -> int:
        return self._quorum() - 1


MUTANTS = ("no-lock", "no-persist", "quorum-minus-one")


def mutant_options(name: str | None) -> tuple[type[Core], bool]:
    """``(core_type, persist_state)`` for a mutant name (``None``: the real core)."""
    if name is None:
        return Core, True
    if name == "no-lock":
        return NoLockCore, True
    if name == "no-persist":
        return Core, False
    if name == "quorum-minus-one":
        return QuorumMinusOneCore, True
    raise ValueError(f"unknown mutant {name!r}; choose from {', '.join(MUTANTS)}")
