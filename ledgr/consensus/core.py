"""The sans-IO consensus core: ``Core.step(input, now_ms) -> list[Effect]`` (etcd-raft shape).

:class:`Core` is the intake around :class:`~ledgr.consensus.round_machine.RoundMachine`: it checks
membership and signatures, buffers (bounded) messages for the next height, helps peers one height
behind with our commit, starts and resumes heights from the persisted state, and orders effects.
It does no I/O: it reads no clock (``now_ms`` is an argument) and draws no randomness (proposer
rotation and timeouts are deterministic).

Persistence (the raft Ready contract): when a step changed the durable state, its single
:class:`Persist` is the first effect, so it is durable before any message signed in that step is sent.
"""

from __future__ import annotations

from ledgr.consensus.codec import encode_message
from ledgr.consensus.config import CoreConfig
from ledgr.consensus.events import (
    BlockValidated,
    CommitReceived,
    Effect,
    Input,
    Persist,
    ProposalReceived,
    ReportEvidence,
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
from ledgr.consensus.messages import NIL_ROUND, Commit, Message, Proposal, Vote
from ledgr.consensus.qc import verify_qc
from ledgr.consensus.round_machine import RoundMachine
from ledgr.consensus.signing import Signer, Verifier
from ledgr.consensus.state import DurableState, SignKind, Step, decode_state, encode_state
from ledgr.consensus.validators import ValidatorSet
from ledgr.errors import IntegrityError, InvalidInput, VerificationFailed

_MAX_REPORTED = 1024


class Core(RoundMachine):
    """One validator's (or observer's) consensus state machine. Not thread-safe; one caller loop."""

    def __init__(self, config: CoreConfig, signer: Signer, verifier: Verifier | None = None,
                 state: bytes | None = None) -> None:
        super().__init__(config, signer, verifier)
        self._restored = decode_state(state, config.max_block_bytes) if state else None
        if self._restored is not None:
            self._watermark = self._restored.watermark
            self._height = self._restored.height
        self._started = False
        self._failed = False
        self._next_vs: ValidatorSet | None = None
        self._future: dict[bytes, Input] = {}
        self._reported: set[bytes] = set()

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
        """Apply one input; returns the effects to execute in order (a ``Persist`` always first).

        If the step raises (a failing signer, a malformed ``ValueReady``), its effects are dropped and
        the next step persists whatever state this one had already changed.
        """
        self._now = now_ms
        self._out = []
        self._dirty = self._failed
        self._failed = True
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
        self._failed = False
        if self._dirty:
            effects.insert(0, Persist(encode_state(self.durable_state())))
        return effects

    # ---- heights -------------------------------------------------------------------------------

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
            self._keeper.add(vote, trusted=True)
        if saved.watermark[:2] == (self._height, self._round):
            self._own = list(saved.own_messages)
        for msg in self._own:
            if isinstance(msg, Proposal):
                self._proposals[msg.round] = msg
                self._received_ms[msg.round] = self._now
                self._book.accept_own(msg.value_id, msg.block, msg.time_ms)
                self._keeper.note_participant(msg.round, msg.proposer)
            else:
                self._keeper.add(msg, trusted=True)
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

