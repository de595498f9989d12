"""Self-contained, third-party-verifiable proof that a validator misbehaved (consensus.md §1.1).

Two signed votes of one validator at one height prove misbehaviour when they are

- **equivocation**: two different votes of the same type and round; or
- **amnesia** (accountable Tendermint): a ``precommit(v, r)`` and a later ``prevote(v' ≠ v, r' > r)``
  whose ``valid_round < r``. A correct validator that precommitted ``v`` in ``r`` is locked at a round
  ``≥ r`` and only prevotes another value on a polka from a round ``≥`` its lock (paper line 28;
  the core sets a prevote's ``valid_round`` to the polka it relied on), so it never signs this pair.

Neither pattern is ever produced by a correct validator, so a correct node is never accused. With
these two rules any fork leaves at least ``2q−n`` culprits (the quorum overlap).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import IntEnum

from ledgr.consensus._wire import Reader, Writer
from ledgr.consensus.codec import decode_message, encode_message
from ledgr.consensus.messages import Vote, VoteType
from ledgr.consensus.signbytes import check_chain_id
from ledgr.consensus.signing import Ed25519Verifier, Verifier
from ledgr.consensus.validators import ValidatorSet
from ledgr.crypto import PublicKey
from ledgr.errors import InvalidEncoding, InvalidInput, VerificationFailed

EVIDENCE_VERSION = 1
MAX_EVIDENCE_BYTES = 1024
_DEFAULT_VERIFIER = Ed25519Verifier()


class EvidenceKind(IntEnum):
    EQUIVOCATION = 1
    AMNESIA = 2


@dataclass(frozen=True, slots=True)
class Evidence:
    """Two conflicting votes signed by the validator whose consensus key is ``validator_key``."""

    chain_id: str
    kind: EvidenceKind
    validator_key: bytes
    first: Vote
    second: Vote

    @property
    def height(self) -> int:
        return self.first.height


def conflict_kind(a: Vote, b: Vote) -> EvidenceKind | None:
    """The misbehaviour two votes of one validator prove, if any (order-insensitive for amnesia)."""
    if a.validator != b.validator or a.height != b.height:
        return None
    if a.type == b.type and a.round == b.round:
        return EvidenceKind.EQUIVOCATION if a.unsigned() != b.unsigned() else None
    if _is_amnesia(a, b) or _is_amnesia(b, a):
        return EvidenceKind.AMNESIA
    return None


def _is_amnesia(precommit: Vote, prevote: Vote) -> bool:
    return (precommit.type is VoteType.PRECOMMIT and precommit.value_id is not None
            and prevote.type is VoteType.PREVOTE and prevote.value_id is not None
            and prevote.value_id != precommit.value_id and prevote.round > precommit.round
            and prevote.valid_round < precommit.round)


def make_evidence(chain_id: str, key: PublicKey, a: Vote, b: Vote) -> Evidence | None:
    """Evidence from two votes in a canonical order, or ``None`` when they do not conflict."""
    kind = conflict_kind(a, b)
    if kind is None:
        return None
    if kind is EvidenceKind.AMNESIA:
        first, second = (a, b) if a.type is VoteType.PRECOMMIT else (b, a)
    else:
        first, second = sorted((a, b), key=encode_message)
    return Evidence(chain_id, kind, key.raw, first, second)


def verify_evidence(evidence: Evidence, validators: ValidatorSet | None = None,
                    verifier: Verifier | None = None) -> None:
    """Raise :class:`VerificationFailed` unless ``evidence`` proves misbehaviour of its validator.

    Pass the validator set of ``evidence.height`` to also check that the key is the accused index.
    """
    check = verifier or _DEFAULT_VERIFIER
    check_chain_id(evidence.chain_id)
    if conflict_kind(evidence.first, evidence.second) is not evidence.kind:
        raise VerificationFailed("the two votes do not conflict as the evidence claims")
    try:
        key = PublicKey(evidence.validator_key)
    except InvalidInput as exc:
        raise VerificationFailed("evidence names no valid Ed25519 key") from exc
    if validators is not None and (evidence.first.validator >= validators.n
                                   or validators.key(evidence.first.validator) != key):
        raise VerificationFailed("the accused key is not that validator of the set")
    for vote in (evidence.first, evidence.second):
        if not check.verify_vote(evidence.chain_id, vote, key):
            raise VerificationFailed("an evidence vote's signature does not verify")


def detect_evidence(chain_id: str, validators: ValidatorSet, votes: Iterable[Vote]) -> list[Evidence]:
    """All conflicts among ``votes`` (signatures are assumed checked), one per pair, deterministic order."""
    by_validator: dict[int, list[Vote]] = {}
    for vote in votes:
        seen = by_validator.setdefault(vote.validator, [])
        if vote not in seen:
            seen.append(vote)
    found: list[Evidence] = []
    for index in sorted(by_validator):
        if index >= validators.n:
            continue
        mine = by_validator[index]
        for i, a in enumerate(mine):
            for b in mine[i + 1:]:
                ev = make_evidence(chain_id, validators.key(index), a, b)
                if ev is not None:
                    found.append(ev)
    return found


def encode_evidence(evidence: Evidence) -> bytes:
    chain = check_chain_id(evidence.chain_id)
    out = Writer().u8(EVIDENCE_VERSION).u8(int(evidence.kind)).u8(len(chain)).raw(chain)
    out.raw(evidence.validator_key)
    out.blob(encode_message(evidence.first)).blob(encode_message(evidence.second))
    return out.bytes()


def decode_evidence(data: bytes) -> Evidence:
    if len(data) > MAX_EVIDENCE_BYTES:
        raise InvalidEncoding("evidence is too large", limit=MAX_EVIDENCE_BYTES)
    reader = Reader(data, "evidence")
    try:
        if reader.u8() != EVIDENCE_VERSION:
            raise InvalidEncoding("unknown evidence encoding version")
        kind = EvidenceKind(reader.u8())
        chain_id = reader.raw(reader.u8()).decode("ascii")
        key = reader.raw(32)
        first, second = decode_message(reader.blob(512)), decode_message(reader.blob(512))
        reader.done()
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidEncoding("malformed evidence") from exc
    if not isinstance(first, Vote) or not isinstance(second, Vote):
        raise InvalidEncoding("evidence must hold two votes")
    return Evidence(chain_id, kind, key, first, second)
