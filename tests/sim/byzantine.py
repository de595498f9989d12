"""Scripted Byzantine behaviours (consensus.md §4.3) applied to what a Byzantine node sends.

A Byzantine node runs a correct core; this layer rewrites its outgoing messages. Colluding Byzantine
nodes split the correct nodes into two groups per height and show each group a different story:

- ``equivocate``: as proposer, a second block for the same (h, r) goes to the other group;
- ``double-vote``: the other group gets a vote for the other story's value (or nil);
- ``amnesia``: the node's core is restarted now and then with its lock and sign watermark erased;
- ``withhold``: its proposals are never sent;
- ``old-votes``: it also sends freshly signed votes for old heights;
- ``impersonate``: it sends votes claiming another validator's index, or an index outside the set;
- ``invalid-block``: it proposes blocks whose app_root is wrong;
- ``bad-valid-round``: it claims a polka round (``pol_round``) it never saw.
"""

from __future__ import annotations

import random
from typing import TYPE_CHECKING

from ledgr.consensus import NIL_ROUND, Message, Proposal, Vote, VoteType
from ledgr.crypto import sha256
from tests.sim.app import SimBlock

if TYPE_CHECKING:
    from tests.sim.cluster import Simulation


class Byzantine:
    def __init__(self, sim: Simulation, index: int, behaviours: tuple[str, ...], rng: random.Random) -> None:
        self.sim = sim
        self.index = index
        self.behaviours = set(behaviours)
        self.rng = rng

    def has(self, name: str) -> bool:
        return name in self.behaviours

    def outgoing(self, msg: Message, dst: int) -> list[Message]:
        """What this node really sends to ``dst`` instead of ``msg``."""
        mine = (isinstance(msg, Proposal) and msg.proposer == self.index) or (
            isinstance(msg, Vote) and msg.validator == self.index)
        if not mine:
            return [msg]
        other_story = dst in self.sim.byz_group_b(msg.height)
        if isinstance(msg, Proposal):
            return self._proposal(msg, other_story)
        return self._vote(msg, dst, other_story)

    def _proposal(self, proposal: Proposal, other_story: bool) -> list[Message]:
        if self.has("withhold"):
            return []
        if self.has("bad-valid-round") and proposal.pol_round == NIL_ROUND and proposal.round > 0:
            proposal = self._sign_proposal(Proposal(proposal.height, proposal.round, proposal.value_id,
                                                    proposal.block, proposal.time_ms, proposal.round - 1,
                                                    proposal.proposer))
        if self.has("equivocate") and other_story:
            return [self._alternative(proposal)]
        return [proposal]

    def _alternative(self, proposal: Proposal) -> Proposal:
        key = (proposal.height, proposal.round)
        known = self.sim.byz_alt.get(key)
        if known is not None and known[0] == proposal.value_id:
            return known[1]
        node = self.sim.nodes[self.index]
        block = node.chain.build(proposal.time_ms, [], salt=b"evil-%d" % proposal.round)
        if block.height != proposal.height:
            block = SimBlock(proposal.height, proposal.time_ms, b"\x01" * 32, b"\x02" * 32, (), b"evil")
        data = block.encode()
        alt = self._sign_proposal(Proposal(proposal.height, proposal.round, sha256(data), data,
                                           proposal.time_ms, NIL_ROUND, proposal.proposer))
        self.sim.byz_alt[key] = (proposal.value_id, alt)
        return alt

    def _vote(self, vote: Vote, dst: int, other_story: bool) -> list[Message]:
        out: list[Message] = [vote]
        if self.has("double-vote") and other_story:
            alt = self.sim.byz_alt.get((vote.height, vote.round))
            if alt is not None and vote.value_id == alt[0]:
                value: bytes | None = alt[1].value_id
            elif alt is not None and vote.value_id is None:
                value = alt[1].value_id
            else:
                value = None if vote.value_id is not None else self.rng.choice(
                    [None, sha256(b"junk %d" % vote.round)])
            out = [self._sign_vote(Vote(vote.type, vote.height, vote.round, value,
                                        NIL_ROUND if vote.type is VoteType.PRECOMMIT or value is None
                                        else vote.valid_round, vote.validator))]
        if self.has("old-votes") and vote.height > 3 and self.rng.random() < 0.2:
            old = Vote(VoteType.PRECOMMIT, vote.height - self.rng.randint(1, 3), self.rng.randint(0, 2),
                       sha256(b"old %d" % self.rng.random()), NIL_ROUND, self.index)
            out.append(self._sign_vote(old))
        if self.has("impersonate") and self.rng.random() < 0.2:
            victim = self.rng.randrange(self.sim.scenario.n)
            forged = Vote(vote.type, vote.height, vote.round, sha256(b"forged"),
                          NIL_ROUND, victim, self.sim.signers[self.index].sign_vote(
                              self.sim.chain_id, vote.unsigned()))
            outsider = Vote(vote.type, vote.height, vote.round, None, NIL_ROUND, self.sim.scenario.n + 1,
                            b"\x00" * 64)
            out.extend([forged, outsider])
        return out

    def _sign_vote(self, vote: Vote) -> Vote:
        return vote.signed(self.sim.signers[self.index].sign_vote(self.sim.chain_id, vote))

    def _sign_proposal(self, proposal: Proposal) -> Proposal:
        return proposal.signed(self.sim.signers[self.index].sign_proposal(self.sim.chain_id, proposal))
