"""Property test of the vote keeper against a deliberately simple reference (raft's quorum/quick_test.go
pattern): random vote streams, including duplicates, equivocation and amnesia, must give the same
tallies, the same polkas and the same conflicts."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from ledgr.consensus import NIL_ROUND, Vote, VoteType
from ledgr.consensus.votekeeper import MAX_VALUES_PER_VOTER, VoteKeeper

VALUES = [None, b"a" * 32, b"b" * 32, b"c" * 32, b"d" * 32, b"e" * 32]
SIG = b"s" * 64


@st.composite
def votes(draw: st.DrawFn) -> Vote:
    vote_type = draw(st.sampled_from([VoteType.PREVOTE, VoteType.PRECOMMIT]))
    round_ = draw(st.integers(0, 3))
    value = draw(st.sampled_from(VALUES))
    valid_round = NIL_ROUND
    if vote_type is VoteType.PREVOTE and value is not None and round_ > 0:
        valid_round = draw(st.integers(-1, round_ - 1))
    return Vote(vote_type, 1, round_, value, valid_round, draw(st.integers(0, 4)), SIG)


class Reference:
    """Plain lists and loops: what the keeper must compute."""

    def __init__(self, quorum: int | None = None) -> None:
        self.accepted: list[Vote] = []
        self.waiting: list[Vote] = []
        self.quorum = quorum

    def _waits(self, vote: Vote) -> bool:
        return (self.quorum is not None and vote.type is VoteType.PREVOTE and vote.value_id is not None
                and vote.valid_round >= 0
                and self.count(vote.valid_round, VoteType.PREVOTE, vote.value_id) < self.quorum)

    def _accept(self, vote: Vote) -> bool:
        same_slot = [v for v in self.accepted
                     if (v.validator, v.round, v.type) == (vote.validator, vote.round, vote.type)]
        if any(v.value_id == vote.value_id for v in same_slot) or len(same_slot) >= MAX_VALUES_PER_VOTER:
            return False
        self.accepted.append(vote)
        return True

    def add(self, vote: Vote) -> tuple[bool, list[Vote]]:
        if vote in self.accepted or vote in self.waiting:
            return False, []
        conflicts = [old for old in self.accepted + self.waiting
                     if old.validator == vote.validator and _conflict(old, vote)]
        if self._waits(vote):
            self.waiting.append(vote)
            return False, conflicts
        counted = self._accept(vote)
        again = counted
        while again:
            again = False
            for waiting in list(self.waiting):
                if not self._waits(waiting):
                    self.waiting.remove(waiting)
                    again = self._accept(waiting) or again
        return counted, conflicts

    def count(self, round_: int, vote_type: VoteType, value: bytes | None) -> int:
        return len({v.validator for v in self.accepted
                    if (v.round, v.type, v.value_id) == (round_, vote_type, value)})

    def voters(self, round_: int, vote_type: VoteType) -> int:
        return len({v.validator for v in self.accepted if (v.round, v.type) == (round_, vote_type)})


def _conflict(a: Vote, b: Vote) -> bool:
    if a.type == b.type and a.round == b.round:
        return (a.value_id, a.valid_round) != (b.value_id, b.valid_round)
    for pc, pv in ((a, b), (b, a)):
        if (pc.type is VoteType.PRECOMMIT and pv.type is VoteType.PREVOTE and pc.value_id is not None
                and pv.value_id is not None and pv.value_id != pc.value_id and pv.round > pc.round
                and pv.valid_round < pc.round):
            return True
    return False


@settings(max_examples=400, deadline=None)
@given(st.lists(votes(), max_size=60), st.sampled_from([None, 2, 3]))
def test_keeper_matches_the_reference(stream: list[Vote], quorum: int | None) -> None:
    keeper, reference = VoteKeeper(quorum), Reference(quorum)
    for vote in stream:
        got_counted, got_conflicts = keeper.add(vote)
        want_counted, want_conflicts = reference.add(vote)
        assert got_counted == want_counted
        assert sorted(map(repr, got_conflicts)) == sorted(map(repr, want_conflicts))
        assert sorted(map(repr, keeper.waiting())) == sorted(map(repr, reference.waiting))
    for round_ in range(4):
        for value in VALUES:
            assert keeper.prevotes_for(round_, value) == reference.count(round_, VoteType.PREVOTE, value)
            assert keeper.precommits_for(round_, value) == reference.count(round_, VoteType.PRECOMMIT, value)
            assert [v.validator for v in keeper.polka(round_, value)] == sorted(
                {v.validator for v in reference.accepted
                 if (v.round, v.type, v.value_id) == (round_, VoteType.PREVOTE, value)})
        assert keeper.prevotes_total(round_) == reference.voters(round_, VoteType.PREVOTE)
        assert keeper.precommits_total(round_) == reference.voters(round_, VoteType.PRECOMMIT)
        for quorum in (2, 3):
            decided = keeper.decided_value(round_, quorum)
            candidates = {v for v in VALUES[1:] if reference.count(round_, VoteType.PRECOMMIT, v) >= quorum}
            assert (decided in candidates) if candidates else decided is None
