"""Quorum arithmetic, QC verification and evidence verification."""

from __future__ import annotations

import pytest

from ledgr.consensus import (
    Evidence,
    EvidenceKind,
    VoteType,
    build_qc,
    decode_evidence,
    detect_evidence,
    encode_evidence,
    verify_evidence,
    verify_qc,
)
from ledgr.consensus.evidence import conflict_kind, make_evidence
from ledgr.errors import ConfigError, VerificationFailed
from tests.unit.consensus.harness import CHAIN, KEYS, signed_vote, vid, vset

PREVOTE, PRECOMMIT = VoteType.PREVOTE, VoteType.PRECOMMIT


@pytest.mark.parametrize(("n", "f", "q", "strict_q", "down", "culprits"), [
    (1, 0, 1, 1, 0, 1), (3, 0, 2, 3, 1, 1), (4, 1, 3, 3, 1, 2), (5, 1, 4, 4, 1, 3),
    (6, 1, 4, 5, 2, 2), (7, 2, 5, 5, 2, 3)])
def test_quorum_table_of_consensus_md(n: int, f: int, q: int, strict_q: int, down: int,
                                      culprits: int) -> None:
    vs = vset(n) if n <= 8 else None
    assert vs is not None
    derived = (vs.f, vs.q, vs.crash_tolerance, vs.accountable_culprits, vs.skip_threshold)
    assert derived == (f, q, down, culprits, f + 1)
    assert 2 * vs.q - n >= f + 1  # any two quorums share a correct validator
    assert vset(n, strict=True).q == strict_q


def test_proposer_rotates_with_height_and_round() -> None:
    vs = vset(3)
    assert [vs.proposer(h, r) for h, r in [(0, 0), (1, 0), (1, 1), (2, 2)]] == [0, 1, 2, 1]


def test_duplicate_or_empty_sets_are_configuration_errors() -> None:
    with pytest.raises(ConfigError):
        vset(0)
    from ledgr.consensus import ValidatorSet
    with pytest.raises(ConfigError):
        ValidatorSet([KEYS[0].public_key, KEYS[0].public_key])


def _qc(signers: list[int], tag: str = "A", round_: int = 1) -> object:
    return build_qc(signed_vote(i, PRECOMMIT, 5, round_, tag) for i in signers)


def test_a_quorum_of_precommits_verifies() -> None:
    qc = build_qc(signed_vote(i, PRECOMMIT, 5, 1, "A") for i in (3, 0, 2))
    assert qc.signers == (0, 2, 3)
    verify_qc(qc, vset(4), CHAIN)


@pytest.mark.parametrize(("why", "mutate"), [
    ("too few", lambda qc, vs: (build_qc(qc.votes()[:2]), vs)),
    ("other chain", lambda qc, vs: (qc, vs)),
    ("other set", lambda qc, vs: (qc, vset(5))),
    ("bad signature", lambda qc, vs: (type(qc)(qc.height, qc.round, qc.value_id, qc.signers,
                                               (bytes(64), *qc.signatures[1:])), vs)),
    ("other value", lambda qc, vs: (type(qc)(qc.height, qc.round, vid("B"), qc.signers, qc.signatures), vs)),
    ("index outside the set", lambda qc, vs: (type(qc)(qc.height, qc.round, qc.value_id, (0, 1, 2, 6),
                                                       (*qc.signatures, qc.signatures[0])), vs)),
])
def test_a_bad_qc_is_refused(why: str, mutate: object) -> None:
    qc = build_qc(signed_vote(i, PRECOMMIT, 5, 1, "A") for i in (0, 1, 2))
    bad, vs = mutate(qc, vset(4))  # type: ignore[operator]
    with pytest.raises(VerificationFailed):
        verify_qc(bad, vs, "other-chain" if why == "other chain" else CHAIN)


def test_equivocation_and_amnesia_are_detected_and_verifiable() -> None:
    vs = vset(4)
    a = signed_vote(2, PREVOTE, 5, 1, "A")
    b = signed_vote(2, PREVOTE, 5, 1, None)
    c = signed_vote(2, PRECOMMIT, 5, 0, "A")
    d = signed_vote(2, PREVOTE, 5, 3, "B", valid_round=-1)
    found = detect_evidence(CHAIN, vs, [a, b, c, d])
    kinds = sorted(e.kind for e in found)
    assert kinds == [EvidenceKind.EQUIVOCATION, EvidenceKind.AMNESIA]
    for item in found:
        verify_evidence(item, vs)
        assert decode_evidence(encode_evidence(item)) == item


@pytest.mark.parametrize(("first", "second"), [
    # relock: precommit A in r0, later prevote B relying on a polka from round ≥ 0
    (("pc", 0, "A", -1), ("pv", 2, "B", 1)),
    (("pc", 0, "A", -1), ("pv", 2, "B", 0)),
    # own locked value re-proposed fresh: the prevote carries the lock round
    (("pc", 0, "A", -1), ("pv", 1, "A", -1)),
    # nil prevotes and votes at other heights never conflict
    (("pc", 0, "A", -1), ("pv", 1, None, -1)),
    (("pv", 0, "A", -1), ("pc", 0, "A", -1)),
])
def test_what_correct_validators_sign_is_never_evidence(first: tuple, second: tuple) -> None:  # type: ignore
    def make(spec: tuple) -> object:  # type: ignore[type-arg]
        kind, round_, tag, vr = spec
        return signed_vote(1, PRECOMMIT if kind == "pc" else PREVOTE, 5, round_, tag, vr)
    assert conflict_kind(make(first), make(second)) is None  # type: ignore[arg-type]


def test_forged_or_mismatched_evidence_is_refused() -> None:
    vs = vset(4)
    a, b = signed_vote(2, PREVOTE, 5, 1, "A"), signed_vote(2, PREVOTE, 5, 1, "B")
    good = make_evidence(CHAIN, KEYS[2].public_key, a, b)
    assert good is not None
    with pytest.raises(VerificationFailed):
        verify_evidence(Evidence(CHAIN, good.kind, KEYS[3].public_key.raw, good.first, good.second), vs)
    with pytest.raises(VerificationFailed):
        verify_evidence(Evidence(CHAIN, good.kind, good.validator_key, good.first,
                                 good.second.signed(bytes(64))), vs)
    with pytest.raises(VerificationFailed):
        verify_evidence(Evidence(CHAIN, EvidenceKind.AMNESIA, good.validator_key, good.first,
                                 good.second), vs)
    assert make_evidence(CHAIN, KEYS[2].public_key, a, a) is None
