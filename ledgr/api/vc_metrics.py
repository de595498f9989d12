"""Prometheus metrics of the issuer/verifier API, on the node's own registry (served at ``/metrics``)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge

from ledgr.node.vc_pool import VcPool


class VcMetrics:
    def __init__(self, registry: CollectorRegistry, pool: VcPool) -> None:
        self.issued = Counter("ledgr_vc_issued_total", "Credentials issued, by cryptosuite", ["cryptosuite"],
                              registry=registry)
        self.verified = Counter("ledgr_vc_verifications_total",
                                "Verifications run, by document type and outcome", ["type", "verified"],
                                registry=registry)
        self.status_changes = Counter("ledgr_vc_status_changes_total",
                                      "Status list changes committed, by action", ["action"],
                                      registry=registry)
        jobs = Gauge("ledgr_vc_pool_jobs", "Issue/verify jobs queued or running in the worker pool",
                     registry=registry)
        jobs.set_function(lambda: pool.pending)
