"""OpenAPI schemas: RFC 9457 problems and the ledger endpoints (issue 5 "Ledger HTTP endpoints").

Ledger members keep the snake_case names of the block/header format (architecture.md §3) because the
same JSON is hashed and signed; the VC and DID schemas follow their W3C specs' camelCase.
"""

from __future__ import annotations

from typing import Any

from ledgr.api.openapi.common import ref

HEX64 = {"type": "string", "pattern": "^[0-9a-f]{64}$", "description": "SHA-256, lowercase hex"}
DATE_TIME = {"type": "string", "format": "date-time"}
MULTIKEY = {"type": "string", "pattern": "^z6Mk[1-9A-HJ-NP-Za-km-z]{42,45}$",
            "description": "Ed25519 public key, Multikey (base58btc)"}
HEX = {"type": "string", "pattern": "^[0-9a-f]*$", "description": "bytes, lowercase hex"}
STATE_KINDS = ["did", "did-version", "status-list", "resource", "validators", "chain", "evidence"]
DID = {"type": "string", "pattern": "^did:[a-z0-9]+:[A-Za-z0-9._:%-]+$", "maxLength": 2048}


def core_schemas() -> dict[str, Any]:
    return {
        "Problem": {
            "type": "object",
            "description": "RFC 9457 problem details. `code` is ledgr's stable machine-readable error code; "
                           "errors may add extension members (e.g. `rule`, `limit`, `requiredScope`).",
            "required": ["type", "title", "status", "detail"],
            "properties": {
                "type": {"type": "string", "format": "uri",
                         "example": "https://ledgr.dev/problems/invalid-input"},
                "title": {"type": "string", "example": "Invalid input"},
                "status": {"type": "integer", "minimum": 400, "maximum": 599, "example": 400},
                "detail": {"type": "string", "example": "credential.issuer must be a DID"},
                "instance": {"type": "string", "example": "/v1/credentials/issue"},
                "code": {"type": "string", "pattern": "^[a-z0-9-]+$", "example": "invalid-input"},
                "rule": {"type": "string", "description": "the ledger rule an operation broke"},
                "limit": {"type": "integer", "description": "the size or count limit exceeded"},
                "requiredScope": {"type": "string", "description": "the token scope that was missing"},
                "retryAfterSeconds": {"type": "integer", "minimum": 1},
                "errors": {
                    "type": "array", "maxItems": 100,
                    "description": "what failed, one entry per check (verification endpoints)",
                    "items": ref("VerificationError"),
                },
            },
        },
        "VerificationError": {
            "type": "object", "required": ["code", "message"],
            "description": "One failed check: ledgr's stable `code`, a message, and the RFC 9457 `type` and "
                           "`title` of that error; may add structured members (e.g. `property`, `reason`).",
            "properties": {"code": {"type": "string", "pattern": "^[a-z0-9-]+$"},
                           "message": {"type": "string"}, "type": {"type": "string", "format": "uri"},
                           "title": {"type": "string"}, "property": {"type": "string"}},
        },
        "SubmitOperation": {
            "type": "object",
            "description": "A signed operation envelope (architecture.md §3: the author's exact RFC 8785 "
                           "payload bytes, the verification method and the Ed25519 signature), "
                           "base64url. The raw envelope may also be sent as `application/octet-stream`.",
            "required": ["envelope"],
            "properties": {"envelope": {"type": "string", "pattern": "^[A-Za-z0-9_=+/-]+$",
                                        "maxLength": 1_400_000}},
        },
        "OperationAccepted": {
            "type": "object", "required": ["hash", "status", "duplicate", "location"],
            "properties": {"hash": HEX64, "status": {"type": "string", "enum": ["accepted"]},
                           "duplicate": {"type": "boolean",
                                         "description": "the node already had this operation"},
                           "location": {"type": "string"}},
        },
        "InclusionProof": {
            "type": "object", "required": ["leaf_index", "tree_size", "path", "tx_root"],
            "description": "RFC 6962 audit path from the operation hash to the header's tx_root.",
            "properties": {"leaf_index": {"type": "integer", "minimum": 0},
                           "tree_size": {"type": "integer", "minimum": 1},
                           "path": {"type": "array", "items": HEX64}, "tx_root": HEX64},
        },
        "OperationStatus": {
            "type": "object", "required": ["hash", "status"],
            "properties": {
                "hash": HEX64,
                "status": {"type": "string", "enum": ["pending", "committed", "rejected"]},
                "height": {"type": "integer", "minimum": 1},
                "index": {"type": "integer", "minimum": 0},
                "block_hash": HEX64,
                "header": ref("BlockHeader"),
                "qc": ref("QuorumCertificate"),
                "inclusion_proof": ref("InclusionProof"),
                "reason": {"type": "string", "description": "why a rejected operation was rejected"},
            },
        },
        "BlockHeader": {
            "type": "object",
            "description": "A block header; `encoded` is the exact signed encoding (hex) a verifier checks.",
            "required": ["chain_id", "height", "time_ms", "prev_hash", "tx_root", "app_root",
                         "validators_hash", "next_validators_hash", "proposer", "hash"],
            "properties": {
                "chain_id": {"type": "string"}, "height": {"type": "integer", "minimum": 0},
                "time_ms": {"type": "integer", "description": "block time, ms since the Unix epoch"},
                "time": DATE_TIME, "prev_hash": HEX64, "tx_root": HEX64, "app_root": HEX64,
                "validators_hash": HEX64, "next_validators_hash": HEX64,
                "proposer": {"type": "string", "pattern": "^[0-9a-f]+$"}, "hash": HEX64,
                "encoded": HEX,
            },
        },
        "QuorumCertificate": {
            "type": "object",
            "description": "q Ed25519 precommit signatures over the block, by validator index.",
            "required": ["height", "round", "block_hash", "signers", "signatures"],
            "properties": {
                "height": {"type": "integer"}, "round": {"type": "integer", "minimum": 0},
                "block_hash": HEX64,
                "signers": {"type": "array", "items": {"type": "integer", "minimum": 0},
                            "description": "indexes of the signing validators in the set"},
                "signer_count": {"type": "integer"},
                "signatures": {"type": "array", "items": HEX},
                "encoded": HEX,
            },
        },
        "Block": {
            "type": "object", "required": ["height", "hash", "header", "operations", "qc"],
            "properties": {
                "height": {"type": "integer", "minimum": 0}, "hash": HEX64,
                "header": ref("BlockHeader"),
                "operations": {"type": "array", "items": HEX64, "description": "operation hashes"},
                "operation_count": {"type": "integer", "minimum": 0},
                "qc": ref("QuorumCertificate"),
            },
        },
        "ValidatorStatus": {
            "type": "object", "required": ["node_key", "connected"],
            "properties": {"name": {"type": "string"}, "node_key": MULTIKEY,
                           "connected": {"type": "boolean"}, "self": {"type": "boolean"},
                           "height": {"type": "integer", "nullable": True}},
        },
        "NodeStatus": {
            "type": "object",
            "required": ["chain_id", "height", "app_root", "latest_block_time", "validators", "catching_up",
                         "version"],
            "properties": {
                "chain_id": {"type": "string"}, "node": {"type": "string"}, "version": {"type": "string"},
                "height": {"type": "integer", "minimum": 0},
                "app_root": {**HEX64, "nullable": True},
                "block_hash": {**HEX64, "nullable": True},
                "latest_block_time": {"type": "string", "format": "date-time", "nullable": True},
                "catching_up": {"type": "boolean"},
                "sync_target_height": {"type": "integer", "minimum": 0},
                "consensus": {"type": "object", "description": "the height being decided (null between "
                                                               "heights, while the node idles)",
                              "properties": {
                                  "height": {"type": "integer", "nullable": True},
                                  "round": {"type": "integer", "nullable": True},
                                  "proposer": {"type": "string", "nullable": True,
                                               "description": "name of this round's proposer"}}},
                "mempool": {"type": "object", "properties": {
                    "operations": {"type": "integer"}, "bytes": {"type": "integer"}}},
                "validators": {"type": "array", "items": ref("ValidatorStatus")},
                "genesis_hash": HEX64,
            },
        },
        "StateEntry": {
            "type": "object", "required": ["key", "value"],
            "properties": {
                "key": HEX,
                "value": {"description": "the stored JSON value (any type), null when absent"},
                "value_b64": {"type": "string", "nullable": True,
                              "description": "the exact stored bytes, base64url"},
                "smt_proof": {"type": "object", "properties": {
                    "siblings": {"type": "array", "items": HEX64},
                    "leaf": {"type": "object", "nullable": True, "properties": {
                        "keyHash": HEX64, "valueHash": HEX64}},
                    "encoded": HEX}},
            },
        },
        "StateRead": {
            "type": "object",
            "description": "A state read. With `proof=true` every entry carries its sparse-Merkle proof "
                           "to `header.app_root`, plus the header and the QC that certifies it, so a "
                           "verifier holding the validator set can trust this one node (absence is "
                           "proven the same way).",
            "required": ["kind", "id", "found", "entries", "height"],
            "properties": {
                "kind": {"type": "string", "enum": STATE_KINDS}, "id": {"type": "string"},
                "found": {"type": "boolean"}, "height": {"type": "integer", "minimum": 0},
                "entries": {"type": "object", "additionalProperties": ref("StateEntry")},
                "header": ref("BlockHeader"),
                "qc": ref("QuorumCertificate"),
            },
        },
        "Health": {
            "type": "object", "required": ["status"],
            "properties": {"status": {"type": "string", "enum": ["ok", "ready"]}},
        },
    }
