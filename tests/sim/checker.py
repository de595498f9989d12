"""Invariants checked after every simulated step (consensus.md §4.4).

Safety (with at most f Byzantine validators): agreement, validity, contiguous hash-linked chains that
are prefixes of each other, per-node vote monotonicity (one vote per height/round/type, one proposal
per height/round), lock discipline (no prevote against an earlier precommit without a later polka),
QC validity, and evidence never naming a correct validator. Over-threshold runs replace agreement by
accountability: a fork must come with verifiable evidence against ≥ 2q−n validators, all Byzantine.
"""

from __future__ import annotations

from ledgr.consensus import (
    Evidence,
    Proposal,
    QuorumCertificate,
    ValidatorSet,
    Verifier,
    Vote,
    VoteType,
    detect_evidence,
    verify_evidence,
    verify_qc,
)
from ledgr.consensus.evidence import EvidenceKind, conflict_kind
from ledgr.errors import VerificationFailed


class Checker:
    def __init__(self, chain_id: str, validators: ValidatorSet, correct: set[int], over_threshold: bool,
                 verifier: Verifier) -> None:
        self.chain_id = chain_id
        self.vs = validators
        self.correct = correct
        self.over = over_threshold
        self.verifier = verifier
        self.violations: list[str] = []
        self.decided: dict[int, bytes] = {}
        self.forks: list[tuple[int, bytes, bytes]] = []
        self._signed: dict[tuple[int, int, int, int], Proposal | Vote] = {}
        self._precommits: dict[tuple[int, int], list[Vote]] = {}
        self._pool: set[Vote] = set()
        self.evidence_reports = 0
        self.decisions = 0

    def fail(self, text: str) -> None:
        if len(self.violations) < 20:
            self.violations.append(text)

    # ---- what correct nodes sign -----------------------------------------------------------------

    def on_signed(self, node: int, msg: Proposal | Vote) -> None:
        if node not in self.correct:
            return
        if isinstance(msg, Proposal):
            key = (node, msg.height, msg.round, 1)
        else:
            key = (node, msg.height, msg.round, int(msg.type))
        earlier = self._signed.get(key)
        if earlier is None:
            self._signed[key] = msg
        elif earlier != msg:
            self.fail(f"monotonicity: node {node} signed two different messages for {key[1:]}: "
                      f"{_short(earlier)} / {_short(msg)}")
        if isinstance(msg, Vote):
            self._check_lock(node, msg)

    def _check_lock(self, node: int, vote: Vote) -> None:
        mine = self._precommits.setdefault((node, vote.height), [])
        if vote.type is VoteType.PRECOMMIT:
            if vote not in mine:
                mine.append(vote)
            return
        for precommit in mine:
            if conflict_kind(precommit, vote) is EvidenceKind.AMNESIA:
                self.fail(f"lock discipline: node {node} precommitted {precommit.value_id!r:.12} in round "
                          f"{precommit.round} and then prevoted another value in round {vote.round} "
                          f"relying on round {vote.valid_round}")

    def on_received_vote(self, vote: Vote) -> None:
        """Votes correct nodes received (signature checked): the forensic pool."""
        if self.over:
            self._pool.add(vote)

    # ---- decisions -------------------------------------------------------------------------------

    def on_decide(self, node: int, height: int, value_id: bytes, qc: QuorumCertificate, valid: bool) -> None:
        if node not in self.correct:
            return
        self.decisions += 1
        if not valid:
            self.fail(f"validity: node {node} decided an invalid block at height {height}")
        if qc.height != height or qc.value_id != value_id:
            self.fail(f"QC: node {node}'s certificate does not name height {height}'s block")
        try:
            verify_qc(qc, self.vs, self.chain_id, self.verifier)
        except VerificationFailed as exc:
            self.fail(f"QC: node {node} decided height {height} on an invalid certificate: {exc.detail}")
        if self.over:
            self._pool.update(qc.votes())
        first = self.decided.setdefault(height, value_id)
        if first != value_id:
            if self.over:
                self.forks.append((height, first, value_id))
            else:
                self.fail(f"agreement: height {height} decided as {first.hex()[:12]} "
                          f"and {value_id.hex()[:12]}")

    def on_chain(self, node: int, contiguous: bool, prev_ok: bool) -> None:
        if node not in self.correct:
            return
        if not contiguous or not prev_ok:
            self.fail(f"chain: node {node}'s chain is not contiguous and hash-linked")

    def on_evidence(self, node: int, evidence: Evidence) -> None:
        if node not in self.correct:
            return
        self.evidence_reports += 1
        try:
            verify_evidence(evidence, self.vs, self.verifier)
        except VerificationFailed as exc:
            self.fail(f"evidence: node {node} reported unverifiable evidence: {exc.detail}")
            return
        if evidence.first.validator in self.correct:
            self.fail(f"evidence: node {node} accused correct validator {evidence.first.validator}")

    # ---- end of run --------------------------------------------------------------------------------

    def accountability(self) -> tuple[int, set[int]]:
        """Culprits proven by the pooled votes of correct nodes (fork forensics)."""
        evidence = detect_evidence(self.chain_id, self.vs, sorted(self._pool, key=_vote_order))
        culprits = set()
        for item in evidence:
            try:
                verify_evidence(item, self.vs, self.verifier)
            except VerificationFailed:
                self.fail("accountability: forensic evidence does not verify")
                continue
            culprits.add(item.first.validator)
        return len(evidence), culprits

    def finish(self) -> None:
        if not self.forks:
            return
        _, culprits = self.accountability()
        wrongly = culprits & self.correct
        if wrongly:
            self.fail(f"accountability: correct validators {sorted(wrongly)} accused")
        need = self.vs.accountable_culprits
        if len(culprits) < need:
            self.fail(f"accountability: fork at height {self.forks[0][0]} but only {len(culprits)} "
                      f"culprits proven (need {need})")


def _vote_order(vote: Vote) -> tuple[int, int, int, int, bytes, int]:
    return (vote.validator, vote.height, vote.round, int(vote.type), vote.value_id or b"", vote.valid_round)


def _short(msg: Proposal | Vote) -> str:
    if isinstance(msg, Proposal):
        return f"proposal({msg.value_id.hex()[:8]}, pol={msg.pol_round})"
    value = msg.value_id.hex()[:8] if msg.value_id else "nil"
    return f"{msg.type.name.lower()}({value}, vr={msg.valid_round})"
