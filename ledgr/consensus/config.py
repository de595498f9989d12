"""Tunables of the core: timeouts (the pacemaker), clock-skew bound for block times, limits.

Timeouts grow linearly per round as in the paper (``timeoutX(r) = initX + r·deltaX``, §"Timeouts" of
consensus.md §1.3) and are capped at ``max_ms`` so a node pushed into a high round (one message is
enough for the f+1 skip rule at n=3) still times out promptly. ``max_round_skip`` caps how far one
round skip may jump: messages more than that many rounds ahead are not even stored.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ledgr.consensus.codec import DEFAULT_MAX_BLOCK_BYTES
from ledgr.consensus.events import TimeoutKind
from ledgr.consensus.signbytes import check_chain_id
from ledgr.errors import ConfigError


@dataclass(frozen=True, slots=True)
class TimeoutConfig:
    """Defaults are consensus.md's suggestions: propose 1000 ms +500/round, votes 500 ms +250/round."""

    propose_ms: int = 1000
    propose_delta_ms: int = 500
    prevote_ms: int = 500
    prevote_delta_ms: int = 250
    precommit_ms: int = 500
    precommit_delta_ms: int = 250
    rebroadcast_ms: int = 1000
    max_ms: int = 30_000

    def __post_init__(self) -> None:
        values = (self.propose_ms, self.propose_delta_ms, self.prevote_ms, self.prevote_delta_ms,
                  self.precommit_ms, self.precommit_delta_ms, self.rebroadcast_ms, self.max_ms)
        if any(not isinstance(v, int) or v < 0 for v in values) or self.rebroadcast_ms == 0:
            raise ConfigError("timeouts are non-negative integers (ms) and rebroadcast_ms > 0")

    def duration_ms(self, kind: TimeoutKind, round_: int) -> int:
        if kind is TimeoutKind.PROPOSE:
            base, delta = self.propose_ms, self.propose_delta_ms
        elif kind is TimeoutKind.PREVOTE:
            base, delta = self.prevote_ms, self.prevote_delta_ms
        elif kind is TimeoutKind.PRECOMMIT:
            base, delta = self.precommit_ms, self.precommit_delta_ms
        else:
            return self.rebroadcast_ms
        return min(base + round_ * delta, self.max_ms)


@dataclass(frozen=True, slots=True)
class CoreConfig:
    """``clock_skew_ms`` bounds |proposed block time − voter's clock| for fresh proposals (PBTS-style)."""

    chain_id: str
    timeouts: TimeoutConfig = field(default_factory=TimeoutConfig)
    clock_skew_ms: int = 2_000
    max_round_skip: int = 8
    max_block_bytes: int = DEFAULT_MAX_BLOCK_BYTES
    future_buffer_max: int = 512

    def __post_init__(self) -> None:
        check_chain_id(self.chain_id)
        if self.clock_skew_ms < 0 or self.max_round_skip < 1 or self.max_block_bytes < 1:
            raise ConfigError("clock_skew_ms ≥ 0, max_round_skip ≥ 1 and max_block_bytes ≥ 1 are required")
        if self.future_buffer_max < 0:
            raise ConfigError("future_buffer_max must be ≥ 0")
