"""A verifier following validator-set changes from its pinned set to the set of a newer answer
(docs/trust.md §2; consensus.md §3 item 4; CometBFT's sequential light client).

A change committed at H is announced by header H+1 (``next_validators_hash``), which the OLD set
signs, and signs from H+2 (``A``, the activation height). So for each change it is enough to verify
ONE header, ``A-1``, with the set already trusted and to accept the next set only if it hashes to
what that header announces. Heights between changes are signed by the same set, so they need no
check here (the final answer's own QC is verified against the set reached).

The candidate sets and activation heights come from the node itself, unverified: the validator
record and the ``validator-history`` record (``GET /v1/state/validators/current``). A node that
lies about them gains nothing: a set is only adopted when a header certified by the trusted set
announces its hash, and a hidden change makes the next check (or the final QC) fail. History older
than the ledger keeps (``evidence_max_age_heights``) cannot be followed; the error says to pin a
later checkpoint.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ledgr.errors import InvalidInput, LedgrError, VerificationFailed
from ledgr.ledger.formats import Header, QuorumCertificate, verify_qc
from ledgr.ledger.validators import ValidatorSet

BlockFetcher = Callable[[int], dict[str, Any]]
MAX_ERAS = 64


def eras(record: dict[str, Any], history: dict[str, Any] | None) -> list[tuple[int, ValidatorSet]]:
    """``(first height, set)`` of every configuration the node reports, oldest first."""
    try:
        found: list[tuple[int, ValidatorSet]] = []
        if history is not None:
            for entry in history["past"][:MAX_ERAS]:
                found.append((int(entry["from_height"]), ValidatorSet.from_json(entry["set"])))
            found.append((int(history["active_since"]), ValidatorSet.from_json(record["active"])))
        else:
            found.append((1, ValidatorSet.from_json(record["active"])))
        if record.get("pending") is not None and record.get("activates_at") is not None:
            found.append((int(record["activates_at"]), ValidatorSet.from_json(record["pending"])))
    except (KeyError, TypeError, ValueError, InvalidInput) as exc:
        raise VerificationFailed("the node's validator record or history is malformed",
                                 check="validators") from exc
    return sorted(found, key=lambda era: era[0])


def follow(trusted: ValidatorSet, target_hash: bytes, record: dict[str, Any], history: dict[str, Any] | None,
           fetch_block: BlockFetcher) -> ValidatorSet:
    """The set hashing to ``target_hash``, reached from ``trusted`` through verified headers."""
    if trusted.hash() == target_hash:
        return trusted
    known = eras(record, history)
    start = next((i for i, (_h, s) in enumerate(known) if s.hash() == trusted.hash()), None)
    if start is None:
        raise VerificationFailed("the node no longer reports the validator set this verifier trusts "
                                 "(changes older than the ledger's history); pin a later checkpoint",
                                 check="validators")
    current = trusted
    for first_height, incoming in known[start + 1:]:
        if incoming.hash() == current.hash():
            continue
        header, qc = _header_and_qc(fetch_block(first_height - 1), first_height - 1)
        verify_qc(qc, header, current)
        if header.next_validators_hash != incoming.hash():
            raise VerificationFailed(f"header {header.height} does not announce the validator set the node "
                                     f"reports for height {first_height}", check="validators")
        current = incoming
        if current.hash() == target_hash:
            return current
    raise VerificationFailed("the answer is signed by a validator set this verifier cannot reach from the "
                             "one it trusts", check="validators")


def _header_and_qc(block: dict[str, Any], height: int) -> tuple[Header, QuorumCertificate]:
    try:
        header = Header.decode(bytes.fromhex(block["header"]["encoded"]))
        qc = QuorumCertificate.decode(bytes.fromhex(block["qc"]["encoded"]))
    except (KeyError, TypeError, ValueError, LedgrError) as exc:
        raise VerificationFailed(f"block {height} has no decodable header and QC",
                                 check="validators") from exc
    if header.height != height:
        raise VerificationFailed(f"asked for block {height}, got {header.height}", check="validators")
    return header, qc
