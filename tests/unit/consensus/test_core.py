"""The core's contract beyond single rules: persist-before-send, restart, buffering, relay, evidence,
membership per height, strict mode, observers, commits learned from peers or block sync."""

from __future__ import annotations

from ledgr.consensus import (
    BlockValidated,
    Broadcast,
    Commit,
    CommitReceived,
    Core,
    CoreConfig,
    Decide,
    Ed25519Signer,
    Persist,
    ProposalReceived,
    ReportEvidence,
    SendTo,
    Start,
    SyncedCommit,
    TimeoutKind,
    ValidateBlock,
    ValueReady,
    VoteReceived,
    VoteType,
    decode_state,
    verify_evidence,
    wiped_state,
)
from ledgr.consensus.evidence import EvidenceKind
from ledgr.crypto import PrivateKey
from tests.unit.consensus.harness import (
    CONFIG,
    KEYS,
    START_MS,
    Harness,
    signed_proposal,
    signed_vote,
    value,
    vid,
    vset,
)

PREVOTE, PRECOMMIT = VoteType.PREVOTE, VoteType.PRECOMMIT


def _decide_height_1(h: Harness, tag: str = "A") -> Decide:
    h.propose(0, tag)
    h.prevotes([1, 2], 0, tag)
    h.precommits([1, 2], 0, tag)
    return h.decisions()[-1]


def test_every_step_that_signs_persists_first() -> None:
    h = Harness()
    h.propose(0, "A")
    for who in (1, 2):
        h.vote(who, PREVOTE, 0, "A")
    signing_steps = 0
    for effects in h.steps:
        own = [e for e in effects if isinstance(e, Broadcast) and getattr(e.message, "validator", None) == 0]
        persists = [i for i, e in enumerate(effects) if isinstance(e, Persist)]
        assert len(persists) <= 1
        if own:
            signing_steps += 1
            assert persists == [0]
    assert signing_steps == 2  # the prevote and the precommit


def test_persisted_state_carries_lock_and_watermark() -> None:
    h = Harness()
    h.propose(0, "A")
    h.prevotes([1, 2], 0, "A")
    state = decode_state(h.last_persisted())
    assert (state.height, state.round, state.locked_round, state.locked_value_id) == (1, 0, 0, vid("A"))
    assert (state.valid_round, state.valid_value_id, state.valid_block) == (0, vid("A"), value("A")[1])
    assert len(state.polka) == 3 and state.watermark == (1, 0, 3)


def test_restart_resumes_and_never_signs_a_conflicting_vote() -> None:
    h = Harness()
    h.propose(0, "A")
    first = h.my_vote(PREVOTE)
    restarted = Harness(state=h.last_persisted())
    resent = restarted.sent_votes()
    assert resent == [first]
    restarted.timeout(TimeoutKind.PROPOSE, 0)
    assert restarted.sent_votes() == []
    restarted.propose(0, "B", proposer=1)
    assert restarted.sent_votes() == []
    assert restarted.core.round == 0


def test_restart_keeps_the_lock() -> None:
    h = Harness()
    h.propose(0, "A")
    h.prevotes([1, 2], 0, "A")
    restarted = Harness(state=h.last_persisted())
    assert restarted.core.locked == (0, vid("A"))
    restarted.timeout(TimeoutKind.PRECOMMIT, 0)
    restarted.propose(1, "B")
    assert restarted.my_vote(PREVOTE).value_id is None  # type: ignore[union-attr]


def test_state_from_a_height_the_chain_lacks_is_refused() -> None:
    h = Harness(height=5)
    try:
        Harness(height=4, state=h.last_persisted())
    except Exception as exc:
        assert type(exc).__name__ == "IntegrityError"
    else:
        raise AssertionError("a core restored at height 5 must not start height 4")


def test_wiped_validator_sits_out_the_height_it_resyncs_into() -> None:
    h = Harness(height=8, state=wiped_state(7))
    h.propose(0, "A")
    h.timeout(TimeoutKind.PROPOSE, 0)
    assert h.sent_votes() == [] and not [e for e in h.log if isinstance(e, Broadcast)]
    h.prevotes([1, 2, 3], 0, "A")
    h.precommits([1, 2, 3], 0, "A")
    assert len(h.decisions()) == 1
    h.step(Start(9, h.vs, 0))
    h.height = 9
    h.propose(0, "C")
    assert h.my_vote(PREVOTE) is not None


def test_messages_for_the_next_height_are_buffered_and_replayed() -> None:
    h = Harness()
    h.step(VoteReceived(signed_vote(1, PREVOTE, 2, 0, "N")))
    h.step(ProposalReceived(signed_proposal(2, 2, 0, "N", time_ms=h.now)))
    _decide_height_1(h)
    h.height = 2
    h.step(Start(2, h.vs, 1))
    assert h.my_vote(PREVOTE) is not None and h.my_vote(PREVOTE).value_id == vid("N")  # type: ignore[union-attr]
    h.prevotes([3], 0, "N")
    assert h.my_vote(PRECOMMIT).value_id == vid("N")  # type: ignore[union-attr]


def test_a_peer_still_on_our_decided_height_gets_the_commit() -> None:
    h = Harness()
    decision = _decide_height_1(h)
    effects = h.vote(3, PREVOTE, 1, None)
    [send] = [e for e in effects if isinstance(e, SendTo)]
    assert send.peer == KEYS[3].public_key.raw
    assert isinstance(send.message, Commit) and send.message.qc == decision.qc
    assert not [e for e in h.vote(3, PRECOMMIT, 1, None) if isinstance(e, SendTo)]


def test_a_relayed_commit_decides_after_validation() -> None:
    source = Harness(me=3)
    decision = _decide_height_1(source)
    h = Harness()
    effects = h.step(CommitReceived(Commit(decision.block, decision.time_ms, decision.qc)))
    assert any(isinstance(e, ValidateBlock) for e in effects)
    assert [d.value_id for d in h.decisions()] == [vid("A")]


def test_a_commit_with_a_bad_qc_is_ignored() -> None:
    source = Harness(me=3)
    decision = _decide_height_1(source)
    forged = Commit(value("B")[1], decision.time_ms, decision.qc)
    h = Harness()
    h.step(CommitReceived(forged))
    assert h.decisions() == []


def test_synced_commit_ends_the_height_without_a_decide() -> None:
    source = Harness(me=3)
    decision = _decide_height_1(source)
    h = Harness()
    assert h.step(SyncedCommit(Commit(decision.block, decision.time_ms, decision.qc))) == []
    assert h.core.decided and h.decisions() == []
    h.step(Start(2, h.vs, decision.time_ms))
    assert h.core.height == 2 and not h.core.decided


def test_bad_signatures_and_non_members_do_not_count() -> None:
    h = Harness()
    h.propose(0, "A")
    good = signed_vote(1, PREVOTE, 1, 0, "A")
    h.step(VoteReceived(good.signed(bytes(64))))
    outsider = signed_vote(7, PREVOTE, 1, 0, "A")
    h.step(VoteReceived(outsider))
    h.vote(2, PREVOTE, 0, "A")
    assert h.my_vote(PRECOMMIT) is None
    h.vote(1, PREVOTE, 0, "A")
    assert h.my_vote(PRECOMMIT) is not None


def test_a_proposal_from_the_wrong_proposer_is_ignored() -> None:
    h = Harness()
    h.propose(0, "A", proposer=2)
    assert h.my_vote(PREVOTE) is None


def test_double_vote_becomes_verifiable_evidence() -> None:
    h = Harness()
    h.vote(2, PREVOTE, 0, "A")
    effects = h.vote(2, PREVOTE, 0, "B")
    [report] = [e for e in effects if isinstance(e, ReportEvidence)]
    assert report.evidence.kind is EvidenceKind.EQUIVOCATION and report.evidence.first.validator == 2
    verify_evidence(report.evidence, h.vs)
    assert not [e for e in h.vote(2, PREVOTE, 0, "B") if isinstance(e, ReportEvidence)]


def test_amnesia_becomes_verifiable_evidence() -> None:
    h = Harness()
    h.vote(3, PRECOMMIT, 0, "A")
    effects = h.vote(3, PREVOTE, 1, "B", valid_round=-1)
    [report] = [e for e in effects if isinstance(e, ReportEvidence)]
    assert report.evidence.kind is EvidenceKind.AMNESIA
    verify_evidence(report.evidence, h.vs)


def test_the_next_height_may_have_a_different_validator_set() -> None:
    h = Harness()
    _decide_height_1(h)
    five = vset(5)
    h.vs, h.height = five, 2
    h.step(Start(2, five, 1))
    assert h.core.validators == five
    h.propose(0, "N")  # proposer (2 + 0) mod 5 = 2
    h.prevotes([1, 2], 0, "N")
    assert h.my_vote(PRECOMMIT) is None  # q = 4 now
    h.prevotes([4], 0, "N")
    assert h.my_vote(PRECOMMIT).value_id == vid("N")  # type: ignore[union-attr]


def test_n3_decides_with_one_validator_down_but_strict_mode_needs_all_three() -> None:
    normal = Harness(n=3)
    normal.propose(0, "A")
    normal.prevotes([1], 0, "A")
    normal.precommits([1], 0, "A")
    assert len(normal.decisions()) == 1
    strict = Harness(n=3, strict=True)
    strict.propose(0, "A")
    strict.prevotes([1], 0, "A")
    strict.precommits([1], 0, "A")
    assert strict.decisions() == []
    strict.prevotes([2], 0, "A")
    strict.precommits([2], 0, "A")
    assert len(strict.decisions()) == 1


def test_an_observer_decides_but_never_signs() -> None:
    observer = Core(CONFIG, Ed25519Signer(PrivateKey.from_seed(b"\x77" * 32)))
    log = observer.step(Start(1, vset(4), 0), START_MS)
    inputs = [ProposalReceived(signed_proposal(1, 1, 0, "A")),
              *[VoteReceived(signed_vote(w, t, 1, 0, "A")) for w in (1, 2, 3) for t in (PREVOTE, PRECOMMIT)]]
    for inp in inputs:
        effects = observer.step(inp, START_MS)
        for e in list(effects):
            if isinstance(e, ValidateBlock):
                effects += observer.step(BlockValidated(1, e.value_id, True), START_MS)
        log.extend(effects)
    assert [e.value_id for e in log if isinstance(e, Decide)] == [vid("A")]
    assert not [e for e in log if isinstance(e, Broadcast | SendTo)]
    assert observer.durable_state().watermark == (0, -1, 0)


def test_config_rejects_nonsense() -> None:
    bad = ({"chain_id": ""}, {"chain_id": "x", "max_round_skip": 0}, {"chain_id": "x", "clock_skew_ms": -1})
    for kwargs in bad:
        try:
            CoreConfig(**kwargs)  # type: ignore[arg-type]
        except Exception as exc:
            assert type(exc).__name__ in {"ConfigError", "InvalidInput"}
        else:
            raise AssertionError(f"accepted {kwargs}")


def test_a_failed_step_sends_nothing_and_the_next_step_persists() -> None:
    h = Harness(me=1)
    value_id, block = value("big")
    too_big = b"x" * (CONFIG.max_block_bytes + 1)
    try:
        h.step(ValueReady(1, 0, value_id, too_big))
    except Exception as exc:
        assert type(exc).__name__ == "InvalidInput"
    else:
        raise AssertionError("an oversize block must be refused")
    effects = h.step(ValueReady(1, 0, value_id, block))
    assert isinstance(effects[0], Persist)
    assert [e.message.value_id for e in effects if isinstance(e, Broadcast)][:1] == [value_id]
