"""Canonical sign-bytes of consensus messages, version 1 (the bytes Ed25519 signs).

Standalone and pure so the ledger's QC verifier reproduces them bit for bit. Layout (big-endian)::

    "ledgr/consensus/sign/v1" 0x00     24-byte domain tag (version in the tag)
    u8   kind                         1 = proposal, 2 = prevote, 3 = precommit
    u8   len(chain_id) ‖ chain_id      ASCII, 1..64 bytes
    u64  height
    i64  round
    proposal:  value_id[32] ‖ i64 pol_round ‖ u64 time_ms
    prevote:   u8 has_value ‖ value_id[32] if has_value ‖ i64 valid_round
    precommit: u8 has_value ‖ value_id[32] if has_value

A nil vote has ``has_value = 0`` and no value id. The validator index is not signed (the key
identifies the signer), so a QC signature is exactly ``precommit_sign_bytes(chain_id, h, r, id)``.
The domain tag keeps these bytes disjoint from every other ledgr signature (credentials, operations).
"""

from __future__ import annotations

from ledgr.consensus._wire import Writer
from ledgr.consensus.messages import VALUE_ID_BYTES, Proposal, Vote, VoteType
from ledgr.errors import InvalidInput

SIGN_BYTES_DOMAIN = b"ledgr/consensus/sign/v1\x00"
KIND_PROPOSAL = 1
MAX_CHAIN_ID_BYTES = 64


def check_chain_id(chain_id: str) -> bytes:
    """The chain id as bytes; it must be 1..64 printable ASCII characters."""
    if not isinstance(chain_id, str) or not 1 <= len(chain_id) <= MAX_CHAIN_ID_BYTES:
        raise InvalidInput(f"chain id must be a string of 1..{MAX_CHAIN_ID_BYTES} characters")
    if not chain_id.isascii() or not chain_id.isprintable():
        raise InvalidInput("chain id must be printable ASCII")
    return chain_id.encode("ascii")


def _head(kind: int, chain_id: str, height: int, round_: int) -> Writer:
    chain = check_chain_id(chain_id)
    return Writer().raw(SIGN_BYTES_DOMAIN).u8(kind).u8(len(chain)).raw(chain).u64(height).i64(round_)


def vote_sign_bytes(chain_id: str, vote_type: VoteType, height: int, round_: int,
                    value_id: bytes | None, valid_round: int = -1) -> bytes:
    """Sign-bytes of a prevote or precommit; ``valid_round`` is only part of a prevote's."""
    out = _head(int(vote_type), chain_id, height, round_)
    if value_id is None:
        out.u8(0)
    else:
        if len(value_id) != VALUE_ID_BYTES:
            raise InvalidInput(f"value id must be {VALUE_ID_BYTES} bytes")
        out.u8(1).raw(value_id)
    if vote_type is VoteType.PREVOTE:
        out.i64(valid_round)
    return out.bytes()


def precommit_sign_bytes(chain_id: str, height: int, round_: int, value_id: bytes) -> bytes:
    """What every signature of a QC for ``(height, round_, value_id)`` signs."""
    return vote_sign_bytes(chain_id, VoteType.PRECOMMIT, height, round_, value_id)


def proposal_sign_bytes(chain_id: str, height: int, round_: int, value_id: bytes,
                        pol_round: int, time_ms: int) -> bytes:
    """Sign-bytes of a proposal; the block itself is bound through its id (the block hash)."""
    if len(value_id) != VALUE_ID_BYTES:
        raise InvalidInput(f"value id must be {VALUE_ID_BYTES} bytes")
    return _head(KIND_PROPOSAL, chain_id, height, round_).raw(value_id).i64(pol_round).u64(time_ms).bytes()


def sign_bytes_of_vote(chain_id: str, vote: Vote) -> bytes:
    return vote_sign_bytes(chain_id, vote.type, vote.height, vote.round, vote.value_id, vote.valid_round)


def sign_bytes_of_proposal(chain_id: str, proposal: Proposal) -> bytes:
    return proposal_sign_bytes(chain_id, proposal.height, proposal.round, proposal.value_id,
                               proposal.pol_round, proposal.time_ms)
