"""OpenAPI paths of the ledger and operations endpoints (issue 5 "Ledger HTTP endpoints")."""

from __future__ import annotations

from typing import Any

from ledgr.api.openapi import examples as ex
from ledgr.api.openapi.common import body, ok, operation, param, ref

TAG = "Ledger"
OPS_TAG = "Operations"


def ledger_paths() -> dict[str, Any]:
    committed = {"hash": ex.OPERATION_HASH, "status": "committed", "height": 1042, "index": 3,
                 "header": ex.HEADER, "qc": ex.QC, "inclusionProof": [ex.TX_ROOT, ex.APP_ROOT]}
    block = {"header": ex.HEADER, "operations": [], "qc": ex.QC}
    status = {"chain_id": ex.CHAIN_ID, "height": 1042, "app_root": ex.APP_ROOT, "latest_block_time": ex.TIME,
              "validators": [{"name": "node0", "public_key": ex.HEADER["proposer"], "connected": True,
                              "self": True}],
              "catching_up": False, "version": "0.1.0"}
    state = {"kind": "did", "id": ex.ISSUER_DID, "value": {"document": ex.DID_DOCUMENT},
             "smt_proof": {"siblings": [ex.TX_ROOT], "bitmap": "80"}, "header": ex.HEADER, "qc": ex.QC}
    signed_op = {"payload": "eyJ0eXBlIjoiZGlkLmNyZWF0ZSJ9", "verificationMethod": ex.ISSUER_VM,
                 "signature": ex.SIGNATURE}
    return {
        "/operations": {"post": operation(
            op_id="submitOperation", tag=OPS_TAG, summary="Submit a signed ledger operation",
            description="Checks the operation on entry (signature, size, schema), adds it to the mempool "
                        "and forwards it to the other validators. Poll `GET /operations/{hash}` (with "
                        "`wait`) for its outcome.",
            request_body=body(ref("SignedOperation"), signed_op, description="the signed operation"),
            responses={"202": ok("Accepted into the mempool", ref("OperationAccepted"),
                                 {"hash": ex.OPERATION_HASH, "status": "pending"},
                                 headers={"Location": {"$ref": "#/components/headers/Location"}})},
            errors=(409, 422))},
        "/operations/{hash}": {"get": operation(
            op_id="getOperation", tag=OPS_TAG, summary="Status of a submitted operation",
            description="`pending`, `committed` (with height, index, header, QC and inclusion proof) or "
                        "`rejected` (with the reason). `wait` long-polls up to that many seconds for a "
                        "final state.",
            parameters=[param("OperationHash"), param("Wait")],
            responses={"200": ok("The operation's state", ref("OperationStatus"), committed)},
            errors=(404,))},
        "/blocks/latest": {"get": operation(
            op_id="getLatestBlock", tag=TAG, summary="The latest committed block",
            description="The newest block with its quorum certificate.",
            responses={"200": ok("The block", ref("Block"), block)})},
        "/blocks/{height}": {"get": operation(
            op_id="getBlock", tag=TAG, summary="A committed block by height",
            description="A block with its header, operations and quorum certificate.",
            parameters=[param("Height")],
            responses={"200": ok("The block", ref("Block"), block)},
            errors=(404,))},
        "/status": {"get": operation(
            op_id="getNodeStatus", tag=TAG, summary="Node and chain status",
            description="Chain id, height, `app_root` of the latest block, its time, the validators "
                        "with connectivity, whether the node is catching up, and its version.",
            responses={"200": ok("Node status", ref("NodeStatus"), status)})},
        "/state/{kind}/{id}": {"get": operation(
            op_id="getState", tag=TAG, summary="Read ledger state, optionally with a proof",
            description="The current value of a state object. With `proof=true` the answer carries the "
                        "sparse-Merkle proof to `app_root`, the header and its QC, so a client holding "
                        "the validator set can trust this one node. A proven absence is a 404.",
            parameters=[param("StateKind"), param("StateId"), param("Proof")],
            responses={"200": ok("The value (and proof)", ref("StateRead"), state)},
            errors=(404,))},
        "/health": {"get": operation(
            op_id="getHealth", tag="Operations monitoring", summary="Liveness",
            description="200 while the process serves requests.",
            responses={"200": ok("Alive", ref("Health"), {"status": "ok"})})},
        "/health/ready": {"get": operation(
            op_id="getReadiness", tag="Operations monitoring", summary="Readiness",
            description="200 when caught up and connected to a quorum of peers; 503 otherwise.",
            responses={"200": ok("Ready", ref("Health"),
                                 {"status": "ok", "checks": {"caughtUp": True, "peers": True}})})},
    }
