"""The genesis document: chain id, genesis time, initial validators (node + admin keys), parameters.

JSON (snake_case members, exactly these)::

    {"chain_id": "ledgr-pilot", "genesis_time_ms": 1764000000000,
     "validator_set": {"quorum": "bft", "validators": [{"name", "node_key", "admin_key"}, ...]},
     "params": {"max_block_ops": 1000}}

``genesis_hash = sha256("ledgr/genesis/v1\\0" ‖ RFC 8785 bytes)``. It is block 1's ``prev_hash`` and
the first version hash of the validator set. :func:`genesis_result` gives the writes that initialise
a store (height 0; the tip's block hash is the genesis hash).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ledgr.crypto import canonicalize, sha256
from ledgr.errors import InvalidInput
from ledgr.ledger import limits
from ledgr.ledger.formats import check_chain_id
from ledgr.ledger.records import ChainRecord, ValidatorRecord, encode
from ledgr.ledger.smt import EMPTY, apply_updates
from ledgr.ledger.state import CHAIN_KEY, TIP_KEY, VALIDATORS_KEY, Tip
from ledgr.ledger.validators import ValidatorSet

GENESIS_DOMAIN = b"ledgr/genesis/v1\x00"
DEFAULT_PARAMS: dict[str, Any] = {"max_block_ops": 1000}
# Optional parameters: absent from a genesis means the default, and they are not filled in, so a
# genesis written before a parameter existed keeps its hash.
OPTIONAL_PARAMS: dict[str, int] = {"evidence_max_age_heights": 100_000}
_MEMBERS = {"chain_id", "genesis_time_ms", "validator_set", "params"}


@dataclass(frozen=True, slots=True)
class Genesis:
    chain_id: str
    genesis_time_ms: int
    validator_set: ValidatorSet
    params: dict[str, Any]

    def to_json(self) -> dict[str, Any]:
        return {"chain_id": self.chain_id, "genesis_time_ms": self.genesis_time_ms,
                "validator_set": self.validator_set.to_json(), "params": dict(self.params)}

    def hash(self) -> bytes:
        return sha256(GENESIS_DOMAIN + canonicalize(self.to_json()))

    @classmethod
    def from_json(cls, value: Any) -> Genesis:
        if not isinstance(value, dict) or set(value) != _MEMBERS:
            raise InvalidInput(f"a genesis document has exactly the members {sorted(_MEMBERS)}")
        time_ms = value["genesis_time_ms"]
        if not isinstance(time_ms, int) or isinstance(time_ms, bool) or not 0 <= time_ms <= limits.MAX_HEIGHT:
            raise InvalidInput("genesis_time_ms must be a non-negative integer (Unix ms)")
        return cls(chain_id=check_chain_id(value["chain_id"]), genesis_time_ms=time_ms,
                   validator_set=ValidatorSet.from_json(value["validator_set"]),
                   params=check_params(value["params"]))


def check_params(value: Any) -> dict[str, Any]:
    known = set(DEFAULT_PARAMS) | set(OPTIONAL_PARAMS)
    if not isinstance(value, dict) or set(value) - known:
        raise InvalidInput(f"params may only hold {sorted(known)}")
    params = {**DEFAULT_PARAMS, **value}
    max_ops = params["max_block_ops"]
    if not isinstance(max_ops, int) or isinstance(max_ops, bool) or not 1 <= max_ops <= limits.MAX_BLOCK_OPS:
        raise InvalidInput(f"max_block_ops must be 1..{limits.MAX_BLOCK_OPS}")
    max_age = params.get("evidence_max_age_heights", 1)
    if not isinstance(max_age, int) or isinstance(max_age, bool) or not 1 <= max_age <= limits.MAX_HEIGHT:
        raise InvalidInput("evidence_max_age_heights must be a positive integer")
    return params


def evidence_max_age_heights(params: dict[str, Any]) -> int:
    """How many heights back equivocation evidence is accepted (and validator sets are kept).

    Why a bound: a retired node key that leaks later could otherwise sign "evidence" about the
    heights it once voted on; an operator must keep a retired key secret only for this long. The
    default (100,000 heights: about a day at one block per second, weeks at the idle heartbeat) is
    CometBFT's default ``evidence.max_age_num_blocks``.
    """
    value = params.get("evidence_max_age_heights", OPTIONAL_PARAMS["evidence_max_age_heights"])
    return int(value)


def genesis_writes(genesis: Genesis) -> tuple[dict[bytes, bytes | None], dict[bytes, bytes], bytes]:
    """State writes, SMT nodes and app_root of the state before block 1."""
    genesis_hash = genesis.hash()
    writes: dict[bytes, bytes | None] = {
        CHAIN_KEY: encode(ChainRecord(genesis.chain_id, genesis_hash.hex(), genesis.params).to_json()),
        VALIDATORS_KEY: encode(ValidatorRecord(active=genesis.validator_set, pending=None, activates_at=None,
                                               version_hash=genesis_hash.hex()).to_json()),
    }
    updates = {sha256(k): None if v is None else sha256(v) for k, v in writes.items()}
    root, nodes = apply_updates(lambda _h: None, EMPTY, updates)
    writes[TIP_KEY] = Tip(height=0, block_hash=genesis_hash, app_root=root,
                          time_ms=genesis.genesis_time_ms).encode()
    return writes, nodes, root
