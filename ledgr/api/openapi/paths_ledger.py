"""OpenAPI paths of the ledger and operations endpoints (issue 5 "Ledger HTTP endpoints")."""

from __future__ import annotations

from typing import Any

from ledgr.api.openapi import examples as ex
from ledgr.api.openapi.common import ok, operation, param, ref

TAG = "Ledger"
OPS_TAG = "Operations"


def ledger_paths() -> dict[str, Any]:
    committed = {"status": "committed", "hash": ex.OPERATION_HASH, "height": 1042, "index": 3,
                 "block_hash": ex.HEADER["hash"], "header": ex.HEADER, "qc": ex.QC,
                 "inclusion_proof": {"leaf_index": 3, "tree_size": 4, "path": [ex.TX_ROOT, ex.APP_ROOT],
                                     "tx_root": ex.TX_ROOT}}
    block = {"height": 1042, "hash": ex.HEADER["hash"], "header": ex.HEADER,
             "operations": [ex.OPERATION_HASH], "operation_count": 1, "qc": ex.QC}
    status = {"chain_id": ex.CHAIN_ID, "node": "node0", "version": "0.1.0", "height": 1042,
              "app_root": ex.APP_ROOT, "block_hash": ex.HEADER["hash"], "latest_block_time": ex.TIME,
              "catching_up": False, "sync_target_height": 1042,
              "consensus": {"height": 1043, "round": 0, "proposer": "node1"},
              "mempool": {"operations": 0, "bytes": 0},
              "validators": [{"name": "node0", "node_key": ex.VALIDATOR_KEY.public_key.multikey,
                              "self": True, "connected": True, "height": 1042}],
              "genesis_hash": ex.VALIDATORS_HASH}
    state = {"kind": "did", "id": ex.ISSUER_DID, "found": True, "height": 1042,
             "entries": {"head": {"key": "646964", "value": {"seq": 1}, "value_b64": "eyJzZXEiOjF9",
                                  "smt_proof": {"siblings": [ex.TX_ROOT], "leaf": None, "encoded": "00"}}},
             "header": ex.HEADER, "qc": ex.QC}
    signed_op = {"envelope": "eyJ0eXBlIjoiZGlkLmNyZWF0ZSJ9"}
    return {
        "/operations": {"post": operation(
            op_id="submitOperation", access="public", tag=OPS_TAG, summary="Submit a signed ledger operation",
            description="Checks the operation on entry (signature, size, schema), adds it to the mempool "
                        "and forwards it to the other validators. Poll `GET /operations/{hash}` (with "
                        "`wait`) for its outcome.",
            request_body={"required": True, "description": "the signed operation envelope",
                          "content": {"application/json": {"schema": ref("SubmitOperation"),
                                                           "example": signed_op},
                                      "application/octet-stream": {"schema": {"type": "string",
                                                                              "format": "binary"}}}},
            responses={"202": ok("Accepted into the mempool", ref("OperationAccepted"),
                                 {"hash": ex.OPERATION_HASH, "status": "accepted", "duplicate": False,
                                  "location": f"/v1/operations/{ex.OPERATION_HASH}"},
                                 headers={"Location": {"$ref": "#/components/headers/Location"}})},
            errors=(409, 422))},
        "/operations/{hash}": {"get": operation(
            op_id="getOperation", access="read", tag=OPS_TAG, summary="Status of a submitted operation",
            description="`pending`, `committed` (with height, index, header, QC and inclusion proof) or "
                        "`rejected` (with the reason). `wait` long-polls up to that many seconds for a "
                        "final state.",
            parameters=[param("OperationHash"), param("Wait")],
            responses={"200": ok("The operation's state", ref("OperationStatus"), committed)},
            errors=(404,))},
        "/blocks/latest": {"get": operation(
            op_id="getLatestBlock", access="read", tag=TAG, summary="The latest committed block",
            description="The newest block with its quorum certificate.",
            responses={"200": ok("The block", ref("Block"), block)})},
        "/blocks/{height}": {"get": operation(
            op_id="getBlock", access="read", tag=TAG, summary="A committed block by height",
            description="A block with its header, operations and quorum certificate.",
            parameters=[param("Height")],
            responses={"200": ok("The block", ref("Block"), block)},
            errors=(404,))},
        "/status": {"get": operation(
            op_id="getNodeStatus", access="read", tag=TAG, summary="Node and chain status",
            description="Chain id, height, `app_root` of the latest block, its time, the validators "
                        "with connectivity, whether the node is catching up, and its version.",
            responses={"200": ok("Node status", ref("NodeStatus"), status)})},
        "/state/{kind}/{id}": {"get": operation(
            op_id="getState", access="read", tag=TAG, summary="Read ledger state, optionally with a proof",
            description="The current value of a state object. With `proof=true` the answer carries the "
                        "sparse-Merkle proof to `app_root`, the header and its QC, so a client holding "
                        "the validator set can trust this one node. A proven absence is a 404.",
            parameters=[param("StateKind"), param("StateId"), param("Proof")],
            responses={"200": ok("The value (and proof)", ref("StateRead"), state)},
            errors=(404,))},
        "/genesis": {"get": operation(
            op_id="getGenesis", access="read", tag=TAG, summary="The genesis document",
            description="The network's genesis document and its hash. Clients pin it (trust on first "
                        "use) and check certified reads against its validator set.",
            responses={"200": ok("The genesis document", {
                "type": "object", "required": ["genesis", "genesis_hash"],
                "properties": {"genesis": {"type": "object"}, "genesis_hash": {"type": "string",
                                                                               "pattern": "^[0-9a-f]{64}$"}}},
                {"genesis": {"chain_id": ex.CHAIN_ID, "genesis_time_ms": 1700000000000,
                             "validator_set": {}, "params": {"max_block_ops": 1000}},
                 "genesis_hash": ex.VALIDATORS_HASH})})},
        "/health": {"get": operation(
            op_id="getHealth", access="public", tag="Operations monitoring", summary="Liveness",
            description="200 while the process serves requests.",
            responses={"200": ok("Alive", ref("Health"), {"status": "ok"})})},
        "/health/ready": {"get": operation(
            op_id="getReadiness", access="public", tag="Operations monitoring", summary="Readiness",
            description="200 when caught up and connected to a quorum of peers; 503 otherwise.",
            responses={"200": ok("Ready", ref("Health"), {"status": "ready"})})},
        "/metrics": {"get": operation(
            op_id="getMetrics", access="public", tag="Operations monitoring", summary="Prometheus metrics",
            description="Prometheus text exposition format (also served at `/metrics` outside `/v1`): "
                        "height, round, commit latency, mempool size, peers, catch-up progress.",
            responses={"200": ok("Metrics", {"type": "string"}, "ledgr_height 1042\n",
                                 media="text/plain")})},
    }
