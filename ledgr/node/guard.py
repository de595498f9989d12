"""Double-sign guard: never run a validator key whose local signing record is behind reality.

The consensus core refuses to sign anything at or below its persisted ``last_signed`` watermark
(``DurableState.watermark()``), which protects against crashes — but not against a data directory
restored from an old backup, or a second machine running a copy of the key, whose record is older
than what the key actually signed. Peers hold the evidence: each sends, in its STATUS frame, the
latest vote it received from this node (with the signature). The guard verifies that signature with
its own key (so a lying peer cannot fake it) and compares ``(height, round, kind)``:

- a peer shows a signed vote newer than the local record, at a height this node has not committed
  → refuse to start (a clear :class:`~ledgr.errors.ConfigError` telling the operator what happened);
- no local record at all (a new or wiped node) → start, but stay out of consensus until block sync
  has carried the node past every height at which peers saw it vote (:attr:`must_sync_past`).

Votes at heights the node has already committed cannot conflict with anything it will sign (the
core only signs at the next height and above), so they never stop a node — for example one that was
wiped, synced part of the chain and was restarted.
"""

from __future__ import annotations

from ledgr.consensus.codec import decode_message
from ledgr.consensus.messages import Vote
from ledgr.consensus.signing import Ed25519Verifier
from ledgr.consensus.state import decode_state
from ledgr.crypto import PublicKey
from ledgr.errors import ConfigError, LedgrError

Watermark = tuple[int, int, int]


def vote_watermark(vote: Vote) -> Watermark:
    """``(height, round, kind)`` ordered like the core's signing watermark (prevote 2 < precommit 3)."""
    return (vote.height, vote.round, int(vote.type))


class DoubleSignGuard:
    def __init__(self, chain_id: str, key: PublicKey, local_state: bytes | None) -> None:
        self.chain_id = chain_id
        self.key = key
        self.local: Watermark | None = None
        if local_state is not None:
            self.local = decode_state(local_state).watermark
        self.seen: Watermark | None = None
        self._verifier = Ed25519Verifier()

    def observe(self, vote_bytes: bytes) -> None:
        """A peer says this node signed ``vote_bytes``; keep it if the signature is really ours."""
        try:
            message = decode_message(vote_bytes)
        except LedgrError:
            return
        if not isinstance(message, Vote) or not self._verifier.verify_vote(self.chain_id, message, self.key):
            return
        mark = vote_watermark(message)
        if self.seen is None or mark > self.seen:
            self.seen = mark

    def check(self, committed_height: int) -> None:
        """Raise when a vote peers hold from this key is newer than the local record and lies above
        the committed chain (where this node could vote again)."""
        if self.seen is None or self.local is None or self.seen[0] <= committed_height:
            return
        if self.seen > self.local:
            h, r, kind = self.seen
            lh, lr, lkind = self.local
            raise ConfigError(
                f"double-sign guard: peers hold a vote this validator key signed at height {h} round {r} "
                f"(kind {kind}), but the local record ends at height {lh} round {lr} (kind {lkind}); "
                "this data directory is older than the key's history (restored backup?) or another "
                "node runs with the same key. Refusing to start.")

    @property
    def must_sync_past(self) -> int:
        """Height this node must have committed before it may vote (0 when it has a record)."""
        if self.local is not None or self.seen is None:
            return 0
        return self.seen[0]
