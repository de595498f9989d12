"""The sans-IO Tendermint core: ``Core.step(input, now_ms) -> list[Effect]``.

Algorithm 1 of Buchman–Kwon–Milosevic, "The latest gossip on BFT consensus" (arXiv 1807.04938),
with ``q`` in place of ``2f+1`` and accountable prevotes (consensus.md §1.3). Each rule is one method
named after its paper lines; :meth:`Core._run_rules` fires enabled rules until none is, after every
input. The core does no I/O: it reads no clock (``now_ms`` is an argument), draws no randomness
(proposer rotation and timeouts are deterministic), and returns effects the caller executes in order.

Persistence (the raft Ready contract): when a step changed the durable state, its single
:class:`Persist` is the first effect, so it is durable before any message signed in that step is sent.
"""

from __future__ import annotations

from ledgr.consensus.blocks import BlockBook
from ledgr.consensus.codec import encode_message
from ledgr.consensus.config import CoreConfig
from ledgr.consensus.events import (
    BlockValidated,
    Broadcast,
    CommitReceived,
    Decide,
    Effect,
    Input,
    Persist,
    ProposalReceived,
    ReportEvidence,
    RequestValue,
    ScheduleTimeout,
    SendTo,
    Start,
    SyncedCommit,
    TimeoutElapsed,
    TimeoutKind,
    ValidateBlock,
    ValueReady,
    VoteReceived,
)
from ledgr.consensus.evidence import encode_evidence, make_evidence
from ledgr.consensus.messages import NIL_ROUND, Commit, Message, Proposal, Vote, VoteType
from ledgr.consensus.qc import build_qc, verify_qc
from ledgr.consensus.signing import Ed25519Verifier, Signer, Verifier
from ledgr.consensus.state import DurableState, SignKind, Step, decode_state, encode_state
from ledgr.consensus.validators import ValidatorSet
from ledgr.consensus.votekeeper import VoteKeeper
from ledgr.errors import IntegrityError, InvalidInput, InvariantViolation, VerificationFailed

_MAX_RULE_PASSES = 64
_MAX_REPORTED = 1024


class Core:
    """One validator's (or observer's) consensus state machine. Not thread-safe; one caller loop."""

    def __init__(self, config: CoreConfig, signer: Signer, verifier: Verifier | None = None,
                 state: bytes | None = None) -> None:
        self.config = config
        self._signer = signer
        self._verifier: Verifier = verifier or Ed25519Verifier()
        self._me = signer.public_key.raw
        self._restored = decode_state(state, config.max_block_bytes) if state else None
        self._watermark = self._restored.watermark if self._restored else (0, NIL_ROUND, 0)
        self._started = False
        self._height = self._restored.height if self._restored else 0
        self._vs: ValidatorSet | None = None
        self._next_vs: ValidatorSet | None = None
        self._prev_time_ms = 0
        self._last_commit: Commit | None = None
        self._last_commit_vs: ValidatorSet | None = None
        self._future: dict[bytes, Input] = {}
        self._reported: set[bytes] = set()
        self._helped: set[bytes] = set()
        self._out: list[Effect] = []
        self._dirty = False
        self._now = 0
        self._reset_height()

    # ---- read-only view (for the node's status page, tests and the simulator) ----------------

    @property
    def height(self) -> int:
        return self._height

    @property
    def round(self) -> int:
        return self._round

    @property
    def step_name(self) -> Step:
        return self._step

    @property
    def decided(self) -> bool:
        return self._decided

    @property
    def started(self) -> bool:
        return self._started

    @property
    def locked(self) -> tuple[int, bytes | None]:
        return self._locked_round, self._locked_value

    @property
    def valid(self) -> tuple[int, bytes | None]:
        return self._valid_round, self._valid_value

    @property
    def validators(self) -> ValidatorSet | None:
        return self._vs

    def durable_state(self) -> DurableState:
        height, round_, kind = self._watermark
        return DurableState(
            self._height, self._round, self._step, self._locked_round, self._locked_value,
            self._valid_round, self._valid_value, self._valid_block, self._valid_time_ms,
            tuple(self._polka), height, round_, SignKind(kind), tuple(self._own))

    # ---- the one entry point -----------------------------------------------------------------

    def step(self, inp: Input, now_ms: int) -> list[Effect]:
        """Apply one input; returns the effects to execute in order (a ``Persist`` always first)."""
        self._now = now_ms
        self._out = []
        self._dirty = False
        if isinstance(inp, Start):
            self._on_start(inp)
        elif isinstance(inp, SyncedCommit):
            self._on_synced(inp.commit)
        elif not self._started:
            pass
        elif isinstance(inp, VoteReceived):
            self._on_vote(inp.vote, inp)
        elif isinstance(inp, ProposalReceived):
            self._on_proposal(inp.proposal, inp)
        elif isinstance(inp, CommitReceived):
            self._on_commit(inp.commit, inp)
        elif isinstance(inp, TimeoutElapsed):
            self._on_timeout(inp)
        elif isinstance(inp, ValueReady):
            self._on_value(inp)
        elif isinstance(inp, BlockValidated):
            self._on_validated(inp)
        if self._started:
            self._run_rules()
        effects = self._out
        self._out = []
        if self._dirty:
            effects.insert(0, Persist(encode_state(self.durable_state())))
        return effects

    # ---- heights -------------------------------------------------------------------------------

    def _reset_height(self) -> None:
        self._round = 0
        self._step = Step.PROPOSE
        self._locked_round: int = NIL_ROUND
        self._locked_value: bytes | None = None
        self._valid_round: int = NIL_ROUND
        self._valid_value: bytes | None = None
        self._valid_block, self._valid_time_ms = b"", 0
        self._polka: list[Vote] = []
        self._own: list[Proposal | Vote] = []
        self._proposals: dict[int, Proposal] = {}
        self._received_ms: dict[int, int] = {}
        self._book = BlockBook()
        self._keeper = VoteKeeper()
        self._prevote_timer: set[int] = set()
        self._precommit_timer: set[int] = set()
        self._locked_rounds_done: set[int] = set()
        self._awaiting: tuple[int, int] | None = None
        self._decided = False

    def _on_start(self, inp: Start) -> None:
        if self._started and inp.height <= self._height:
            return
        restored, self._restored = self._restored, None
        if restored is not None and restored.height > inp.height:
            raise IntegrityError(
                f"persisted consensus state is at height {restored.height} but the chain only reaches "
                f"{inp.height - 1}: refusing to sign at heights this node may already have signed")
        self._vs, self._next_vs, self._prev_time_ms = inp.validators, inp.next_validators, inp.prev_time_ms
        self._height = inp.height
        self._reset_height()
        self._started = True
        self._helped.clear()
        self._dirty = True
        if restored is not None and restored.height == inp.height:
            self._resume(restored)
        else:
            self._start_round(0)
        pending, self._future = self._future, {}
        for buffered in pending.values():
            if isinstance(buffered, VoteReceived):
                self._on_vote(buffered.vote, buffered)
            elif isinstance(buffered, ProposalReceived):
                self._on_proposal(buffered.proposal, buffered)
            elif isinstance(buffered, CommitReceived):
                self._on_commit(buffered.commit, buffered)

    def _resume(self, saved: DurableState) -> None:
        """Restart at a height already in progress: keep locks, never re-sign below the watermark."""
        self._round, self._step = saved.round, saved.step
        self._locked_round, self._locked_value = saved.locked_round, saved.locked_value_id
        self._valid_round, self._valid_value = saved.valid_round, saved.valid_value_id
        self._valid_block, self._valid_time_ms = saved.valid_block, saved.valid_time_ms
        self._polka = list(saved.polka)
        if self._valid_value is not None:
            self._book.accept_own(self._valid_value, self._valid_block, self._valid_time_ms)
        for vote in self._polka:
            self._keeper.add(vote)
        if saved.watermark[:2] == (self._height, self._round):
            self._own = list(saved.own_messages)
        for msg in self._own:
            if isinstance(msg, Proposal):
                self._proposals[msg.round] = msg
                self._received_ms[msg.round] = self._now
                self._book.accept_own(msg.value_id, msg.block, msg.time_ms)
                self._keeper.note_participant(msg.round, msg.proposer)
            else:
                self._keeper.add(msg)
        self._rebroadcast()
        kind = {Step.PROPOSE: TimeoutKind.PROPOSE, Step.PREVOTE: TimeoutKind.PREVOTE,
                Step.PRECOMMIT: TimeoutKind.PRECOMMIT}[self._step]
        self._schedule(kind, self._round)
        self._schedule(TimeoutKind.REBROADCAST, self._round)
        if self._step is Step.PROPOSE and not any(isinstance(m, Proposal) for m in self._own):
            self._propose_if_mine()

    def _on_synced(self, commit: Commit) -> None:
        if self._started and commit.height < self._height:
            return
        same = self._started and commit.height == self._height
        self._last_commit, self._last_commit_vs = commit, (self._vs if same else None)
        if self._started:
            self._decided = True
            self._height = max(self._height, commit.height)

    # ---- rounds and signing ------------------------------------------------------------------------

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
        self._propose_if_mine()
        self._schedule(TimeoutKind.PROPOSE, round_)
        self._schedule(TimeoutKind.REBROADCAST, round_)

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
        self._keeper.add(vote)
        self._signed(kind, vote)

    def _prevote(self, value_id: bytes | None, valid_round: int) -> None:
        self._vote(VoteType.PREVOTE, value_id, valid_round if value_id is not None else NIL_ROUND)
        self._step = Step.PREVOTE
        self._dirty = True

    def _precommit(self, value_id: bytes | None) -> None:
        self._vote(VoteType.PRECOMMIT, value_id, NIL_ROUND)
        self._step = Step.PRECOMMIT
        self._dirty = True

    def _schedule(self, kind: TimeoutKind, round_: int) -> None:
        duration = self.config.timeouts.duration_ms(kind, round_)
        self._out.append(ScheduleTimeout(kind, self._height, round_, duration))

    # ---- receiving -----------------------------------------------------------------------------

    def _elsewhere(self, height: int, signer: int, inp: Input, msg: Message) -> bool:
        """Handle a message that is not for the height in progress; True when it was."""
        if height == self._height and not self._decided:
            return False
        if height == self._height + 1:
            self._buffer(signer, inp, msg)
        elif self._last_commit is not None and height == self._last_commit.height:
            self._help(signer)
        return True

    def _buffer(self, signer: int, inp: Input, msg: Message) -> None:
        if self._next_vs is not None and signer >= self._next_vs.n:
            return
        if len(self._future) >= self.config.future_buffer_max:
            return
        self._future.setdefault(encode_message(msg), inp)

    def _help(self, signer: int) -> None:
        """Send our commit to a validator still voting on the height we decided (relay property)."""
        vs, commit = self._last_commit_vs, self._last_commit
        if vs is None or commit is None or signer >= vs.n:
            return
        peer = vs.key(signer).raw
        if peer == self._me or peer in self._helped:
            return
        self._helped.add(peer)
        self._out.append(SendTo(peer, commit))

    def _in_window(self, round_: int) -> bool:
        return round_ <= self._round + self.config.max_round_skip

    def _on_vote(self, vote: Vote, inp: Input) -> None:
        vs = self._set()
        if self._elsewhere(vote.height, vote.validator, inp, vote) or not self._in_window(vote.round):
            return
        if vote.validator >= vs.n:
            return
        key = vs.key(vote.validator)
        if not self._verifier.verify_vote(self.config.chain_id, vote, key):
            return
        self._count(vote)

    def _count(self, vote: Vote) -> None:
        vs = self._set()
        _, conflicts = self._keeper.add(vote)
        for earlier in conflicts:
            evidence = make_evidence(self.config.chain_id, vs.key(vote.validator), earlier, vote)
            if evidence is None:
                continue
            encoded = encode_evidence(evidence)
            if encoded in self._reported:
                continue
            if len(self._reported) >= _MAX_REPORTED:
                self._reported.clear()
            self._reported.add(encoded)
            self._out.append(ReportEvidence(evidence))

    def _on_proposal(self, proposal: Proposal, inp: Input) -> None:
        vs = self._set()
        if self._elsewhere(proposal.height, proposal.proposer, inp, proposal):
            return
        if not self._in_window(proposal.round) or proposal.round in self._proposals:
            return
        if proposal.proposer != vs.proposer(self._height, proposal.round):
            return
        if len(proposal.block) > self.config.max_block_bytes:
            return
        key = vs.key(proposal.proposer)
        if not self._verifier.verify_proposal(self.config.chain_id, proposal, key):
            return
        self._proposals[proposal.round] = proposal
        self._received_ms[proposal.round] = self._now
        self._keeper.note_participant(proposal.round, proposal.proposer)
        self._offer(proposal.value_id, proposal.block, proposal.time_ms)

    def _on_commit(self, commit: Commit, inp: Input) -> None:
        vs = self._set()
        signer = commit.qc.signers[0] if commit.qc.signers else 0
        if self._elsewhere(commit.height, signer, inp, commit):
            return
        if len(commit.block) > self.config.max_block_bytes:
            return
        try:
            verify_qc(commit.qc, vs, self.config.chain_id, self._verifier)
        except VerificationFailed:
            return
        for vote in commit.qc.votes():
            self._count(vote)
        self._offer(commit.qc.value_id, commit.block, commit.time_ms)

    def _offer(self, value_id: bytes, block: bytes, time_ms: int) -> None:
        ask = self._book.offer(value_id, block, time_ms)
        if ask is not None:
            self._out.append(ValidateBlock(self._height, ask[0], ask[2], ask[1]))

    def _on_validated(self, verdict: BlockValidated) -> None:
        if verdict.height != self._height or self._decided:
            return
        ask = self._book.resolve(verdict.value_id, verdict.valid)
        if ask is not None:
            self._out.append(ValidateBlock(self._height, ask[0], ask[2], ask[1]))

    def _on_value(self, ready: ValueReady) -> None:
        if len(ready.block) > self.config.max_block_bytes:
            raise InvalidInput("the built block exceeds max_block_bytes", limit=self.config.max_block_bytes)
        if (ready.height, ready.round) != (self._height, self._round) or self._decided:
            return
        if self._step is not Step.PROPOSE or self._awaiting is None or self._awaiting[0] != ready.round:
            return
        time_ms = self._awaiting[1]
        self._awaiting = None
        self._send_proposal(ready.value_id, ready.block, time_ms, NIL_ROUND)

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
        candidates.extend(self._keeper.round_votes(self._round))
        candidates.extend(self._polka)
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
                    or self._line_44()):
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
        relied = max(vr, self._locked_round if self._locked_value == value_id else NIL_ROUND)
        self._prevote(value_id if ok else None, relied)
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
        self._polka = self._keeper.polka(self._round, proposal.value_id)
        self._dirty = True
        return True

    def _line_44(self) -> bool:
        if self._step is Step.PREVOTE and self._keeper.prevotes_for(self._round, None) >= self._quorum():
            self._precommit(None)
            return True
        return False

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
