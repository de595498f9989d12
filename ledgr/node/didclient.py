"""Resolving a DID through one node, optionally as a certified read (``ledgr did resolve``).

The node's ``/v1/state/did/{did}`` answer holds the DID's head record and current version; they are
fed to the W3C DID resolver (``ledgr.did.resolver``) through a small record reader, so the printed
result is exactly what the ledger's resolver makes of those records.

With ``proof``: the answer must be a certified read under a validator set reached from the network's
genesis set: the genesis document is fetched from the node on first use and pinned under
``trust_dir`` (one file per chain id, trust on first use, like SSH's known_hosts; later runs refuse a
node whose genesis differs), and validator-set changes since (``ledgr validators add|remove|
rotate-key``) are followed header by header (:mod:`ledgr.node.setchain`) from the pinned
checkpoint when there is one (:mod:`ledgr.node.checkpoint`); a followed change moves it forward.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

from ledgr.did.records import DidHead, DidResource, DidVersion
from ledgr.did.resolver import resolve
from ledgr.errors import ConfigError, InvalidInput, LedgrError, Unavailable, VerificationFailed
from ledgr.ledger.formats import Header
from ledgr.ledger.genesis import Genesis
from ledgr.ledger.records import head_from_json, version_from_json
from ledgr.ledger.validators import ValidatorSet
from ledgr.node import setchain
from ledgr.node.certified import verify_state_answer
from ledgr.node.checkpoint import (
    Checkpoint,
    checkpoint_from_block,
    load_checkpoint,
    read_checkpoint_file,
    save_checkpoint,
)

MAX_BYTES = 8 << 20


def default_trust_dir() -> Path:
    return Path.home() / ".config" / "ledgr" / "trust"


def fetch_json(base: str, path: str, timeout_s: float = 15.0) -> tuple[int, Any]:
    if not base.startswith(("http://", "https://")):
        raise InvalidInput(f"node URL must start with http:// or https:// (got {base!r})")
    try:
        with urllib.request.urlopen(base.rstrip("/") + path, timeout=timeout_s) as response:
            return response.status, json.loads(response.read(MAX_BYTES))
    except urllib.error.HTTPError as exc:
        try:
            return exc.code, json.loads(exc.read(MAX_BYTES))
        except ValueError:
            return exc.code, {}
    except (urllib.error.URLError, OSError, ValueError) as exc:
        raise Unavailable(f"cannot reach node at {base}: {getattr(exc, 'reason', exc)}") from exc


class AnswerRecords:
    """A ``DidRecordReader`` over the head and current version one node returned."""

    def __init__(self, did: str, head: dict[str, Any] | None, version: dict[str, Any] | None) -> None:
        self._did = did
        self._head = head_from_json(did, head) if head is not None else None
        self._version = version_from_json(version) if version is not None else None

    def did_head(self, did: str) -> DidHead | None:
        return self._head if did == self._did else None

    def did_version(self, did: str, seq: int) -> DidVersion | None:
        if did == self._did and self._version is not None and self._version.seq == seq:
            return self._version
        return None

    def did_resource(self, did: str, resource_id: str) -> DidResource | None:
        return None


def pinned_genesis(base: str, trust_dir: Path) -> Genesis:
    """The pinned genesis of the node's chain; fetched and pinned the first time."""
    status, body = fetch_json(base, "/v1/genesis")
    if status != 200:
        raise Unavailable(f"{base} does not serve its genesis document (HTTP {status})")
    try:
        offered = Genesis.from_json(body["genesis"])
    except (KeyError, TypeError, LedgrError) as exc:
        raise VerificationFailed(f"{base} served a malformed genesis document") from exc
    path = trust_dir / f"{offered.chain_id}.genesis.json"
    if path.exists():
        try:
            pinned = Genesis.from_json(json.loads(path.read_text()))
        except (ValueError, LedgrError) as exc:
            raise ConfigError(f"pinned genesis {path} is unreadable; remove it to re-pin") from exc
        if pinned.hash() != offered.hash():
            raise VerificationFailed(f"{base} serves a genesis for chain {offered.chain_id} that differs "
                                     f"from the one pinned in {path}; refusing to trust it")
        return pinned
    trust_dir.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(offered.to_json(), indent=2))
    return offered


def trust_anchor(base: str, trust_dir: Path) -> tuple[Genesis, Checkpoint | None, ValidatorSet]:
    """The pinned genesis, the pinned checkpoint (if any) and the validator set to start from."""
    genesis = pinned_genesis(base, trust_dir)
    anchor = load_checkpoint(trust_dir, genesis)
    return genesis, anchor, genesis.validator_set if anchor is None else anchor.validators


def trusted_set_for(base: str, answer: dict[str, Any], pinned: ValidatorSet) -> ValidatorSet:
    """The set that signed ``answer``, reached from the ``pinned`` set by following the validator-set
    changes the node reports, each checked against a header the previous set signed
    (:mod:`ledgr.node.setchain`)."""
    try:
        target = Header.decode(bytes.fromhex(answer["header"]["encoded"])).validators_hash
    except (KeyError, TypeError, ValueError, LedgrError) as exc:
        raise VerificationFailed("the answer holds no decodable header (ask with ?proof=true)",
                                 check="shape") from exc
    if target == pinned.hash():
        return pinned
    status, current = fetch_json(base, "/v1/state/validators/current")
    if status != 200 or not isinstance(current, dict):
        raise Unavailable(f"{base} does not serve its validator record (HTTP {status})")
    entries = current.get("entries", {})
    record = (entries.get("validators") or {}).get("value")
    history = (entries.get("history") or {}).get("value")
    if not isinstance(record, dict):
        raise VerificationFailed(f"{base} served no validator record", check="validators")

    def fetch_block(height: int) -> dict[str, Any]:
        code, block = fetch_json(base, f"/v1/blocks/{height}")
        if code != 200 or not isinstance(block, dict):
            raise Unavailable(f"{base} does not serve block {height} (HTTP {code})")
        return block

    return setchain.follow(pinned, target, record, history if isinstance(history, dict) else None,
                           fetch_block)


def resolve_from_node(base: str, did: str, proof: bool, trust_dir: Path | None = None,
                      max_age_ms: int | None = None) -> dict[str, Any]:
    """The DID Resolution result for ``did`` as node ``base`` answers it (checked if ``proof``)."""
    quoted = urllib.parse.quote(did, safe=":")
    status, answer = fetch_json(base, f"/v1/state/did/{quoted}" + ("?proof=true" if proof else ""))
    if status == 404 and not proof:
        return resolve(did, AnswerRecords(did, None, None)).to_json()
    if status >= 400:
        detail = answer.get("detail") if isinstance(answer, dict) else None
        if status == 400:
            return resolve(did).to_json()
        raise Unavailable(f"{base}: {detail or f'HTTP {status}'}")
    entries = answer.get("entries", {})
    head = (entries.get("head") or {}).get("value")
    version = (entries.get("version") or {}).get("value")
    result = resolve(did, AnswerRecords(did, head, version)).to_json()
    if proof:
        trust = trust_dir or default_trust_dir()
        genesis, anchor, start = trust_anchor(base, trust)
        validators = trusted_set_for(base, answer, start)
        checked = verify_state_answer(answer, validators, now_ms=time.time_ns() // 1_000_000,
                                      max_age_ms=max_age_ms)
        if validators.hash() != start.hash():  # followed a set change: move the anchor forward
            header = Header.decode(bytes.fromhex(answer["header"]["encoded"]))
            save_checkpoint(trust, Checkpoint(genesis.chain_id, genesis.hash(), header.height, header.hash(),
                                              validators))
        result["didResolutionMetadata"]["ledgrCertifiedRead"] = {
            "verified": True, "height": checked.height, "blockTime": answer["header"]["time"],
            "ageMs": checked.age_ms, "appRoot": checked.app_root.hex(),
            "validatorsHash": validators.hash().hex(), "chainId": genesis.chain_id,
            "trustAnchorHeight": 0 if anchor is None else anchor.height,
        }
    return result


def import_checkpoint(base: str, path: Path, trust_dir: Path | None = None) -> Checkpoint:
    """Pin a checkpoint published out of band (``ledgr ledger checkpoint``), after checking that it
    names the pinned genesis and that the node holds that very block, certified by the checkpoint's
    set — a typo or another network's file is refused."""
    trust = trust_dir or default_trust_dir()
    genesis = pinned_genesis(base, trust)
    offered = read_checkpoint_file(path)
    if offered.chain_id != genesis.chain_id or offered.genesis_hash != genesis.hash():
        raise VerificationFailed(f"checkpoint {path} is for another network than {base} serves",
                                 check="chain")
    code, block = fetch_json(base, f"/v1/blocks/{offered.height}")
    if code != 200 or not isinstance(block, dict):
        raise Unavailable(f"{base} does not serve block {offered.height} (HTTP {code})")
    found = checkpoint_from_block(genesis, block, offered.validators)
    if found.block_hash != offered.block_hash:
        raise VerificationFailed(f"{base} holds another block at height {offered.height} than the checkpoint",
                                 check="block")
    save_checkpoint(trust, offered)
    return offered


def latest_checkpoint(base: str, trust_dir: Path | None = None) -> Checkpoint:
    """A checkpoint at the node's latest block, reached from this verifier's own anchor (pinned
    genesis or checkpoint) through verified set changes — what operators publish for new verifiers."""
    trust = trust_dir or default_trust_dir()
    genesis, _anchor, start = trust_anchor(base, trust)
    code, block = fetch_json(base, "/v1/blocks/latest")
    if code != 200 or not isinstance(block, dict):
        raise Unavailable(f"{base} does not serve its latest block (HTTP {code})")
    found = checkpoint_from_block(genesis, block, trusted_set_for(base, block, start))
    save_checkpoint(trust, found)
    return found
