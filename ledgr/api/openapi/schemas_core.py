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
                    "items": {"type": "object", "required": ["code", "detail"],
                              "properties": {"code": {"type": "string"}, "detail": {"type": "string"},
                                             "path": {"type": "string"}}},
                },
            },
        },
        "SignedOperation": {
            "type": "object",
            "description": "A ledger operation signed by its author (architecture.md §3): `payload` is "
                           "the exact RFC 8785 (JCS) bytes, base64url; the signature covers a domain "
                           "tag followed by those bytes.",
            "required": ["payload", "verificationMethod", "signature"],
            "properties": {
                "payload": {"type": "string", "pattern": "^[A-Za-z0-9_-]+$", "maxLength": 1_400_000},
                "verificationMethod": {"type": "string", "maxLength": 2048},
                "signature": {"type": "string", "pattern": "^z[1-9A-HJ-NP-Za-km-z]+$"},
            },
        },
        "OperationAccepted": {
            "type": "object", "required": ["hash", "status"],
            "properties": {"hash": HEX64, "status": {"type": "string", "enum": ["pending"]}},
        },
        "OperationStatus": {
            "type": "object", "required": ["hash", "status"],
            "properties": {
                "hash": HEX64,
                "status": {"type": "string", "enum": ["pending", "committed", "rejected"]},
                "height": {"type": "integer", "minimum": 1},
                "index": {"type": "integer", "minimum": 0},
                "header": ref("BlockHeader"),
                "qc": ref("QuorumCertificate"),
                "inclusionProof": {"type": "array", "items": HEX64,
                                   "description": "RFC 6962 audit path to the header's tx_root"},
                "reason": {"type": "string", "description": "why a rejected operation was rejected"},
                "rule": {"type": "string"},
            },
        },
        "BlockHeader": {
            "type": "object",
            "required": ["chain_id", "height", "time", "prev_hash", "tx_root", "app_root",
                         "validators_hash", "next_validators_hash", "proposer"],
            "properties": {
                "chain_id": {"type": "string"}, "height": {"type": "integer", "minimum": 0},
                "time": DATE_TIME, "prev_hash": HEX64, "tx_root": HEX64, "app_root": HEX64,
                "validators_hash": HEX64, "next_validators_hash": HEX64, "proposer": MULTIKEY,
            },
        },
        "QuorumCertificate": {
            "type": "object",
            "description": "q Ed25519 precommit signatures over the block, with a signer bitmap.",
            "required": ["height", "round", "block_hash", "signers", "signatures"],
            "properties": {
                "height": {"type": "integer"}, "round": {"type": "integer", "minimum": 0},
                "block_hash": HEX64,
                "signers": {"type": "string", "pattern": "^[01]+$",
                            "description": "bitmap over the validator set, in set order"},
                "signatures": {"type": "array", "items": {"type": "string"}},
            },
        },
        "Block": {
            "type": "object", "required": ["header", "operations", "qc"],
            "properties": {
                "header": ref("BlockHeader"),
                "operations": {"type": "array", "items": ref("SignedOperation")},
                "qc": ref("QuorumCertificate"),
            },
        },
        "ValidatorStatus": {
            "type": "object", "required": ["public_key", "connected"],
            "properties": {"name": {"type": "string"}, "public_key": MULTIKEY,
                           "connected": {"type": "boolean"}, "self": {"type": "boolean"}},
        },
        "NodeStatus": {
            "type": "object",
            "required": ["chain_id", "height", "app_root", "latest_block_time", "validators", "catching_up",
                         "version"],
            "properties": {
                "chain_id": {"type": "string"}, "height": {"type": "integer", "minimum": 0},
                "app_root": HEX64, "latest_block_time": DATE_TIME,
                "validators": {"type": "array", "items": ref("ValidatorStatus")},
                "catching_up": {"type": "boolean"}, "version": {"type": "string"},
            },
        },
        "StateRead": {
            "type": "object",
            "description": "A certified read: the value, its sparse-Merkle proof to `header.app_root`, the "
                           "header and the QC that certifies it. `value` is null for a proven absence.",
            "required": ["kind", "id", "value"],
            "properties": {
                "kind": {"type": "string"}, "id": {"type": "string"},
                "value": {"type": "object", "nullable": True},
                "smt_proof": {"type": "object", "properties": {
                    "siblings": {"type": "array", "items": HEX64},
                    "bitmap": {"type": "string", "pattern": "^[0-9a-f]*$"}}},
                "header": ref("BlockHeader"),
                "qc": ref("QuorumCertificate"),
            },
        },
        "Health": {
            "type": "object", "required": ["status"],
            "properties": {"status": {"type": "string", "enum": ["ok", "not-ready"]},
                           "checks": {"type": "object", "additionalProperties": {"type": "boolean"}}},
        },
    }
