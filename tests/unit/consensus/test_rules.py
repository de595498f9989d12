"""Table tests of every rule of the protocol, named after the lines of Algorithm 1 of the Tendermint
paper (arXiv 1807.04938) as in consensus.md §1.3. n=4 (f=1, q=3), this node is validator 0, height 1,
so the proposer of round r is validator (1 + r) mod 4: r0 → 1, r1 → 2, r2 → 3, r3 → 0.
"""

from __future__ import annotations

from ledgr.consensus import (
    NIL_ROUND,
    Broadcast,
    Proposal,
    RequestValue,
    ScheduleTimeout,
    Step,
    TimeoutKind,
    ValueReady,
    VoteType,
    verify_qc,
)
from tests.unit.consensus.harness import CHAIN, Harness, value, vid

PREVOTE, PRECOMMIT = VoteType.PREVOTE, VoteType.PRECOMMIT


def _lock_on_a_in_round_0(h: Harness) -> None:
    h.propose(0, "A")
    h.prevotes([1, 2], 0, "A")
    assert h.core.locked == (0, vid("A"))


def _to_round(h: Harness, round_: int) -> None:
    while h.core.round < round_:
        h.timeout(TimeoutKind.PRECOMMIT, h.core.round)


def test_start_round_line_11_non_proposer_schedules_timeout_propose() -> None:
    h = Harness()
    assert ScheduleTimeout(TimeoutKind.PROPOSE, 1, 0, 1000) in h.effects
    assert not any(isinstance(e, RequestValue) for e in h.effects)


def test_start_round_line_14_proposer_requests_and_proposes_a_value() -> None:
    h = Harness(me=1, prev_time_ms=5)
    request = next(e for e in h.effects if isinstance(e, RequestValue))
    assert (request.height, request.round, request.time_ms) == (1, 0, h.now)
    value_id, block = value("mine")
    effects = h.step(ValueReady(1, 0, value_id, block))
    [proposal] = [e.message for e in effects if isinstance(e, Broadcast) and isinstance(e.message, Proposal)]
    assert (proposal.value_id, proposal.time_ms, proposal.pol_round) == (value_id, h.now, -1)
    assert proposal.proposer == 1


def test_start_round_line_15_proposer_reproposes_its_valid_value_with_pol_round() -> None:
    h = Harness(me=0)
    _lock_on_a_in_round_0(h)
    _to_round(h, 3)  # validator 0 proposes in round 3
    proposals = [e.message for e in h.log if isinstance(e, Broadcast) and isinstance(e.message, Proposal)]
    assert proposals[-1].value_id == vid("A") and proposals[-1].pol_round == 0 and proposals[-1].round == 3


def test_line_22_prevotes_a_valid_fresh_proposal() -> None:
    h = Harness()
    h.propose(0, "A")
    vote = h.my_vote(PREVOTE)
    assert vote is not None and vote.value_id == vid("A") and vote.valid_round == NIL_ROUND
    assert h.core.step_name is Step.PREVOTE


def test_line_22_prevotes_nil_for_an_invalid_block() -> None:
    h = Harness()
    h.invalid.add(vid("A"))
    h.propose(0, "A")
    vote = h.my_vote(PREVOTE)
    assert vote is not None and vote.value_id is None


def test_line_22_prevotes_nil_when_block_time_is_beyond_the_clock_skew() -> None:
    h = Harness()
    h.propose(0, "A", time_ms=h.now + 2001)
    vote = h.my_vote(PREVOTE)
    assert vote is not None and vote.value_id is None


def test_line_22_prevotes_nil_when_block_time_does_not_increase() -> None:
    h = Harness(prev_time_ms=START_TIME)
    h.propose(0, "A", time_ms=START_TIME)
    vote = h.my_vote(PREVOTE)
    assert vote is not None and vote.value_id is None


START_TIME = 1_000_000


def test_line_22_locked_on_another_value_prevotes_nil_but_its_own_value_with_its_lock_round() -> None:
    h = Harness()
    _lock_on_a_in_round_0(h)
    _to_round(h, 1)
    h.propose(1, "B")
    assert h.my_vote(PREVOTE).value_id is None  # type: ignore[union-attr]
    _to_round(h, 2)
    h.propose(2, "A")
    vote = h.my_vote(PREVOTE)
    assert vote is not None and vote.value_id == vid("A") and vote.valid_round == 0


def test_line_28_prevotes_a_reproposal_backed_by_a_polka() -> None:
    h = Harness()
    _to_round(h, 1)
    h.prevotes([1, 2, 3], 0, "B")
    h.propose(1, "B", pol_round=0)
    vote = h.my_vote(PREVOTE)
    assert vote is not None and vote.value_id == vid("B") and vote.valid_round == 0


def test_line_28_waits_for_the_polka_it_is_told_about() -> None:
    h = Harness()
    _to_round(h, 1)
    h.propose(1, "B", pol_round=0)
    assert h.my_vote(PREVOTE) is None and h.core.step_name is Step.PROPOSE
    h.prevotes([1, 2], 0, "B")
    assert h.my_vote(PREVOTE) is None
    h.prevotes([3], 0, "B")
    assert h.my_vote(PREVOTE).value_id == vid("B")  # type: ignore[union-attr]


def test_line_28_lock_newer_than_the_polka_prevotes_nil() -> None:
    h = Harness()
    h.prevotes([1, 2, 3], 0, "B")
    _to_round(h, 1)
    h.propose(1, "A")
    h.prevotes([1, 2], 1, "A")
    assert h.core.locked == (1, vid("A"))
    _to_round(h, 2)
    h.propose(2, "B", pol_round=0)
    assert h.my_vote(PREVOTE).value_id is None  # type: ignore[union-attr]


def test_line_28_polka_newer_than_the_lock_unlocks() -> None:
    h = Harness()
    _lock_on_a_in_round_0(h)
    _to_round(h, 1)
    h.prevotes([1, 2, 3], 1, "B")
    _to_round(h, 2)
    h.propose(2, "B", pol_round=1)
    vote = h.my_vote(PREVOTE)
    assert vote is not None and vote.value_id == vid("B") and vote.valid_round == 1


def test_line_34_q_prevotes_of_any_kind_schedule_timeout_prevote() -> None:
    h = Harness()
    h.propose(0, "A")
    h.vote(1, PREVOTE, 0, None)
    assert not any(t.kind is TimeoutKind.PREVOTE for t in h.timers())
    h.vote(2, PREVOTE, 0, "B")
    assert ScheduleTimeout(TimeoutKind.PREVOTE, 1, 0, 500) in h.effects


def test_line_36_polka_locks_and_precommits() -> None:
    h = Harness()
    h.propose(0, "A")
    h.prevotes([1], 0, "A")
    assert h.my_vote(PRECOMMIT) is None
    h.prevotes([2], 0, "A")
    assert h.my_vote(PRECOMMIT).value_id == vid("A")  # type: ignore[union-attr]
    assert h.core.locked == (0, vid("A")) and h.core.valid == (0, vid("A"))


def test_line_36_after_precommitting_nil_only_sets_the_valid_value() -> None:
    h = Harness()
    h.propose(0, "A")
    h.prevotes([1, 2], 0, None)
    h.timeout(TimeoutKind.PREVOTE, 0)
    assert h.core.step_name is Step.PRECOMMIT
    h.prevotes([3], 0, "A")
    h.prevotes([1, 2], 0, "A")  # equivocators count towards each value they signed
    assert h.core.valid == (0, vid("A")) and h.core.locked == (NIL_ROUND, None)


def test_line_44_q_nil_prevotes_precommit_nil() -> None:
    h = Harness()
    h.timeout(TimeoutKind.PROPOSE, 0)
    h.prevotes([1, 2], 0, None)
    vote = h.my_vote(PRECOMMIT)
    assert vote is not None and vote.value_id is None


def test_line_47_q_precommits_of_any_kind_schedule_timeout_precommit() -> None:
    h = Harness()
    h.precommits([1, 2], 0, None)
    assert not any(t.kind is TimeoutKind.PRECOMMIT for t in h.timers())
    h.precommits([3], 0, "A")
    assert ScheduleTimeout(TimeoutKind.PRECOMMIT, 1, 0, 500) in h.effects


def test_q_nil_precommits_start_the_next_round_at_once_and_pass_the_votes_on() -> None:
    """Not a line of the paper: line 65 with the precommit timer firing early (round_machine.py,
    ``_nil_quorum_skip``); the votes that justify the skip are sent on and kept for rebroadcast."""
    h = Harness()
    h.precommits([1, 2], 0, None)
    assert h.core.round == 0  # two nil precommits of four are not a quorum
    h.precommits([3], 0, None)
    assert h.core.round == 1  # at once, not after timeout_precommit
    relayed = {(e.message.validator, e.message.round) for e in h.effects
               if isinstance(e, Broadcast) and getattr(e.message, "type", None) is PRECOMMIT}
    assert relayed == {(1, 0), (2, 0), (3, 0)}
    again = h.timeout(TimeoutKind.REBROADCAST, 1)
    repeated = {e.message.validator for e in again
                if isinstance(e, Broadcast) and getattr(e.message, "type", None) is PRECOMMIT}
    assert {1, 2, 3} <= repeated


def test_split_precommits_still_wait_for_timeout_precommit() -> None:
    h = Harness()
    h.precommits([1, 2], 0, None)
    h.precommits([3], 0, "A")
    assert h.core.round == 0


def test_line_49_q_precommits_and_the_block_decide_with_a_valid_qc() -> None:
    h = Harness()
    h.propose(0, "A")
    h.prevotes([1, 2], 0, "A")
    h.precommits([1, 2], 0, "A")
    [decision] = h.decisions()
    assert (decision.height, decision.round, decision.value_id) == (1, 0, vid("A"))
    assert decision.block == value("A")[1]
    verify_qc(decision.qc, h.vs, CHAIN)
    assert len(decision.qc.signers) == 3


def test_line_49_decides_for_an_earlier_round() -> None:
    h = Harness()
    h.propose(0, "A")
    _to_round(h, 2)
    h.precommits([1, 2, 3], 0, "A")
    assert [d.round for d in h.decisions()] == [0]


def test_line_49_needs_the_block_before_deciding() -> None:
    h = Harness()
    h.precommits([1, 2, 3], 0, "A")
    assert h.decisions() == []
    h.propose(0, "A")
    assert len(h.decisions()) == 1


def test_line_55_f_plus_1_validators_in_a_later_round_pull_us_there() -> None:
    h = Harness()
    h.vote(1, PREVOTE, 3, None)
    assert h.core.round == 0
    h.vote(2, PRECOMMIT, 3, None)
    assert h.core.round == 3


def test_line_55_round_skip_is_capped_by_max_round_skip() -> None:
    h = Harness()
    for who in (1, 2, 3):
        h.vote(who, PREVOTE, 100, None)
    assert h.core.round == 0
    for who in (1, 2):
        h.vote(who, PREVOTE, 4, None)
    assert h.core.round == 4


def test_line_57_timeout_propose_prevotes_nil() -> None:
    h = Harness()
    h.timeout(TimeoutKind.PROPOSE, 0)
    assert h.my_vote(PREVOTE).value_id is None  # type: ignore[union-attr]


def test_line_61_timeout_prevote_precommits_nil() -> None:
    h = Harness()
    h.timeout(TimeoutKind.PROPOSE, 0)
    h.timeout(TimeoutKind.PREVOTE, 0)
    assert h.my_vote(PRECOMMIT).value_id is None  # type: ignore[union-attr]


def test_line_65_timeout_precommit_starts_the_next_round_with_longer_timeouts() -> None:
    h = Harness()
    h.timeout(TimeoutKind.PRECOMMIT, 0)
    assert h.core.round == 1
    assert ScheduleTimeout(TimeoutKind.PROPOSE, 1, 1, 1500) in h.effects


def test_timeouts_of_past_rounds_and_steps_are_ignored() -> None:
    h = Harness()
    h.timeout(TimeoutKind.PRECOMMIT, 0)
    assert h.timeout(TimeoutKind.PROPOSE, 0) == []
    assert h.timeout(TimeoutKind.PRECOMMIT, 0) == []
    assert h.core.round == 1


def test_timeouts_are_capped() -> None:
    h = Harness()
    _to_round(h, 20)
    assert ScheduleTimeout(TimeoutKind.PROPOSE, 1, 20, 5000) in h.effects
