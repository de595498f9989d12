"""The validator set of one height and the quorum arithmetic derived from it (consensus.md §1.1).

``f = ⌊(n−1)/3⌋`` Byzantine validators are budgeted; the quorum is ``q = ⌈(n+f+1)/2⌉`` so any two
quorums share at least ``2q−n ≥ f+1`` validators (one correct one). Strict mode uses CometBFT's
``q = ⌊2n/3⌋+1`` instead; it differs only at n=3 (q=3) and n=6 (q=5). The round-skip threshold is
``f+1`` (paper line 55: "at least one correct"). The proposer of round ``r`` at height ``h`` is
``validators[(h + r) mod n]``.

The set is an input per height: the caller derives it from the chain (membership changes committed
at H take effect at H+2) and hands the core a possibly different set for every new height.
"""

from __future__ import annotations

from collections.abc import Iterable

from ledgr.crypto import PublicKey
from ledgr.errors import ConfigError

MIN_VALIDATORS = 1
MAX_VALIDATORS = 64


def default_quorum(n: int) -> int:
    """``⌈(n+f+1)/2⌉`` with ``f = ⌊(n−1)/3⌋``."""
    f = (n - 1) // 3
    return (n + f + 2) // 2


def strict_quorum(n: int) -> int:
    """CometBFT's ``⌊2n/3⌋+1`` (safe with ⌊(n−1)/3⌋ Byzantine validators even at n=3)."""
    return (2 * n) // 3 + 1


class ValidatorSet:
    """An ordered, duplicate-free list of Ed25519 consensus keys with equal voting power."""

    __slots__ = ("_index", "f", "keys", "n", "q", "strict")

    def __init__(self, keys: Iterable[PublicKey], *, strict: bool = False) -> None:
        self.keys: tuple[PublicKey, ...] = tuple(keys)
        self.n = len(self.keys)
        if not MIN_VALIDATORS <= self.n <= MAX_VALIDATORS:
            raise ConfigError(f"a validator set has {MIN_VALIDATORS}..{MAX_VALIDATORS} members, not {self.n}")
        if not all(isinstance(k, PublicKey) for k in self.keys):
            raise ConfigError("validators must be Ed25519 public keys")
        self._index = {k.raw: i for i, k in enumerate(self.keys)}
        if len(self._index) != self.n:
            raise ConfigError("the validator set lists a key twice")
        self.strict = strict
        self.f = (self.n - 1) // 3
        self.q = strict_quorum(self.n) if strict else default_quorum(self.n)

    @property
    def skip_threshold(self) -> int:
        """``f+1`` distinct validators in a later round make a node skip to it (paper line 55)."""
        return self.f + 1

    @property
    def crash_tolerance(self) -> int:
        """How many validators may be down while the rest still form a quorum (``n−q``)."""
        return self.n - self.q

    @property
    def accountable_culprits(self) -> int:
        """Validators that signed conflicting votes in any fork: the quorum overlap ``2q−n``."""
        return 2 * self.q - self.n

    def proposer(self, height: int, round_: int) -> int:
        """Index of the proposer of ``(height, round_)``: ``(h + r) mod n``."""
        return (height + round_) % self.n

    def index_of(self, key: PublicKey | bytes) -> int | None:
        raw = key.raw if isinstance(key, PublicKey) else key
        return self._index.get(raw)

    def key(self, index: int) -> PublicKey:
        return self.keys[index]

    def __len__(self) -> int:
        return self.n

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ValidatorSet) and other.keys == self.keys and other.strict == self.strict

    def __hash__(self) -> int:
        return hash((self.keys, self.strict))

    def __repr__(self) -> str:
        mode = " strict" if self.strict else ""
        return f"ValidatorSet(n={self.n}, f={self.f}, q={self.q}{mode})"
