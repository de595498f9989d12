"""Prometheus metrics of one node (prometheus-client), on a registry of its own.

A per-node :class:`~prometheus_client.CollectorRegistry` (not the global one) keeps several nodes
in one test process apart. Names follow the Prometheus conventions (unit suffix, ``_total``).
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

_LATENCY_BUCKETS = (0.005, 0.01, 0.02, 0.05, 0.1, 0.15, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class NodeMetrics:
    """The gauges, counters and histograms a node updates (architecture.md §7)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.height = Gauge("ledgr_height", "Height of the latest committed block", registry=r)
        self.round = Gauge("ledgr_consensus_round", "Current consensus round", registry=r)
        self.commit_latency = Histogram(
            "ledgr_commit_latency_seconds", "Time from an operation's arrival to its block's commit",
            buckets=_LATENCY_BUCKETS, registry=r)
        self.block_interval = Histogram(
            "ledgr_block_interval_seconds", "Time between consecutive local commits",
            buckets=_LATENCY_BUCKETS, registry=r)
        self.block_ops = Histogram(
            "ledgr_block_operations", "Operations per committed block",
            buckets=(0, 1, 10, 50, 100, 250, 500, 1000, 2000, 5000), registry=r)
        stage_buckets = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)
        self.build_seconds = Histogram("ledgr_block_build_seconds", "Time to build a proposed block",
                                       buckets=stage_buckets, registry=r)
        self.validate_seconds = Histogram("ledgr_block_validate_seconds",
                                          "Time to re-execute a proposed block", buckets=stage_buckets,
                                          registry=r)
        self.store_seconds = Histogram("ledgr_block_store_seconds",
                                       "Time to store a decided block (one durable transaction)",
                                       buckets=stage_buckets, registry=r)
        self.persist_seconds = Histogram("ledgr_consensus_persist_seconds",
                                         "Time to persist the consensus state durably",
                                         buckets=stage_buckets, registry=r)
        self.mempool_size = Gauge("ledgr_mempool_operations", "Operations waiting in the mempool", registry=r)
        self.mempool_bytes = Gauge("ledgr_mempool_bytes", "Bytes of operations in the mempool", registry=r)
        self.peers_connected = Gauge("ledgr_peers_connected", "Authenticated peer connections", registry=r)
        self.peer_dropped = Counter(
            "ledgr_peer_messages_dropped_total", "Peer messages dropped by a full queue or a policy",
            ["reason"], registry=r)
        self.peer_received_bytes = Counter(
            "ledgr_peer_received_bytes_total", "Bytes of peer frames received, by frame kind",
            ["kind"], registry=r)
        self.catching_up = Gauge("ledgr_catching_up", "1 while the node is syncing blocks from peers",
                                 registry=r)
        self.sync_executed_ahead = Counter(
            "ledgr_sync_blocks_executed_ahead_total",
            "Synced blocks executed while the block before them was being committed", registry=r)
        self.backfill_next_height = Gauge(
            "ledgr_backfill_next_height", "Next history block the back-fill below a state-sync anchor gets",
            registry=r)
        self.backfill_remaining = Gauge(
            "ledgr_backfill_remaining_blocks", "History blocks below the state-sync anchor still missing",
            registry=r)
        self.backfill_refused = Counter(
            "ledgr_backfill_refused_total", "History blocks from peers refused by the back-fill checks",
            registry=r)
        self.sync_target = Gauge("ledgr_sync_target_height", "Highest height seen at a peer", registry=r)
        self.sync_progress = Gauge("ledgr_sync_progress_ratio", "Catch-up progress (1 = at the tip)",
                                   registry=r)
        self.ops_committed = Counter("ledgr_operations_committed_total", "Operations committed",
                                     registry=r)
        self.ops_rejected = Counter("ledgr_operations_rejected_total", "Operations rejected",
                                    ["stage"], registry=r)

        self.round_changes = Counter(
            "ledgr_consensus_round_changes_total",
            "Heights that needed another round (a proposal or a quorum missed its timeout)", registry=r)
        self.silent_proposer_rounds = Counter(
            "ledgr_consensus_silent_proposer_rounds_total",
            "Rounds whose proposer this node could not hear (shortened propose timeout)", registry=r)
        self.gc_pause_seconds = Histogram(
            "ledgr_gc_pause_seconds", "Paced garbage collections of the node process (ledgr.node.gcpolicy)",
            ["kind"], buckets=stage_buckets, registry=r)
        self.evidence = Counter("ledgr_equivocation_evidence_total",
                                "Conflicting votes of a validator seen by this node (evidence stored)",
                                ["validator"], registry=r)

    def render(self) -> bytes:
        return bytes(generate_latest(self.registry))
