"""Drive one core with hand-made, really signed (Ed25519) messages from the other validators."""

from __future__ import annotations

from ledgr.consensus import (
    NIL_ROUND,
    BlockValidated,
    Broadcast,
    Core,
    CoreConfig,
    Decide,
    Ed25519Signer,
    Effect,
    Input,
    Persist,
    Proposal,
    ProposalReceived,
    ScheduleTimeout,
    Start,
    TimeoutConfig,
    TimeoutElapsed,
    TimeoutKind,
    ValidateBlock,
    ValidatorSet,
    Vote,
    VoteReceived,
    VoteType,
)
from ledgr.crypto import PrivateKey, sha256

CHAIN = "test-chain"
KEYS = [PrivateKey.from_seed(bytes([i + 1]) * 32) for i in range(8)]
TIMEOUTS = TimeoutConfig(propose_ms=1000, propose_delta_ms=500, prevote_ms=500, prevote_delta_ms=250,
                         precommit_ms=500, precommit_delta_ms=250, rebroadcast_ms=700, max_ms=5000)
CONFIG = CoreConfig(chain_id=CHAIN, timeouts=TIMEOUTS, clock_skew_ms=2000, max_round_skip=4)
START_MS = 1_000_000


def vset(n: int, *, strict: bool = False) -> ValidatorSet:
    return ValidatorSet([k.public_key for k in KEYS[:n]], strict=strict)


def value(tag: str) -> tuple[bytes, bytes]:
    data = b"block " + tag.encode()
    return sha256(data), data


def vid(tag: str) -> bytes:
    return value(tag)[0]


def signed_vote(who: int, vote_type: VoteType, height: int, round_: int, tag: str | None,
                valid_round: int = NIL_ROUND) -> Vote:
    vote = Vote(vote_type, height, round_, vid(tag) if tag else None,
                valid_round if vote_type is VoteType.PREVOTE else NIL_ROUND, who)
    return vote.signed(Ed25519Signer(KEYS[who]).sign_vote(CHAIN, vote))


def signed_proposal(who: int, height: int, round_: int, tag: str, pol_round: int = NIL_ROUND,
                    time_ms: int = START_MS) -> Proposal:
    value_id, block = value(tag)
    proposal = Proposal(height, round_, value_id, block, time_ms, pol_round, who)
    return proposal.signed(Ed25519Signer(KEYS[who]).sign_proposal(CHAIN, proposal))


class Harness:
    """One core (validator ``me`` of ``n``) at ``height``; every ValidateBlock is answered valid."""

    def __init__(self, n: int = 4, me: int = 0, height: int = 1, *, state: bytes | None = None,
                 strict: bool = False, core_type: type[Core] = Core, config: CoreConfig = CONFIG,
                 prev_time_ms: int = 0) -> None:
        self.n, self.me, self.height = n, me, height
        self.vs = vset(n, strict=strict)
        self.now = START_MS
        self.invalid: set[bytes] = set()
        self.core = core_type(config, Ed25519Signer(KEYS[me]), state=state)
        self.log: list[Effect] = []
        self.steps: list[list[Effect]] = []
        self.effects = self.step(Start(height, self.vs, prev_time_ms))

    def step(self, inp: Input) -> list[Effect]:
        effects = self.core.step(inp, self.now)
        self.log.extend(effects)
        self.steps.append(effects)
        for effect in list(effects):
            if isinstance(effect, ValidateBlock):
                ok = effect.value_id not in self.invalid and sha256(effect.block) == effect.value_id
                effects = effects + self.step(BlockValidated(effect.height, effect.value_id, ok))
        self.effects = effects
        return effects

    def vote(self, who: int, vote_type: VoteType, round_: int, tag: str | None,
             valid_round: int = NIL_ROUND, height: int | None = None) -> list[Effect]:
        return self.step(VoteReceived(signed_vote(who, vote_type, height or self.height, round_, tag,
                                                  valid_round)))

    def prevotes(self, who: list[int], round_: int, tag: str | None, valid_round: int = NIL_ROUND) -> None:
        for w in who:
            self.vote(w, VoteType.PREVOTE, round_, tag, valid_round)

    def precommits(self, who: list[int], round_: int, tag: str | None) -> None:
        for w in who:
            self.vote(w, VoteType.PRECOMMIT, round_, tag)

    def propose(self, round_: int, tag: str, pol_round: int = NIL_ROUND, time_ms: int | None = None,
                proposer: int | None = None) -> list[Effect]:
        who = self.vs.proposer(self.height, round_) if proposer is None else proposer
        return self.step(ProposalReceived(signed_proposal(who, self.height, round_, tag, pol_round,
                                                          self.now if time_ms is None else time_ms)))

    def timeout(self, kind: TimeoutKind, round_: int) -> list[Effect]:
        return self.step(TimeoutElapsed(kind, self.height, round_))

    def sent_votes(self, effects: list[Effect] | None = None) -> list[Vote]:
        return [e.message for e in (self.effects if effects is None else effects)
                if isinstance(e, Broadcast) and isinstance(e.message, Vote)
                and e.message.validator == self.me]

    def my_vote(self, vote_type: VoteType) -> Vote | None:
        votes = [v for v in self.sent_votes() if v.type is vote_type]
        return max(votes, key=lambda v: v.round) if votes else None

    def decisions(self) -> list[Decide]:
        return [e for e in self.log if isinstance(e, Decide)]

    def timers(self, effects: list[Effect] | None = None) -> list[ScheduleTimeout]:
        return [e for e in (self.effects if effects is None else effects) if isinstance(e, ScheduleTimeout)]

    def last_persisted(self) -> bytes:
        states = [e.state for e in self.log if isinstance(e, Persist)]
        return states[-1]
