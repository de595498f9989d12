"""Fault injection for real node processes: a seeded TCP/WebSocket fault proxy, client histories and
a linearizability checker (consensus.md §4.5, §4.7; issue 7)."""
