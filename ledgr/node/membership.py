"""Live validator changes from the operators' side (consensus.md §3; issue 7 "Growth").

A change is a *proposal*: the complete new validator set plus what every approval signs — chain id,
``prev`` (the validator record's current version hash), ``valid_until_height`` and ``force``
(``ledgr.ledger.rules_validators.approval_bytes``). The proposal travels between operators as one
JSON file that accumulates approvals::

    {"type": "ledgr-validators-proposal", "chain_id", "prev", "valid_until_height", "force",
     "change", "validator_set", "approvals": [{"admin_key", "signature"}, ...]}

Each operator checks the proposal against their own node (same chain, same ``prev``) and the change
it describes before signing it with their cold admin key. Once the approvals reach the current
set's quorum, any current operator submits it as a ``validators.update`` operation signed with
their admin key; the ledger re-checks everything (quorum of distinct current admin keys, ``prev``,
safety of the new set) and the new set signs from H+2.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ledgr.crypto import PrivateKey, PublicKey
from ledgr.crypto.multibase import decode
from ledgr.errors import InvalidInput, InvalidKey, LedgrError
from ledgr.ledger.author import validators_update
from ledgr.ledger.records import ValidatorRecord
from ledgr.ledger.rules_validators import approval_bytes, approve
from ledgr.ledger.validators import Validator, ValidatorSet

PROPOSAL_TYPE = "ledgr-validators-proposal"
MAX_PROPOSAL_BYTES = 64 << 10


@dataclass(frozen=True)
class Proposal:
    chain_id: str
    prev: str
    valid_until_height: int
    force: bool
    change: str
    validator_set: ValidatorSet
    approvals: tuple[dict[str, str], ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {"type": PROPOSAL_TYPE, "chain_id": self.chain_id, "prev": self.prev,
                "valid_until_height": self.valid_until_height, "force": self.force, "change": self.change,
                "validator_set": self.validator_set.to_json(), "approvals": list(self.approvals)}

    @classmethod
    def from_json(cls, value: Any) -> Proposal:
        fields = {"type", "chain_id", "prev", "valid_until_height", "force", "change", "validator_set",
                  "approvals"}
        if not isinstance(value, dict) or set(value) != fields or value["type"] != PROPOSAL_TYPE:
            raise InvalidInput(f"not a validators proposal (a JSON object of type {PROPOSAL_TYPE!r})")
        approvals = value["approvals"]
        if not isinstance(approvals, list) or not all(isinstance(a, dict) for a in approvals):
            raise InvalidInput("approvals must be a list of {admin_key, signature}")
        if not isinstance(value["valid_until_height"], int) or not isinstance(value["force"], bool):
            raise InvalidInput("valid_until_height must be an integer and force a boolean")
        for name in ("chain_id", "prev", "change"):
            if not isinstance(value[name], str):
                raise InvalidInput(f"{name} must be a string")
        return cls(chain_id=value["chain_id"], prev=value["prev"],
                   valid_until_height=value["valid_until_height"], force=value["force"],
                   change=value["change"], validator_set=ValidatorSet.from_json(value["validator_set"]),
                   approvals=tuple(approvals))

    def message(self) -> bytes:
        return approval_bytes(self.chain_id, bytes.fromhex(self.prev), self.validator_set.to_json(),
                              self.valid_until_height, self.force)

    def approved_by(self, key: PrivateKey) -> Proposal:
        """This proposal with ``key``'s approval added (replacing an earlier one by the same key)."""
        entry = approve(key, self.chain_id, bytes.fromhex(self.prev), self.validator_set,
                        self.valid_until_height, force=self.force)
        kept = tuple(a for a in self.approvals if a.get("admin_key") != entry["admin_key"])
        return Proposal(self.chain_id, self.prev, self.valid_until_height, self.force, self.change,
                        self.validator_set, (*kept, entry))

    def merged(self, other: Proposal) -> Proposal:
        """Approvals of two copies of the same proposal (approvals collected in parallel)."""
        if (other.chain_id, other.prev, other.valid_until_height, other.force, other.validator_set) != (
                self.chain_id, self.prev, self.valid_until_height, self.force, self.validator_set):
            raise InvalidInput("the approval files are for different proposals")
        known = {a.get("admin_key") for a in self.approvals}
        extra = tuple(a for a in other.approvals if a.get("admin_key") not in known)
        return Proposal(self.chain_id, self.prev, self.valid_until_height, self.force, self.change,
                        self.validator_set, self.approvals + extra)

    def valid_approvers(self, current: ValidatorSet) -> set[str]:
        """Admin keys of the current set whose approval signature verifies."""
        admins = {k.multikey for k in current.admin_keys()}
        message = self.message()
        good: set[str] = set()
        for entry in self.approvals:
            key_text = entry.get("admin_key", "")
            if key_text not in admins:
                continue
            try:
                if PublicKey.from_multikey(key_text).verify(message, decode(entry.get("signature", ""))):
                    good.add(key_text)
            except LedgrError:
                continue
        return good

    def only_valid(self, current: ValidatorSet) -> Proposal:
        """Without approvals the ledger would refuse (unknown keys, bad signatures, duplicates)."""
        good = self.valid_approvers(current)
        kept: list[dict[str, str]] = []
        for entry in self.approvals:
            if entry.get("admin_key") in good and entry not in kept:
                kept.append(entry)
                good.discard(entry["admin_key"])
        return Proposal(self.chain_id, self.prev, self.valid_until_height, self.force, self.change,
                        self.validator_set, tuple(kept))

    def envelope(self, submitter: PrivateKey) -> bytes:
        return validators_update(self.validator_set, list(self.approvals), prev=bytes.fromhex(self.prev),
                                 admin_key=submitter, chain_id=self.chain_id,
                                 valid_until_height=self.valid_until_height, force=self.force)


def _key(text: str, what: str) -> PublicKey:
    try:
        return PublicKey.from_multikey(text)
    except (InvalidKey, LedgrError) as exc:
        raise InvalidInput(f"{what} must be an Ed25519 Multikey (z6Mk…)") from exc


def _find(current: ValidatorSet, name: str) -> int:
    for i, v in enumerate(current.validators):
        if v.name == name:
            return i
    raise InvalidInput(f"no validator named {name!r} in the current set "
                       f"({', '.join(v.name for v in current.validators)})")


def added(current: ValidatorSet, name: str, node_key: str, admin_key: str) -> ValidatorSet:
    new = Validator(name=name, node_key=_key(node_key, "node key"), admin_key=_key(admin_key, "admin key"))
    return ValidatorSet((*current.validators, new), current.quorum_mode)


def removed(current: ValidatorSet, name: str) -> ValidatorSet:
    index = _find(current, name)
    return ValidatorSet(current.validators[:index] + current.validators[index + 1:], current.quorum_mode)


def rotated(current: ValidatorSet, name: str, node_key: str) -> ValidatorSet:
    index = _find(current, name)
    old = current.validators[index]
    new = Validator(name=old.name, node_key=_key(node_key, "new node key"), admin_key=old.admin_key)
    members = list(current.validators)
    members[index] = new
    return ValidatorSet(tuple(members), current.quorum_mode)


def record_from_state(answer: dict[str, Any]) -> ValidatorRecord:
    """The validator record from ``GET /v1/state/validators/current``."""
    value = answer.get("entries", {}).get("validators", {}).get("value")
    if not isinstance(value, dict):
        raise InvalidInput("the node returned no validator record")
    return ValidatorRecord.from_json(value)
