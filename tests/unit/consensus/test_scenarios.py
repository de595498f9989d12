"""Named end-to-end scenarios with several real cores: what one Byzantine validator can and cannot do.

docs/consensus.md states: n=3 with q=2 can be forked by one Byzantine validator but the fork proves who
did it; n=4, and strict mode at n=3, keep agreement. The Byzantine validator here proposes block A to
some validators and block B to the others and votes for whatever each one was shown.
"""

from __future__ import annotations

from collections import deque

from ledgr.consensus import (
    NIL_ROUND,
    BlockValidated,
    Broadcast,
    Core,
    Decide,
    Ed25519Signer,
    EvidenceKind,
    Input,
    Proposal,
    ProposalReceived,
    Start,
    ValidateBlock,
    Vote,
    VoteReceived,
    VoteType,
    detect_evidence,
    verify_evidence,
)
from ledgr.crypto import sha256
from tests.unit.consensus.harness import CHAIN, CONFIG, KEYS, START_MS, value, vset


def _run_split_brain(n: int, strict: bool, groups: dict[int, str]) -> tuple[dict[int, bytes], list[Vote]]:
    """Validator n−1 is Byzantine and proposes; correct validator i is shown block ``groups[i]``."""
    byz = n - 1
    vs = vset(n, strict=strict)
    height = next(h for h in range(1, 20) if vs.proposer(h, 0) == byz)
    cores = {i: Core(CONFIG, Ed25519Signer(KEYS[i])) for i in groups}
    signer = Ed25519Signer(KEYS[byz])
    queue: deque[tuple[int, Input]] = deque()
    decided: dict[int, bytes] = {}
    seen: list[Vote] = []

    def byz_vote(vote_type: VoteType, tag: str) -> Vote:
        vote = Vote(vote_type, height, 0, value(tag)[0], NIL_ROUND, byz)
        return vote.signed(signer.sign_vote(CHAIN, vote))

    for i, tag in groups.items():
        queue.append((i, Start(height, vs, 0)))
        value_id, block = value(tag)
        proposal = Proposal(height, 0, value_id, block, START_MS, NIL_ROUND, byz)
        queue.append((i, ProposalReceived(proposal.signed(signer.sign_proposal(CHAIN, proposal)))))
        queue.append((i, VoteReceived(byz_vote(VoteType.PREVOTE, tag))))
        queue.append((i, VoteReceived(byz_vote(VoteType.PRECOMMIT, tag))))
    while queue:
        i, inp = queue.popleft()
        if isinstance(inp, VoteReceived):
            seen.append(inp.vote)
        for effect in cores[i].step(inp, START_MS):
            if isinstance(effect, Broadcast) and isinstance(effect.message, Vote):
                queue.extend((j, VoteReceived(effect.message)) for j in cores if j != i)
            elif isinstance(effect, ValidateBlock):
                ok = sha256(effect.block) == effect.value_id
                queue.append((i, BlockValidated(effect.height, effect.value_id, ok)))
            elif isinstance(effect, Decide):
                decided[i] = effect.value_id
    return decided, seen


def test_n3_one_byzantine_validator_forks_the_chain_and_is_proven_guilty() -> None:
    decided, seen = _run_split_brain(3, False, {0: "A", 1: "B"})
    assert decided == {0: value("A")[0], 1: value("B")[0]}
    evidence = detect_evidence(CHAIN, vset(3), seen)
    assert {e.first.validator for e in evidence} == {2}
    assert {e.kind for e in evidence} == {EvidenceKind.EQUIVOCATION}
    for item in evidence:
        verify_evidence(item, vset(3))


def test_n3_strict_mode_does_not_fork() -> None:
    decided, _ = _run_split_brain(3, True, {0: "A", 1: "B"})
    assert decided == {}


def test_n4_one_byzantine_validator_cannot_fork_the_chain() -> None:
    decided, seen = _run_split_brain(4, False, {0: "A", 1: "A", 2: "B"})
    assert decided == {0: value("A")[0], 1: value("A")[0]}  # validator 2 was shown B and decides nothing
    assert {e.first.validator for e in detect_evidence(CHAIN, vset(4), seen)} == {3}
