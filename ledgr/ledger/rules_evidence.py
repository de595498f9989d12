"""``evidence.submit``: two conflicting signed votes of one validator, stored on the ledger (issue 7).

Two patterns (consensus.md §1.1, §3 item 5; :func:`classify`): **equivocation**, two votes of the
same type for the same height and round of this chain, for different values (two block hashes, or a
block hash and nil); and **amnesia**, a precommit for a block and a prevote of a later round for
another block that relied on no polka from the precommit's round or later. A correct validator never
signs either pair, so it is self-authenticating proof against the key that signed both; the ledger
stores it so that every node and every verifier sees the same accusation, with SMT proofs like any
other state. Operators, not code, decide what follows (CometBFT
leaves punishment to the application as well, ``spec/consensus/evidence.md``).

Body::

    {"validator": "<node key multikey>",
     "votes": [{"type": "prevote"|"precommit", "height", "round", "value_id": hex|null,
                "valid_round", "signature": hex}, {...}]}

``target`` is the evidence id (hex): ``sha256("ledgr/evidence-id/v1\\0" ‖ node key ‖ u64 height ‖
u64 round ‖ u8 tag)``, tag = the vote type (2 prevote, 3 precommit) for equivocation, 4 for amnesia
(round = the precommit's). The id names the offence, not the pair, so the same pair, the mirrored
pair, or another pair for the same validator/height/round/type is rejected (``evidence-exists``)
once one is stored: the ledger records *that* the validator equivocated there, once.

Who may submit: the envelope is signed by the node key of a validator of the current height
(``did:key:<node multikey>#<node multikey>``). The evidence authenticates itself, so the submitter
only limits who can put data on the ledger (spam) — the same keys that already write blocks. Replay
protection needs no ``prev`` (it must be null): the id makes a second commit impossible, and
``valid_until_height`` bounds how long an envelope may wait, as for every operation.

Age: votes older than ``evidence_max_age_heights`` (genesis parameter,
``ledgr.ledger.genesis.evidence_max_age_heights``) are rejected (``evidence-too-old``), and so are
votes of a height whose validator set is no longer kept (``ledgr.ledger.validator_history``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ledgr.crypto import sha256
from ledgr.crypto.keys import SIGNATURE_BYTES, PublicKey
from ledgr.did.key import did_key_verification_method
from ledgr.errors import InvalidInput, InvalidKey
from ledgr.ledger import limits
from ledgr.ledger.codec import u8, u64
from ledgr.ledger.context import ExecContext, reject, require_members
from ledgr.ledger.formats import PRECOMMIT_KIND, PREVOTE_KIND, vote_sign_bytes
from ledgr.ledger.genesis import evidence_max_age_heights
from ledgr.ledger.operations import Operation
from ledgr.ledger.queries import read_validator_record
from ledgr.ledger.records import encode
from ledgr.ledger.state import Overlay, StateReader, evidence_key
from ledgr.ledger.validator_history import active_since, past_set_for_height
from ledgr.ledger.validators import ValidatorSet

EVIDENCE_ID_DOMAIN = b"ledgr/evidence-id/v1\x00"
VOTE_TYPES = {"prevote": PREVOTE_KIND, "precommit": PRECOMMIT_KIND}
AMNESIA_TAG = 4
_VOTE_MEMBERS = {"type", "height", "round", "value_id", "valid_round", "signature"}


@dataclass(frozen=True, slots=True)
class SignedVote:
    """One vote as carried in the body (JSON form of a consensus prevote/precommit)."""

    type: str
    height: int
    round: int
    value_id: bytes | None
    valid_round: int
    signature: bytes

    def sign_bytes(self, chain_id: str) -> bytes:
        return vote_sign_bytes(chain_id, VOTE_TYPES[self.type], self.height, self.round, self.value_id,
                               self.valid_round)

    def to_json(self) -> dict[str, Any]:
        return {"type": self.type, "height": self.height, "round": self.round,
                "value_id": None if self.value_id is None else self.value_id.hex(),
                "valid_round": self.valid_round, "signature": self.signature.hex()}


def evidence_id(node_key: PublicKey, vote_type: str, height: int, round_: int) -> bytes:
    """The identity of one offence: this key, this height, round and vote type (``amnesia``: the
    round of the precommit it broke)."""
    tag = AMNESIA_TAG if vote_type == "amnesia" else VOTE_TYPES[vote_type]
    return sha256(EVIDENCE_ID_DOMAIN + node_key.raw + u64(height) + u64(round_) + u8(tag))


def offence_id(node_key: PublicKey, a: SignedVote, b: SignedVote) -> bytes:
    """The evidence id of a pair: equivocation when type and round agree, else amnesia."""
    if (a.type, a.round) == (b.type, b.round):
        return evidence_id(node_key, a.type, a.height, a.round)
    precommit = a if a.type == "precommit" else b
    return evidence_id(node_key, "amnesia", precommit.height, precommit.round)


def classify(a: SignedVote, b: SignedVote, chain_id: str) -> tuple[str, SignedVote, SignedVote]:
    """The offence two votes prove and the votes in canonical order, or a rejection.

    Equivocation: one type, height and round, different values (canonical order: by sign-bytes).
    Amnesia (accountable Tendermint; ``ledgr.consensus.evidence``): a ``precommit(v, r)`` and a
    ``prevote(v' ≠ v, r' > r)`` of one height whose ``valid_round < r`` — a correct validator locked
    on ``v`` in ``r`` only prevotes another value on a polka from round ``r`` or later (precommit first).
    """
    if a.height != b.height:
        raise reject("the two votes are for different heights", "evidence-mismatch")
    if (a.type, a.round) == (b.type, b.round):
        if a.value_id == b.value_id:
            raise reject("the two votes are for the same block; that is not equivocation",
                         "evidence-not-conflicting")
        first, second = sorted((a, b), key=lambda v: v.sign_bytes(chain_id))
        return "equivocation", first, second
    precommit, prevote = (a, b) if a.type == "precommit" else (b, a)
    if (precommit.type, prevote.type) != ("precommit", "prevote") or prevote.round <= precommit.round:
        raise reject("the two votes differ in type or round; evidence is two votes of one type for one "
                     "round (equivocation) or a precommit and a prevote of a later round (amnesia)",
                     "evidence-mismatch")
    if (precommit.value_id is None or prevote.value_id is None or prevote.value_id == precommit.value_id
            or prevote.valid_round >= precommit.round):
        raise reject("a later prevote is amnesia only for another block and relying on no polka from "
                     "the precommit's round or later", "evidence-not-conflicting")
    return "amnesia", precommit, prevote


def _int(value: Any, low: int, high: int, what: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise reject(f"{what} must be an integer in [{low}, {high}]", "malformed")
    return value


def _hex(value: Any, size: int, what: str) -> bytes:
    if not isinstance(value, str) or len(value) != 2 * size or value != value.lower():
        raise reject(f"{what} must be {2 * size} lowercase hex characters", "malformed")
    try:
        return bytes.fromhex(value)
    except ValueError as exc:
        raise reject(f"{what} is not hex", "malformed") from exc


def parse_vote(value: Any) -> SignedVote:
    if not isinstance(value, dict) or set(value) != _VOTE_MEMBERS:
        raise reject(f"each vote has exactly the members {sorted(_VOTE_MEMBERS)}", "malformed")
    vote_type = value["type"]
    if vote_type not in VOTE_TYPES:
        raise reject("vote type must be 'prevote' or 'precommit'", "malformed")
    round_ = _int(value["round"], 0, limits.MAX_ROUND, "vote round")
    valid_round = _int(value["valid_round"], -1, limits.MAX_ROUND, "vote valid_round")
    if valid_round >= round_ or (vote_type == "precommit" and valid_round != -1):
        raise reject("valid_round is -1 or an earlier round (always -1 for a precommit)", "malformed")
    value_id = None if value["value_id"] is None else _hex(value["value_id"], 32, "vote value_id")
    return SignedVote(type=vote_type, height=_int(value["height"], 1, limits.MAX_HEIGHT, "vote height"),
                      round=round_, value_id=value_id, valid_round=valid_round,
                      signature=_hex(value["signature"], SIGNATURE_BYTES, "vote signature"))


def validator_set_at(state: StateReader, height: int) -> ValidatorSet | None:
    """The set that signed ``height`` (≤ the height being executed), or None when no longer kept."""
    if height >= active_since(state):
        return read_validator_record(state).set_for_height(height)
    return past_set_for_height(state, height)


def _submitter(state: Overlay, op: Operation, ctx: ExecContext) -> PublicKey:
    current = read_validator_record(state).set_for_height(ctx.height)
    for member in current.validators:
        if did_key_verification_method(member.node_key) == op.verification_method:
            return member.node_key
    raise reject("evidence.submit must be signed by the node key of a current validator "
                 "(did:key:<node multikey>#<node multikey>)", "unauthorized-key")


def _check_signatures(chain_id: str, accused: PublicKey, votes: tuple[SignedVote, SignedVote],
                      validators: ValidatorSet) -> None:
    for vote in votes:
        message = vote.sign_bytes(chain_id)
        if accused.verify(message, vote.signature):
            continue
        if any(m.node_key.verify(message, vote.signature) for m in validators.validators
               if m.node_key != accused):
            raise reject("the votes were signed by different validators; that is not equivocation",
                         "evidence-wrong-signer")
        raise reject("a vote's signature does not verify under the accused validator's key",
                     "bad-signature")


def apply_evidence_submit(state: Overlay, op: Operation, ctx: ExecContext) -> None:
    require_members(op.body, {"validator", "votes"})
    if op.prev is not None:
        raise reject("evidence.submit must have prev null", "prev-mismatch")
    submitter = _submitter(state, op, ctx)
    if not op.signature_valid(submitter):
        raise reject("the operation signature does not verify", "bad-signature")
    try:
        accused = PublicKey.from_multikey(op.body["validator"])
    except (InvalidKey, InvalidInput, TypeError) as exc:
        raise reject("validator must be an Ed25519 Multikey", "malformed") from exc
    votes = op.body["votes"]
    if not isinstance(votes, list) or len(votes) != 2:
        raise reject("votes must hold exactly two votes", "malformed")
    kind, first, second = classify(parse_vote(votes[0]), parse_vote(votes[1]), ctx.chain.chain_id)
    height = first.height
    if height > ctx.height:
        raise reject(f"the votes are for height {height}, after the current height {ctx.height}",
                     "evidence-future")
    max_age = evidence_max_age_heights(ctx.chain.params)
    if ctx.height - height > max_age:
        raise reject(f"the votes are more than {max_age} heights old", "evidence-too-old")
    validators = validator_set_at(state, height)
    if validators is None:
        raise reject(f"the validator set of height {height} is no longer kept", "evidence-too-old")
    member = next((m for m in validators.validators if m.node_key == accused), None)
    if member is None:
        raise reject(f"{accused.multikey} is not a validator of height {height}", "unknown-validator")
    ident = offence_id(accused, first, second)
    if op.target != ident.hex():
        raise reject(f"target must be the evidence id {ident.hex()}", "invalid-target")
    if state.get(evidence_key(ident)) is not None:
        raise reject(f"this {kind} is already on the ledger", "evidence-exists")
    _check_signatures(ctx.chain.chain_id, accused, (first, second), validators)
    record = {
        "id": ident.hex(), "kind": kind, "validator": accused.multikey,
        "validator_name": member.name, "height": height, "round": first.round,
        "vote_type": first.type if kind == "equivocation" else None,
        "votes": [first.to_json(), second.to_json()], "submitted_by": submitter.multikey,
        "committed_height": ctx.height, "committed_ms": ctx.time_ms, "version_hash": op.hash.hex(),
    }
    state.put(evidence_key(ident), encode(record))
