"""The relay filter: first sightings pass, recent duplicates do not, memory stays bounded."""

from __future__ import annotations

from ledgr.node.relay import RelayFilter


def test_a_frame_is_new_once_per_window() -> None:
    relay = RelayFilter(window_s=0.4)
    assert relay.first_sighting(b"vote-a", 10.0)
    assert not relay.first_sighting(b"vote-a", 10.1)  # the copy from a second path
    assert relay.first_sighting(b"vote-b", 10.1)
    assert relay.first_sighting(b"vote-a", 10.5)  # a rebroadcast after the window is relayed again
    assert not relay.first_sighting(b"vote-a", 10.6)


def test_memory_is_bounded_oldest_first() -> None:
    relay = RelayFilter(window_s=100.0, max_entries=3)
    for i in range(5):
        assert relay.first_sighting(bytes([i]), 1.0)
    assert relay.first_sighting(bytes([0]), 1.0)  # forgotten: evicted as the oldest
    assert not relay.first_sighting(bytes([4]), 1.0)
