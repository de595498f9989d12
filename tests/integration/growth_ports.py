"""Port ranges for the growth tests: below Linux's ephemeral range (32768+), so the many outbound
connections of a load generator cannot take a port a node is about to listen on."""

from __future__ import annotations

from ledgr.node.testnet import free_base_port

__all__ = ["free_base_port"]
