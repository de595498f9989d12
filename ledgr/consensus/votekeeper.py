"""Vote keeper of one height: first vote per (round, type, validator), tallies, and conflicts.

Malachite's *vote keeper* layer. Only the first vote of a validator for a (round, type) counts;
a different second one is equivocation and is returned as a conflict, as is a prevote that
contradicts the same validator's earlier precommit (amnesia, see :mod:`ledgr.consensus.evidence`).
Callers verify signatures and membership before adding.
"""

from __future__ import annotations

from collections import Counter

from ledgr.consensus.evidence import conflict_kind
from ledgr.consensus.messages import Vote, VoteType


class RoundVotes:
    __slots__ = ("participants", "precommit_tally", "precommits", "prevote_tally", "prevotes")

    def __init__(self) -> None:
        self.prevotes: dict[int, Vote] = {}
        self.precommits: dict[int, Vote] = {}
        self.prevote_tally: Counter[bytes | None] = Counter()
        self.precommit_tally: Counter[bytes | None] = Counter()
        self.participants: set[int] = set()


class VoteKeeper:
    """All counted votes of one height, by round."""

    __slots__ = ("_by_validator", "_rounds")

    def __init__(self) -> None:
        self._rounds: dict[int, RoundVotes] = {}
        self._by_validator: dict[int, list[Vote]] = {}

    def round(self, round_: int) -> RoundVotes:
        votes = self._rounds.get(round_)
        if votes is None:
            votes = self._rounds[round_] = RoundVotes()
        return votes

    def add(self, vote: Vote) -> tuple[bool, list[Vote]]:
        """Count ``vote`` if it is its validator's first for its round and type.

        Returns ``(counted, conflicts)`` where ``conflicts`` are earlier votes of the same validator
        that together with ``vote`` prove misbehaviour.
        """
        mine = self._by_validator.setdefault(vote.validator, [])
        if vote in mine:
            return False, []
        conflicts = [old for old in mine if conflict_kind(old, vote) is not None]
        votes = self.round(vote.round)
        table = votes.prevotes if vote.type is VoteType.PREVOTE else votes.precommits
        if vote.validator in table:
            return False, conflicts
        mine.append(vote)
        table[vote.validator] = vote
        tally = votes.prevote_tally if vote.type is VoteType.PREVOTE else votes.precommit_tally
        tally[vote.value_id] += 1
        votes.participants.add(vote.validator)
        return True, conflicts

    def note_participant(self, round_: int, validator: int) -> None:
        """A proposal also shows its proposer is in ``round_`` (for the f+1 round skip)."""
        self.round(round_).participants.add(validator)

    def prevotes_for(self, round_: int, value_id: bytes | None) -> int:
        votes = self._rounds.get(round_)
        return votes.prevote_tally[value_id] if votes else 0

    def precommits_for(self, round_: int, value_id: bytes | None) -> int:
        votes = self._rounds.get(round_)
        return votes.precommit_tally[value_id] if votes else 0

    def prevotes_total(self, round_: int) -> int:
        votes = self._rounds.get(round_)
        return len(votes.prevotes) if votes else 0

    def precommits_total(self, round_: int) -> int:
        votes = self._rounds.get(round_)
        return len(votes.precommits) if votes else 0

    def polka(self, round_: int, value_id: bytes | None) -> list[Vote]:
        votes = self._rounds.get(round_)
        if votes is None:
            return []
        return [v for _, v in sorted(votes.prevotes.items()) if v.value_id == value_id]

    def precommits(self, round_: int, value_id: bytes | None) -> list[Vote]:
        votes = self._rounds.get(round_)
        if votes is None:
            return []
        return [v for _, v in sorted(votes.precommits.items()) if v.value_id == value_id]

    def participants(self, round_: int) -> int:
        votes = self._rounds.get(round_)
        return len(votes.participants) if votes else 0

    def rounds(self) -> list[int]:
        return sorted(self._rounds)

    def decided_value(self, round_: int, quorum: int) -> bytes | None:
        """A non-nil value with ``quorum`` precommits in ``round_``, if any."""
        votes = self._rounds.get(round_)
        if votes is None:
            return None
        for value_id, count in votes.precommit_tally.items():
            if value_id is not None and count >= quorum:
                return value_id
        return None

    def round_votes(self, round_: int) -> list[Vote]:
        votes = self._rounds.get(round_)
        if votes is None:
            return []
        return [*votes.prevotes.values(), *votes.precommits.values()]
