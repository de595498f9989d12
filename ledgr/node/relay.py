"""Relay of consensus messages: forward the first sighting of each message to the other validators.

Tendermint's liveness assumes that a message one correct validator received eventually reaches all
of them (the paper's gossip assumption; CometBFT's per-peer gossip provides it). With one WebSocket
per pair and no relay, a one-way cut (A→B lost, A→C→B fine) leaves B without A's votes forever:
``timeoutPrevote``/``timeoutPrecommit`` only start after a quorum of votes, so B never leaves the
round (found by the faults helper's one-way ring test, requests-from-faults.md #1). So a node
forwards every consensus frame it sees for the first time to every other validator except the one
it came from. At n ≤ 7 that costs at most n − 2 extra copies of a frame.

Duplicates are recognized by the frame's SHA-256 within ``window_s``: a copy arriving by a second
path is dropped before it is decoded; after the window the same bytes count as new again, so the
core's rebroadcast timer (every ``rebroadcast_ms``) also refreshes relays lost to a full queue.
The memory is bounded (``max_entries``, oldest first).

Relays go out at once, to every other validator. A delayed relay, skipped once the relaying node had
committed the height, was tried (it halves the frames of a healthy height) and broke the one-way
ring (each node hears one other): the relayer commits with the third node's votes and skips, the
node whose only way in is that relay falls two heights behind, and in a ring block sync cannot help
it (every request or answer crosses a cut link), so it never caught up.
"""

from __future__ import annotations

from collections import OrderedDict

from ledgr.crypto import sha256

WINDOW_S = 0.4
MAX_ENTRIES = 8192


class RelayFilter:
    """Which consensus frames are new (to process and relay) and which are recent duplicates."""

    def __init__(self, window_s: float = WINDOW_S, max_entries: int = MAX_ENTRIES) -> None:
        self.window_s = window_s
        self.max_entries = max_entries
        self._seen: OrderedDict[bytes, float] = OrderedDict()

    def first_sighting(self, payload: bytes, now_s: float) -> bool:
        """True (and remembered) unless the same bytes were seen less than ``window_s`` ago."""
        digest = sha256(payload)
        seen_at = self._seen.get(digest)
        if seen_at is not None and now_s - seen_at < self.window_s:
            return False
        self._seen[digest] = now_s
        self._seen.move_to_end(digest)
        while len(self._seen) > self.max_entries:
            self._seen.popitem(last=False)
        return True
