"""Sign-bytes v1, wire encoding v1 and durable-state encoding v1: exact layouts, round trips, garbage."""

from __future__ import annotations

import contextlib
import struct

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ledgr.consensus import (
    SIGN_BYTES_DOMAIN,
    Commit,
    DurableState,
    Proposal,
    QuorumCertificate,
    Step,
    Vote,
    VoteType,
    decode_message,
    decode_qc,
    decode_state,
    encode_message,
    encode_qc,
    encode_state,
    precommit_sign_bytes,
    proposal_sign_bytes,
    vote_sign_bytes,
)
from ledgr.consensus.state import SignKind
from ledgr.errors import InvalidEncoding, InvalidInput, TooLarge
from tests.unit.consensus.harness import signed_proposal, signed_vote, vid

ID = bytes(range(32))


def test_precommit_sign_bytes_follow_the_documented_layout() -> None:
    expected = (b"ledgr/consensus/sign/v1\x00" + bytes([3, 5]) + b"chain" + struct.pack(">Qq", 7, 2)
                + b"\x01" + ID)
    assert precommit_sign_bytes("chain", 7, 2, ID) == expected
    assert vote_sign_bytes("chain", VoteType.PRECOMMIT, 7, 2, ID) == expected
    assert len(SIGN_BYTES_DOMAIN) == 24


def test_prevote_sign_bytes_include_valid_round_and_nil_has_no_value() -> None:
    with_value = vote_sign_bytes("c", VoteType.PREVOTE, 1, 3, ID, 1)
    assert with_value.endswith(b"\x01" + ID + struct.pack(">q", 1))
    nil = vote_sign_bytes("c", VoteType.PREVOTE, 1, 3, None, -1)
    assert nil.endswith(b"\x00" + struct.pack(">q", -1))
    assert vote_sign_bytes("c", VoteType.PREVOTE, 1, 3, ID, 2) != with_value


def test_proposal_sign_bytes_bind_value_pol_round_and_time() -> None:
    data = proposal_sign_bytes("c", 1, 2, ID, -1, 123)
    head = SIGN_BYTES_DOMAIN + bytes([1, 1]) + b"c" + struct.pack(">Qq", 1, 2)
    assert data == head + ID + struct.pack(">qQ", -1, 123)


def test_sign_bytes_separate_chains_types_heights_and_rounds() -> None:
    base = vote_sign_bytes("a", VoteType.PRECOMMIT, 1, 0, ID)
    others = [vote_sign_bytes("b", VoteType.PRECOMMIT, 1, 0, ID),
              vote_sign_bytes("a", VoteType.PREVOTE, 1, 0, ID),
              vote_sign_bytes("a", VoteType.PRECOMMIT, 2, 0, ID),
              vote_sign_bytes("a", VoteType.PRECOMMIT, 1, 1, ID)]
    assert len({base, *others}) == 5


@pytest.mark.parametrize("chain_id", ["", "x" * 65, "bad\nid", "ünï"])
def test_bad_chain_ids_are_refused(chain_id: str) -> None:
    with pytest.raises(InvalidInput):
        precommit_sign_bytes(chain_id, 1, 0, ID)


def _samples() -> list[Proposal | Vote | Commit]:
    votes = [signed_vote(i, VoteType.PRECOMMIT, 4, 1, "A") for i in (0, 2, 5)]
    qc = QuorumCertificate(4, 1, vid("A"), (0, 2, 5), tuple(v.signature for v in votes))
    return [signed_proposal(1, 4, 1, "A", pol_round=0, time_ms=99),
            signed_vote(2, VoteType.PREVOTE, 4, 3, "A", 1),
            signed_vote(3, VoteType.PREVOTE, 4, 0, None), votes[0], Commit(b"block", 5, qc)]


@pytest.mark.parametrize("message", _samples(), ids=lambda m: type(m).__name__)
def test_messages_round_trip_deterministically(message: Proposal | Vote | Commit) -> None:
    data = encode_message(message)
    assert decode_message(data) == message
    assert encode_message(decode_message(data)) == data


def test_qc_bitmap_and_standalone_encoding() -> None:
    commit = _samples()[-1]
    assert isinstance(commit, Commit)
    assert commit.qc.signer_bitmap(7) == bytes([0b10100100])
    assert decode_qc(encode_qc(commit.qc)) == commit.qc


@pytest.mark.parametrize("mangle", [
    lambda d: d[:-1], lambda d: d + b"\x00", lambda d: b"\x02" + d[1:], lambda d: d[:1] + b"\x09" + d[2:],
    lambda d: b"", lambda d: d[:2] + b"\x07" + d[3:]])
def test_garbage_is_a_clear_encoding_error(mangle: object) -> None:
    data = encode_message(signed_vote(1, VoteType.PREVOTE, 4, 1, "A"))
    with pytest.raises(InvalidEncoding):
        decode_message(mangle(data))  # type: ignore[operator]


def test_unsigned_messages_cannot_be_encoded() -> None:
    with pytest.raises(InvalidInput):
        encode_message(signed_vote(1, VoteType.PREVOTE, 4, 1, "A").unsigned())


def test_oversize_block_and_message_are_refused() -> None:
    big = Proposal(1, 0, ID, b"x" * 2000, 1, -1, 0, bytes(64))
    with pytest.raises(TooLarge):
        decode_message(encode_message(big), max_block_bytes=1000)
    with pytest.raises(TooLarge):
        decode_message(b"\x01" * (5000 + 4097), max_block_bytes=5000)


def test_a_huge_height_is_an_encoding_error_not_a_crash() -> None:
    data = bytearray(encode_message(signed_vote(1, VoteType.PREVOTE, 4, 1, "A")))
    data[3:11] = b"\xff" * 8
    with pytest.raises(InvalidEncoding):
        decode_message(bytes(data))


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=300))
def test_random_bytes_never_crash_the_decoder(data: bytes) -> None:
    with contextlib.suppress(InvalidEncoding, TooLarge):
        decode_message(data)


def test_durable_state_round_trips() -> None:
    vote = signed_vote(0, VoteType.PREVOTE, 3, 2, "A", 1)
    state = DurableState(3, 2, Step.PREVOTE, 1, vid("A"), 1, vid("A"), b"blk", 77,
                         (signed_vote(1, VoteType.PREVOTE, 3, 1, "A"),), 3, 2, SignKind.PREVOTE, (vote,))
    assert decode_state(encode_state(state)) == state
    with pytest.raises(InvalidEncoding):
        decode_state(encode_state(state)[:-3])
    with pytest.raises(InvalidEncoding):
        decode_state(b"\x09" + encode_state(state)[1:])
