"""A verifier's checkpoint: a later trust anchor than genesis (docs/trust.md §1).

A checkpoint is ``(chain_id, genesis hash, height, block hash, validator set)``: the set that signs
from ``height`` on, as the verifier itself established it (by following validator-set changes from
its pinned genesis, :mod:`ledgr.node.setchain`) or as the operators published it out of band. With
one, a verifier starts following set changes from the checkpoint instead of genesis, so it no longer
depends on the ledger keeping the history of old sets (``validator-history`` keeps only what
evidence still needs) and is not exposed to old keys that left the set long ago — the light-client
"trusted state" of CometBFT, kept in the verifier's trust directory beside the pinned genesis.

Files are written atomically (temporary file + rename) and only ever moved forward in height.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ledgr.errors import ConfigError, InvalidInput, LedgrError, VerificationFailed
from ledgr.ledger.formats import Header, QuorumCertificate, verify_qc
from ledgr.ledger.genesis import Genesis
from ledgr.ledger.validators import ValidatorSet

MAX_CHECKPOINT_BYTES = 1 << 20


@dataclass(frozen=True)
class Checkpoint:
    chain_id: str
    genesis_hash: bytes
    height: int
    block_hash: bytes
    validators: ValidatorSet

    def to_json(self) -> dict[str, Any]:
        return {"chain_id": self.chain_id, "genesis_hash": self.genesis_hash.hex(), "height": self.height,
                "block_hash": self.block_hash.hex(), "validators": self.validators.to_json()}

    @classmethod
    def from_json(cls, value: Any) -> Checkpoint:
        try:
            height = int(value["height"])
            found = cls(str(value["chain_id"]), bytes.fromhex(value["genesis_hash"]), height,
                        bytes.fromhex(value["block_hash"]), ValidatorSet.from_json(value["validators"]))
        except (KeyError, TypeError, ValueError, LedgrError) as exc:
            raise InvalidInput(f"not a ledgr checkpoint: {exc}") from exc
        if height < 1 or len(found.genesis_hash) != 32 or len(found.block_hash) != 32:
            raise InvalidInput("not a ledgr checkpoint: height or hash out of range")
        return found


def checkpoint_path(trust_dir: Path, chain_id: str) -> Path:
    return trust_dir / f"{chain_id}.checkpoint.json"


def read_checkpoint_file(path: Path) -> Checkpoint:
    try:
        if path.stat().st_size > MAX_CHECKPOINT_BYTES:
            raise InvalidInput(f"checkpoint file {path} is larger than {MAX_CHECKPOINT_BYTES} bytes")
        return Checkpoint.from_json(json.loads(path.read_text(encoding="utf-8")))
    except FileNotFoundError as exc:
        raise InvalidInput(f"checkpoint file {path} does not exist") from exc
    except (OSError, ValueError) as exc:
        raise InvalidInput(f"cannot read checkpoint file {path}: {exc}") from exc


def load_checkpoint(trust_dir: Path, genesis: Genesis) -> Checkpoint | None:
    """The pinned checkpoint of ``genesis``'s chain, if any (it must name that very genesis)."""
    path = checkpoint_path(trust_dir, genesis.chain_id)
    if not path.exists():
        return None
    try:
        found = read_checkpoint_file(path)
    except InvalidInput as exc:
        raise ConfigError(f"pinned checkpoint {path} is unreadable; remove it to start from genesis") from exc
    if found.chain_id != genesis.chain_id or found.genesis_hash != genesis.hash():
        raise VerificationFailed(f"pinned checkpoint {path} belongs to another genesis than the pinned one",
                                 check="validators")
    return found


def save_checkpoint(trust_dir: Path, checkpoint: Checkpoint) -> bool:
    """Pin ``checkpoint`` unless the one already pinned is at the same height or later."""
    path = checkpoint_path(trust_dir, checkpoint.chain_id)
    if path.exists():
        try:
            if read_checkpoint_file(path).height >= checkpoint.height:
                return False
        except InvalidInput:
            pass  # an unreadable checkpoint is replaced by a verified one
    trust_dir.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".tmp")
    temporary.write_text(json.dumps(checkpoint.to_json(), indent=2), encoding="utf-8")
    os.replace(temporary, path)
    return True


def checkpoint_from_block(genesis: Genesis, block: dict[str, Any], validators: ValidatorSet) -> Checkpoint:
    """A checkpoint at ``block`` (an API block answer), after checking its QC against ``validators``."""
    try:
        header = Header.decode(bytes.fromhex(block["header"]["encoded"]))
        qc = QuorumCertificate.decode(bytes.fromhex(block["qc"]["encoded"]))
    except (KeyError, TypeError, ValueError, LedgrError) as exc:
        raise VerificationFailed("the block has no decodable header and QC", check="shape") from exc
    if header.chain_id != genesis.chain_id:
        raise VerificationFailed("the block belongs to another chain", check="chain")
    verify_qc(qc, header, validators)
    return Checkpoint(genesis.chain_id, genesis.hash(), header.height, header.hash(), validators)
