"""The round state machine of one height: Algorithm 1 of the Tendermint paper, rule by rule.

Buchman–Kwon–Milosevic, "The latest gossip on BFT consensus" (arXiv 1807.04938), with ``q`` in place
of ``2f+1`` and accountable prevotes (consensus.md §1.3). Each rule is one method named after its
paper lines; :meth:`RoundMachine._run_rules` fires enabled rules until none is. Signing goes through
the ``(height, round, kind)`` watermark so nothing is ever signed twice, even across restarts.
:class:`ledgr.consensus.Core` adds the intake (verification, buffering, heights) on top.
"""

from __future__ import annotations

from ledgr.consensus.blocks import BlockBook
from ledgr.consensus.config import CoreConfig
from ledgr.consensus.events import (
    Broadcast,
    Decide,
    Effect,
    RequestValue,
    ScheduleTimeout,
    TimeoutElapsed,
    TimeoutKind,
)
from ledgr.consensus.messages import NIL_ROUND, Commit, Message, Proposal, Vote, VoteType
from ledgr.consensus.qc import build_qc
from ledgr.consensus.signing import Ed25519Verifier, Signer, Verifier
from ledgr.consensus.state import SignKind, Step
from ledgr.consensus.validators import ValidatorSet
from ledgr.consensus.votekeeper import VoteKeeper
from ledgr.errors import InvariantViolation

_MAX_RULE_PASSES = 64
_MAX_POLKA_VOTES = 255
KEEP_ROUNDS = 16


class RoundMachine:
    """Per-height protocol state plus the rules; driven by :class:`ledgr.consensus.Core`."""

    def __init__(self, config: CoreConfig, signer: Signer, verifier: Verifier | None) -> None:
        self.config = config
        self._signer = signer
        self._verifier: Verifier = verifier or Ed25519Verifier()
        self._me = signer.public_key.raw
        self._watermark: tuple[int, int, int] = (0, NIL_ROUND, 0)
        self._height = 0
        self._vs: ValidatorSet | None = None
        self._prev_time_ms = 0
        self._last_commit: Commit | None = None
        self._last_commit_vs: ValidatorSet | None = None
        self._helped: set[bytes] = set()
        self._out: list[Effect] = []
        self._dirty = False
        self._now = 0
        self._reset_height()

    def _reset_height(self) -> None:
        self._round = 0
        self._step = Step.PROPOSE
        self._locked_round: int = NIL_ROUND
        self._locked_value: bytes | None = None
        self._valid_round: int = NIL_ROUND
        self._valid_value: bytes | None = None
        self._valid_block, self._valid_time_ms = b"", 0
        self._polka: list[Vote] = []
        self._nil_skip: list[Vote] = []
        self._own: list[Proposal | Vote] = []
        self._proposals: dict[int, Proposal] = {}
        self._received_ms: dict[int, int] = {}
        self._book = BlockBook()
        self._keeper = VoteKeeper(self._vs.q if self._vs is not None else None)
        self._prevote_timer: set[int] = set()
        self._precommit_timer: set[int] = set()
        self._locked_rounds_done: set[int] = set()
        self._awaiting: tuple[int, int] | None = None
        self._decided = False

    def _set(self) -> ValidatorSet:
        if self._vs is None:
            raise InvariantViolation("consensus core used before Start")
        return self._vs

    def _my_index(self) -> int | None:
        return self._vs.index_of(self._me) if self._vs else None

    def _start_round(self, round_: int) -> None:
        """StartRound (paper lines 11–21)."""
        self._round, self._step = round_, Step.PROPOSE
        self._own = []
        self._awaiting = None
        self._dirty = True
        self._prune()
        self._propose_if_mine()
        self._schedule(TimeoutKind.PROPOSE, round_)
        self._schedule(TimeoutKind.REBROADCAST, round_)

    def _prune(self) -> None:
        """Keep a long height's memory bounded: only the last ``KEEP_ROUNDS`` rounds' proposals, blocks
        and votes survive, plus the rounds behind the lock and the valid value. Line 49 for an older
        round still works when a peer relays the ``Commit`` (block sync covers the rest)."""
        oldest = self._round - KEEP_ROUNDS
        if oldest <= 0:
            return
        keep = {self._locked_round, self._valid_round} | {v.round for v in self._polka}
        for round_ in [r for r in self._proposals if r < oldest and r not in keep]:
            del self._proposals[round_]
            self._received_ms.pop(round_, None)
        for marks in (self._prevote_timer, self._precommit_timer, self._locked_rounds_done):
            marks.difference_update({r for r in marks if r < oldest})
        live = {p.value_id for p in self._proposals.values()}
        live |= {v for v in (self._locked_value, self._valid_value) if v is not None}
        self._book.retain(live)
        self._keeper.forget_rounds_before(oldest, keep)

    def _propose_if_mine(self) -> None:
        vs = self._set()
        if vs.proposer(self._height, self._round) != self._my_index():
            return
        if self._valid_value is not None:
            self._send_proposal(self._valid_value, self._valid_block, self._valid_time_ms, self._valid_round)
            for vote in self._polka:
                self._out.append(Broadcast(vote))
        else:
            time_ms = max(self._now, self._prev_time_ms + 1)
            self._awaiting = (self._round, time_ms)
            self._out.append(RequestValue(self._height, self._round, time_ms))

    def _may_sign(self, kind: SignKind) -> bool:
        return (self._height, self._round, int(kind)) > self._watermark

    def _signed(self, kind: SignKind, msg: Proposal | Vote) -> None:
        self._watermark = (self._height, self._round, int(kind))
        self._own.append(msg)
        self._dirty = True
        self._out.append(Broadcast(msg))

    def _send_proposal(self, value_id: bytes, block: bytes, time_ms: int, pol_round: int) -> None:
        index = self._my_index()
        if index is None or not self._may_sign(SignKind.PROPOSAL):
            return
        proposal = Proposal(self._height, self._round, value_id, block, time_ms, pol_round, index)
        proposal = proposal.signed(self._signer.sign_proposal(self.config.chain_id, proposal))
        self._proposals[self._round] = proposal
        self._received_ms[self._round] = self._now
        self._book.accept_own(value_id, block, time_ms)
        self._keeper.note_participant(self._round, index)
        self._signed(SignKind.PROPOSAL, proposal)

    def _vote(self, vote_type: VoteType, value_id: bytes | None, valid_round: int) -> None:
        index = self._my_index()
        kind = SignKind.PREVOTE if vote_type is VoteType.PREVOTE else SignKind.PRECOMMIT
        if index is None or not self._may_sign(kind):
            return
        vote = Vote(vote_type, self._height, self._round, value_id, valid_round, index)
        vote = vote.signed(self._signer.sign_vote(self.config.chain_id, vote))
        self._keeper.add(vote, trusted=True)
        self._signed(kind, vote)

    def _prevote(self, value_id: bytes | None, valid_round: int) -> None:
        self._vote(VoteType.PREVOTE, value_id, valid_round if value_id is not None else NIL_ROUND)
        self._step = Step.PREVOTE
        self._dirty = True

    def _precommit(self, value_id: bytes | None) -> None:
        self._vote(VoteType.PRECOMMIT, value_id, NIL_ROUND)
        self._step = Step.PRECOMMIT
        self._dirty = True

    def _in_window(self, round_: int) -> bool:
        """Rounds more than ``max_round_skip`` ahead are ignored (bounds memory and round skips)."""
        return round_ <= self._round + self.config.max_round_skip

    def _schedule(self, kind: TimeoutKind, round_: int) -> None:
        duration = self.config.timeouts.duration_ms(kind, round_)
        self._out.append(ScheduleTimeout(kind, self._height, round_, duration))

    # ---- timers and gossip ---------------------------------------------------------------------

    def _on_timeout(self, timeout: TimeoutElapsed) -> None:
        if timeout.height != self._height or self._decided or timeout.round != self._round:
            return
        if timeout.kind is TimeoutKind.PROPOSE and self._step is Step.PROPOSE:
            self._prevote(None, NIL_ROUND)  # line 57
        elif timeout.kind is TimeoutKind.PREVOTE and self._step is Step.PREVOTE:
            self._precommit(None)  # line 61
        elif timeout.kind is TimeoutKind.PRECOMMIT:
            self._start_round(self._round + 1)  # line 65
        elif timeout.kind is TimeoutKind.REBROADCAST:
            self._rebroadcast()
            self._schedule(TimeoutKind.REBROADCAST, self._round)

    def _rebroadcast(self) -> None:
        """Gossip by repetition: own messages, the round's proposal and votes, and our polka."""
        self._helped.clear()
        seen: set[int] = set()
        candidates: list[Message] = [*self._own]
        proposal = self._proposals.get(self._round)
        if proposal is not None:
            candidates.append(proposal)
        round_votes = self._keeper.round_votes(self._round)
        candidates.extend(round_votes)
        candidates.extend(self._polka)
        candidates.extend(self._nil_skip)
        claims = {(v.valid_round, v.value_id) for v in round_votes if v.valid_round >= 0 and v.value_id}
        for claimed_round, value_id in sorted(claims):
            if value_id is not None:
                candidates.extend(self._keeper.justified_polka(claimed_round, value_id))
        for msg in candidates:
            if id(msg) not in seen:
                seen.add(id(msg))
                self._out.append(Broadcast(msg))

    # ---- the rules (paper line numbers) --------------------------------------------------------

    def _quorum(self) -> int:
        vs = self._set()
        return vs.q

    def _commit_quorum(self) -> int:
        """Precommits needed to decide (line 49); separate so the simulator can mutate it."""
        return self._quorum()

    def _lock_allows(self, value_id: bytes, valid_round: int) -> bool:
        """Lines 23 and 29: ``lockedRound ≤ vr ∨ lockedValue = v`` (vr = −1 on line 22)."""
        return self._locked_round <= valid_round or self._locked_value == value_id

    def _run_rules(self) -> None:
        for _ in range(_MAX_RULE_PASSES):
            if self._decided:
                return
            self._timers_34_47()
            if not (self._line_49() or self._line_55() or self._lines_22_28() or self._line_36()
                    or self._line_44() or self._nil_quorum_skip()):
                return

    def _valid(self, proposal: Proposal) -> bool | None:
        verdict = self._book.verdict(proposal.value_id, proposal.block, proposal.time_ms)
        if verdict is None:
            return None
        return verdict and proposal.time_ms > self._prev_time_ms

    def _timely(self, proposal: Proposal) -> bool:
        received = self._received_ms.get(proposal.round, self._now)
        return abs(proposal.time_ms - received) <= self.config.clock_skew_ms

    def _lines_22_28(self) -> bool:
        """Prevote on the round's proposal: fresh (line 22) or re-proposed with a polka (line 28)."""
        proposal = self._proposals.get(self._round)
        if self._step is not Step.PROPOSE or proposal is None:
            return False
        verdict = self._valid(proposal)
        if verdict is None:
            return False
        value_id, vr = proposal.value_id, proposal.pol_round
        if vr == NIL_ROUND:
            ok = verdict and self._timely(proposal) and self._lock_allows(value_id, NIL_ROUND)
        elif self._keeper.prevotes_for(vr, value_id) >= self._quorum():
            ok = verdict and self._lock_allows(value_id, vr)
        else:
            return False
        relied = max(vr, self._locked_round if self._locked_value == value_id else NIL_ROUND,
                     self._valid_round if self._valid_value == value_id else NIL_ROUND)
        self._prevote(value_id if ok else None, relied)
        if ok and relied >= 0:
            for vote in self._keeper.justified_polka(relied, value_id):  # peers count our claim with it
                self._out.append(Broadcast(vote))
        return True

    def _line_36(self) -> bool:
        """Polka for the round's proposal: lock and precommit (if still prevoting), set valid value."""
        proposal = self._proposals.get(self._round)
        if (proposal is None or self._step is Step.PROPOSE or self._round in self._locked_rounds_done
                or self._keeper.prevotes_for(self._round, proposal.value_id) < self._quorum()
                or self._valid(proposal) is not True):
            return False
        self._locked_rounds_done.add(self._round)
        if self._step is Step.PREVOTE:
            self._locked_round, self._locked_value = self._round, proposal.value_id
            self._precommit(proposal.value_id)
        self._valid_round, self._valid_value = self._round, proposal.value_id
        self._valid_block, self._valid_time_ms = proposal.block, proposal.time_ms
        self._polka = self._keeper.justified_polka(self._round, proposal.value_id)[:_MAX_POLKA_VOTES]
        self._dirty = True
        return True

    def _line_44(self) -> bool:
        if self._step is Step.PREVOTE and self._keeper.prevotes_for(self._round, None) >= self._quorum():
            self._precommit(None)
            return True
        return False

    def _nil_quorum_skip(self) -> bool:
        """A quorum precommitted nil in our round: start the next round now, not after the
        precommit timeout of line 47 (CometBFT does the same on +2/3 nil precommits).

        Line 47's wait exists for split precommits, where a value may still gather a quorum. With a
        quorum for nil that cannot happen without an equivocating validator, so waiting only adds
        latency — typically a whole ``timeout_precommit`` on every height whose proposer is down.
        Safety never rests on timeouts: this is the paper's line 65 with the timer firing early,
        a behaviour the model checker already explores (timers fire nondeterministically there).

        The nil precommits are sent on and kept for rebroadcast: a validator that missed some of
        them would otherwise wait in the old round for votes nobody repeats any more (gossip here
        repeats the current round only), while the ones that moved on wait for it — a livelock
        the simulator found with one validator silent and lossy links."""
        votes = self._keeper.precommits(self._round, None)
        if len(votes) < self._quorum():
            return False
        self._nil_skip = votes[:_MAX_POLKA_VOTES]
        self._start_round(self._round + 1)
        self._out.extend(Broadcast(vote) for vote in self._nil_skip)
        return True

    def _timers_34_47(self) -> None:
        r = self._round
        if (self._step is Step.PREVOTE and r not in self._prevote_timer
                and self._keeper.prevotes_total(r) >= self._quorum()):
            self._prevote_timer.add(r)
            self._schedule(TimeoutKind.PREVOTE, r)
        if r not in self._precommit_timer and self._keeper.precommits_total(r) >= self._quorum():
            self._precommit_timer.add(r)
            self._schedule(TimeoutKind.PRECOMMIT, r)

    def _line_49(self) -> bool:
        """Commit rule: a block plus ``q`` precommits for it in any round decides the height."""
        for round_ in self._keeper.rounds():
            value_id = self._keeper.decided_value(round_, self._commit_quorum())
            if value_id is None:
                continue
            content = self._book.good(value_id)
            if content is None:
                continue
            block, time_ms = content
            qc = build_qc(self._keeper.precommits(round_, value_id))
            self._decided = True
            commit = Commit(block, time_ms, qc)
            self._last_commit, self._last_commit_vs = commit, self._vs
            self._helped.clear()
            self._out.append(Decide(self._height, round_, value_id, block, time_ms, qc))
            return True
        return False

    def _line_55(self) -> bool:
        """Round skip: ``f+1`` validators in a later round (within ``max_round_skip``) pull us there."""
        vs = self._set()
        later = [r for r in self._keeper.rounds()
                 if self._round < r and self._in_window(r)
                 and self._keeper.participants(r) >= vs.skip_threshold]
        if not later:
            return False
        self._start_round(max(later))
        return True
