"""Validator sets: members, quorum size and the ``validators_hash`` that headers commit to.

Quorum (consensus.md §1.1): ``f = floor((n-1)/3)``, ``q = ceil((n+f+1)/2)`` in ``bft`` mode (n=3 → 2);
``strict`` mode uses CometBFT's ``floor(2n/3)+1`` (n=3 → 3). The mode is part of the set and of its
hash, so a verifier holding a set knows the quorum it must see in a QC.

Each validator has a hot *node key* (signs consensus votes) and a cold *operator admin key* (approves
``validators.update``; consensus.md §3). Order matters: it is the signer-bitmap order of QCs and the
proposer rotation order.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from ledgr.crypto import sha256
from ledgr.crypto.keys import PublicKey
from ledgr.errors import InvalidInput, InvalidKey
from ledgr.ledger.codec import short_bytes, u8

VALIDATORS_DOMAIN = b"ledgr/validators/v1\x00"
MAX_VALIDATORS = 16
QUORUM_MODES = ("bft", "strict")
_NAME_RE = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


@dataclass(frozen=True, slots=True)
class Validator:
    name: str
    node_key: PublicKey
    admin_key: PublicKey

    def to_json(self) -> dict[str, str]:
        return {"name": self.name, "node_key": self.node_key.multikey, "admin_key": self.admin_key.multikey}

    @classmethod
    def from_json(cls, value: Any) -> Validator:
        if not isinstance(value, dict) or set(value) != {"name", "node_key", "admin_key"}:
            raise InvalidInput("a validator is an object with exactly name, node_key and admin_key")
        name = value["name"]
        if not isinstance(name, str) or not _NAME_RE.match(name):
            raise InvalidInput("validator name must be 1-64 characters of [A-Za-z0-9._-]")
        try:
            node_key = PublicKey.from_multikey(value["node_key"])
            admin_key = PublicKey.from_multikey(value["admin_key"])
        except (InvalidKey, TypeError) as exc:
            raise InvalidInput(f"validator {name}: node_key/admin_key must be Ed25519 Multikeys") from exc
        return cls(name=name, node_key=node_key, admin_key=admin_key)


@dataclass(frozen=True, slots=True)
class ValidatorSet:
    """An ordered, duplicate-free set of validators plus its quorum mode."""

    validators: tuple[Validator, ...]
    quorum_mode: str = "bft"

    def __post_init__(self) -> None:
        count = len(self.validators)
        if not 1 <= count <= MAX_VALIDATORS:
            raise InvalidInput(f"a validator set has 1 to {MAX_VALIDATORS} members, not {count}")
        if self.quorum_mode not in QUORUM_MODES:
            raise InvalidInput(f"quorum mode must be one of {QUORUM_MODES}")
        for attr in ("name", "node_key", "admin_key"):
            values = [getattr(v, attr) for v in self.validators]
            if len(set(values)) != count:
                raise InvalidInput(f"validator {attr.replace('_', ' ')}s must be distinct")
        node_keys = {v.node_key for v in self.validators}
        if node_keys & {v.admin_key for v in self.validators}:
            raise InvalidInput("an operator admin key must not also be a node key")

    @property
    def size(self) -> int:
        return len(self.validators)

    @property
    def max_faulty(self) -> int:
        """``f = floor((n-1)/3)``."""
        return (self.size - 1) // 3

    @property
    def quorum(self) -> int:
        """Signatures a QC needs: ``ceil((n+f+1)/2)`` (bft) or ``floor(2n/3)+1`` (strict)."""
        n = self.size
        if self.quorum_mode == "strict":
            return (2 * n) // 3 + 1
        return -(-(n + self.max_faulty + 1) // 2)

    def encode(self) -> bytes:
        """Hashing bytes: ``u8 mode ‖ u8 n ‖ (short name ‖ node key ‖ admin key)*``."""
        parts = [u8(QUORUM_MODES.index(self.quorum_mode)), u8(self.size)]
        for v in self.validators:
            parts.append(short_bytes(v.name.encode("ascii")) + v.node_key.raw + v.admin_key.raw)
        return b"".join(parts)

    def hash(self) -> bytes:
        return sha256(VALIDATORS_DOMAIN + self.encode())

    def index_of_node_key(self, key: PublicKey) -> int | None:
        for i, v in enumerate(self.validators):
            if v.node_key == key:
                return i
        return None

    def admin_keys(self) -> frozenset[PublicKey]:
        return frozenset(v.admin_key for v in self.validators)

    def proposer(self, height: int, round_: int) -> Validator:
        """Round-robin proposer ``validators[(h + r) mod n]`` (consensus.md §1.3)."""
        return self.validators[(height + round_) % self.size]

    def to_json(self) -> dict[str, Any]:
        return {"quorum": self.quorum_mode, "validators": [v.to_json() for v in self.validators]}

    @classmethod
    def from_json(cls, value: Any) -> ValidatorSet:
        if not isinstance(value, dict) or set(value) != {"quorum", "validators"}:
            raise InvalidInput("a validator set is an object with exactly quorum and validators")
        members = value["validators"]
        if not isinstance(members, list) or len(members) > MAX_VALIDATORS:
            raise InvalidInput(f"validators must be a list of at most {MAX_VALIDATORS} entries")
        mode = value["quorum"]
        if not isinstance(mode, str):
            raise InvalidInput("quorum must be a string")
        return cls(validators=tuple(Validator.from_json(m) for m in members), quorum_mode=mode)
