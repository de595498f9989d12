"""Vote keeper of one height: votes by (round, type, value, validator), tallies and conflicts.

Malachite's *vote keeper* layer. A vote counts towards the value it names; a validator that
equivocates counts towards each value it signed (at most :data:`MAX_VALUES_PER_VOTER` per round and
type, which bounds memory). This is what the paper's "q ⟨PREVOTE, h, r, id(v)⟩" means with Byzantine
senders, and it matters for liveness: if only the first vote of an equivocator counted, a node shown
the "wrong" story first could never see the polka its peers saw and relay (CometBFT solves the same
problem with peer "maj23" claims). Safety is unaffected: two quorums for different values in one round
still overlap in ``2q−n ≥ f+1`` validators, so a correct one would have to equivocate.

A prevote that claims a polka (``valid_round ≥ 0``) counts only once that polka — ``q`` counted
prevotes for the same value in that round — is known here; until then it waits (bounded). A correct
validator only makes such a claim after seeing the polka, and relays it, so this costs no liveness;
but it stops a faulty validator from precommitting ``v`` and later helping a different value with a
*made-up* polka claim, which no pair of signed votes could prove (found with the Promela model in
``models/``). Every fork then leaves the evidence pairs of :mod:`ledgr.consensus.evidence`.

Conflicting pairs (equivocation, amnesia) are returned to the caller as evidence, including pairs with
a waiting prevote. Callers verify signatures and membership before adding.
"""

from __future__ import annotations

from ledgr.consensus.evidence import conflict_kind
from ledgr.consensus.messages import Vote, VoteType

MAX_VALUES_PER_VOTER = 4
MAX_WAITING = 256


class VoteTable:
    """One round's votes of one type."""

    __slots__ = ("by_value", "values_of")

    def __init__(self) -> None:
        self.by_value: dict[bytes | None, dict[int, Vote]] = {}
        self.values_of: dict[int, int] = {}

    def count(self, value_id: bytes | None) -> int:
        votes = self.by_value.get(value_id)
        return len(votes) if votes else 0

    def voters(self) -> int:
        return len(self.values_of)

    def votes(self) -> list[Vote]:
        return [v for votes in self.by_value.values() for v in votes.values()]


class RoundVotes:
    __slots__ = ("participants", "precommits", "prevotes")

    def __init__(self) -> None:
        self.prevotes = VoteTable()
        self.precommits = VoteTable()
        self.participants: set[int] = set()


class VoteKeeper:
    """All counted votes of one height, by round."""

    __slots__ = ("_by_validator", "_quorum", "_rounds", "_waiting")

    def __init__(self, quorum: int | None = None) -> None:
        """``quorum``: prevotes claiming a polka wait for it; ``None`` counts every vote at once."""
        self._rounds: dict[int, RoundVotes] = {}
        self._by_validator: dict[int, list[Vote]] = {}
        self._quorum = quorum
        self._waiting: list[Vote] = []

    def round(self, round_: int) -> RoundVotes:
        votes = self._rounds.get(round_)
        if votes is None:
            votes = self._rounds[round_] = RoundVotes()
        return votes

    def add(self, vote: Vote, *, trusted: bool = False) -> tuple[bool, list[Vote]]:
        """Count ``vote`` towards its value unless it is known or over the per-voter cap.

        Returns ``(counted, conflicts)`` where ``conflicts`` are earlier votes of the same validator
        that together with ``vote`` prove misbehaviour. ``trusted`` votes (this node's own persisted
        polka, counted before a restart) skip the wait for their claimed polka.
        """
        mine = self._by_validator.setdefault(vote.validator, [])
        if vote in mine or vote in self._waiting:
            return False, []
        conflicts = [old for old in (*mine, *self._waiting)
                     if old.validator == vote.validator and conflict_kind(old, vote) is not None]
        if not trusted and self._unjustified(vote):
            if len(self._waiting) < MAX_WAITING:
                self._waiting.append(vote)
            return False, conflicts
        counted = self._count(vote)
        if counted and self._waiting:
            self._release()
        return counted, conflicts

    def _unjustified(self, vote: Vote) -> bool:
        if self._quorum is None or vote.type is not VoteType.PREVOTE or vote.value_id is None:
            return False
        return vote.valid_round >= 0 and self.prevotes_for(vote.valid_round, vote.value_id) < self._quorum

    def _release(self) -> None:
        """Count waiting prevotes whose claimed polka is now complete (and what that enables)."""
        progress = True
        while progress:
            progress = False
            for vote in list(self._waiting):
                if not self._unjustified(vote):
                    self._waiting.remove(vote)
                    progress = self._count(vote) or progress

    def waiting(self) -> list[Vote]:
        """Prevotes held back until the polka they claim is known."""
        return list(self._waiting)

    def _count(self, vote: Vote) -> bool:
        mine = self._by_validator.setdefault(vote.validator, [])
        votes = self.round(vote.round)
        table = votes.prevotes if vote.type is VoteType.PREVOTE else votes.precommits
        same_value = table.by_value.setdefault(vote.value_id, {})
        values = table.values_of.get(vote.validator, 0)
        if vote.validator in same_value or values >= MAX_VALUES_PER_VOTER:
            return False
        same_value[vote.validator] = vote
        table.values_of[vote.validator] = values + 1
        mine.append(vote)
        votes.participants.add(vote.validator)
        return True

    def note_participant(self, round_: int, validator: int) -> None:
        """A proposal also shows its proposer is in ``round_`` (for the f+1 round skip)."""
        self.round(round_).participants.add(validator)

    def _table(self, round_: int, vote_type: VoteType) -> VoteTable | None:
        votes = self._rounds.get(round_)
        if votes is None:
            return None
        return votes.prevotes if vote_type is VoteType.PREVOTE else votes.precommits

    def prevotes_for(self, round_: int, value_id: bytes | None) -> int:
        table = self._table(round_, VoteType.PREVOTE)
        return table.count(value_id) if table else 0

    def precommits_for(self, round_: int, value_id: bytes | None) -> int:
        table = self._table(round_, VoteType.PRECOMMIT)
        return table.count(value_id) if table else 0

    def prevotes_total(self, round_: int) -> int:
        """Distinct validators that prevoted anything in ``round_`` (line 34)."""
        table = self._table(round_, VoteType.PREVOTE)
        return table.voters() if table else 0

    def precommits_total(self, round_: int) -> int:
        """Distinct validators that precommitted anything in ``round_`` (line 47)."""
        table = self._table(round_, VoteType.PRECOMMIT)
        return table.voters() if table else 0

    def _sorted(self, round_: int, vote_type: VoteType, value_id: bytes | None) -> list[Vote]:
        table = self._table(round_, vote_type)
        if table is None:
            return []
        return [v for _, v in sorted(table.by_value.get(value_id, {}).items())]

    def polka(self, round_: int, value_id: bytes | None) -> list[Vote]:
        """The prevotes for ``value_id`` in ``round_``, by validator index."""
        return self._sorted(round_, VoteType.PREVOTE, value_id)

    def justified_polka(self, round_: int, value_id: bytes) -> list[Vote]:
        """The polka for ``value_id`` in ``round_`` plus, recursively, the polkas its prevotes claim:
        what a peer needs to count all of them (relayed and persisted together)."""
        out: list[Vote] = []
        rounds, todo = set(), [round_]
        while todo:
            current = todo.pop()
            if current in rounds or current < 0:
                continue
            rounds.add(current)
            for vote in self.polka(current, value_id):
                out.append(vote)
                todo.append(vote.valid_round)
        return out

    def precommits(self, round_: int, value_id: bytes | None) -> list[Vote]:
        return self._sorted(round_, VoteType.PRECOMMIT, value_id)

    def participants(self, round_: int) -> int:
        votes = self._rounds.get(round_)
        return len(votes.participants) if votes else 0

    def rounds(self) -> list[int]:
        return sorted(self._rounds)

    def decided_value(self, round_: int, quorum: int) -> bytes | None:
        """A non-nil value with ``quorum`` precommits in ``round_``, if any."""
        table = self._table(round_, VoteType.PRECOMMIT)
        if table is None:
            return None
        for value_id, votes in table.by_value.items():
            if value_id is not None and len(votes) >= quorum:
                return value_id
        return None

    def round_votes(self, round_: int) -> list[Vote]:
        votes = self._rounds.get(round_)
        if votes is None:
            return []
        return [*votes.prevotes.votes(), *votes.precommits.votes()]
