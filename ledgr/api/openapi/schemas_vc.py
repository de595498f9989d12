"""OpenAPI schemas of the W3C VC API part: credentials, presentations, proofs, status, issuers.

Shapes follow VC Data Model 2.0 (§4), VC Data Integrity 1.0 (§2.1 proofs), Bitstring Status List 1.0
(§2.1 entries) and the VC API (issue/verify request and response members). Credential schemas stay open
(``additionalProperties`` allowed): the JSON-LD processing in the VC engine is what checks terms.
"""

from __future__ import annotations

from typing import Any

from ledgr.api.openapi.common import ref
from ledgr.api.openapi.schemas_core import DATE_TIME, DID, HEX64, MULTIKEY

CRYPTOSUITES = ["eddsa-rdfc-2022", "eddsa-jcs-2022"]
PROOF_TYPES = ["DataIntegrityProof", "Ed25519Signature2020"]
STATUS_PURPOSES = ["revocation", "suspension"]
STRING_OR_ARRAY = {"oneOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}]}
CONTEXT = {"type": "array", "minItems": 1, "maxItems": 32,
           "items": {"oneOf": [{"type": "string"}, {"type": "object"}]}}


def vc_schemas() -> dict[str, Any]:
    return {
        "Credential": {
            "type": "object",
            "description": "An unsigned VC 2.0 credential (VC Data Model 2.0 §4).",
            "required": ["@context", "type", "credentialSubject"],
            "properties": {
                "@context": CONTEXT,
                "id": {"type": "string"},
                "type": {"type": "array", "items": {"type": "string"}, "minItems": 1},
                "issuer": {"oneOf": [DID, {"type": "object", "required": ["id"],
                                           "properties": {"id": DID}}]},
                "validFrom": DATE_TIME,
                "validUntil": DATE_TIME,
                "credentialSubject": {"oneOf": [{"type": "object"},
                                                {"type": "array", "items": {"type": "object"}}]},
                "credentialStatus": {"oneOf": [ref("BitstringStatusListEntry"),
                                               {"type": "array", "items": ref("BitstringStatusListEntry")}]},
                "credentialSchema": {"type": "object"},
            },
        },
        "VerifiableCredential": {
            "allOf": [ref("Credential"), {"type": "object", "required": ["proof"], "properties": {
                "proof": {"oneOf": [ref("DataIntegrityProof"),
                                    {"type": "array", "items": ref("DataIntegrityProof"), "maxItems": 16}]},
            }}],
        },
        "DataIntegrityProof": {
            "type": "object",
            "required": ["type", "verificationMethod", "proofPurpose", "proofValue"],
            "properties": {
                "type": {"type": "string", "enum": PROOF_TYPES},
                "cryptosuite": {"type": "string", "enum": CRYPTOSUITES},
                "created": DATE_TIME,
                "verificationMethod": {"type": "string"},
                "proofPurpose": {"type": "string", "enum": ["assertionMethod", "authentication"]},
                "proofValue": {"type": "string", "pattern": "^z[1-9A-HJ-NP-Za-km-z]+$"},
                "challenge": {"type": "string"},
                "domain": STRING_OR_ARRAY,
            },
        },
        "VerifiablePresentation": {
            "type": "object",
            "required": ["@context", "type"],
            "properties": {
                "@context": CONTEXT,
                "id": {"type": "string"},
                "type": {"type": "array", "items": {"type": "string"}},
                "holder": {"type": "string"},
                "verifiableCredential": {"type": "array", "items": ref("VerifiableCredential")},
                "proof": {"oneOf": [ref("DataIntegrityProof"),
                                    {"type": "array", "items": ref("DataIntegrityProof")}]},
            },
        },
        "BitstringStatusListEntry": {
            "type": "object",
            "required": ["type", "statusPurpose", "statusListIndex", "statusListCredential"],
            "properties": {
                "id": {"type": "string"},
                "type": {"type": "string", "enum": ["BitstringStatusListEntry"]},
                "statusPurpose": {"type": "string", "enum": STATUS_PURPOSES},
                "statusListIndex": {"type": "string", "pattern": "^[0-9]+$"},
                "statusListCredential": {"type": "string", "format": "uri"},
            },
        },
        "IssueOptions": {
            "type": "object",
            "properties": {
                "cryptosuite": {"type": "string", "enum": [*CRYPTOSUITES, "Ed25519Signature2020"],
                                "default": "eddsa-rdfc-2022"},
                "credentialStatus": {
                    "type": "object", "description": "add a status entry from one of the issuer's lists",
                    "required": ["statusPurpose"],
                    "properties": {"statusPurpose": {"type": "string", "enum": STATUS_PURPOSES},
                                   "statusList": {"type": "string",
                                                  "description": "status list id; default: the "
                                                                 "issuer's first list of that purpose"}},
                },
            },
        },
        "IssueRequest": {
            "type": "object", "required": ["credential"],
            "properties": {"credential": ref("Credential"), "options": ref("IssueOptions")},
        },
        "IssueResponse": {
            "type": "object", "required": ["verifiableCredential"],
            "properties": {"verifiableCredential": ref("VerifiableCredential")},
        },
        "VerifyCredentialRequest": {
            "type": "object", "required": ["verifiableCredential"],
            "properties": {
                "verifiableCredential": ref("VerifiableCredential"),
                "options": {"type": "object", "properties": {
                    "checkStatus": {"type": "boolean", "default": True},
                    "proof": {"type": "boolean", "default": False,
                              "description": "check key and status reads against certified state"}}},
            },
        },
        "VerifyPresentationRequest": {
            "type": "object", "required": ["verifiablePresentation", "options"],
            "properties": {
                "verifiablePresentation": ref("VerifiablePresentation"),
                "options": {"type": "object", "required": ["challenge"], "properties": {
                    "challenge": {"type": "string", "maxLength": 256},
                    "domain": {"type": "string", "maxLength": 2048}}},
            },
        },
        "VerificationResult": {
            "type": "object", "required": ["verified", "type", "checks", "warnings", "errors"],
            "description": "`verified` is true only when at least one check ran and every check (and every "
                           "credential of a presentation) verified.",
            "properties": {
                "verified": {"type": "boolean"},
                "type": {"type": "string", "enum": ["VerifiableCredential", "VerifiablePresentation"]},
                "checks": {"type": "array", "items": {
                    "type": "object", "required": ["check", "verified", "errors"],
                    "properties": {
                        "check": {"type": "string",
                                  "enum": ["proof", "validity", "schema", "status", "issuer-binding"]},
                        "verified": {"type": "boolean"},
                        "errors": {"type": "array", "items": ref("VerificationError")}}}},
                "warnings": {"type": "array", "items": {"type": "object", "required": ["code", "message"],
                                                        "properties": {"code": {"type": "string"},
                                                                       "message": {"type": "string"}}}},
                "errors": {"type": "array", "items": ref("VerificationError")},
                "credentialResults": {"type": "array", "items": ref("VerificationResult")},
            },
        },
        "UpdateStatusRequest": {
            "type": "object", "required": ["credentialStatus", "action"],
            "properties": {
                "credentialId": {"type": "string"},
                "credentialStatus": ref("BitstringStatusListEntry"),
                "action": {"type": "string", "enum": ["revoke", "suspend", "unsuspend"]},
            },
        },
        "UpdateStatusResponse": {
            "type": "object", "required": ["statusListCredential", "statusListIndex", "set", "operationHash"],
            "properties": {
                "statusListCredential": {"type": "string", "format": "uri"},
                "statusListIndex": {"type": "string", "pattern": "^[0-9]+$"},
                "statusPurpose": {"type": "string", "enum": STATUS_PURPOSES},
                "set": {"type": "boolean", "description": "the bit's value after the change"},
                "operationHash": HEX64,
            },
        },
        "CreateStatusListRequest": {
            "type": "object", "required": ["issuer", "statusPurpose"],
            "properties": {
                "issuer": DID,
                "statusPurpose": {"type": "string", "enum": STATUS_PURPOSES},
                "length": {"type": "integer", "minimum": 131072, "maximum": 16777216, "default": 131072},
            },
        },
        "StatusListCreated": {
            "type": "object", "required": ["id", "statusListCredential", "operationHash"],
            "properties": {"id": {"type": "string"},
                           "statusListCredential": {"type": "string", "format": "uri"},
                           "operationHash": HEX64},
        },
        "BitstringStatusListCredential": {
            "allOf": [ref("VerifiableCredential"), {"type": "object", "properties": {
                "credentialSubject": {"type": "object",
                                      "required": ["type", "statusPurpose", "encodedList"],
                                      "properties": {
                                          "id": {"type": "string"},
                                          "type": {"type": "string", "enum": ["BitstringStatusList"]},
                                          "statusPurpose": {"type": "string", "enum": STATUS_PURPOSES},
                                          "encodedList": {"type": "string", "pattern": "^u[A-Za-z0-9_-]+$"},
                                      }},
            }}],
        },
        "IssuerKey": {
            "type": "object", "required": ["id", "type", "publicKeyMultibase", "created"],
            "properties": {
                "id": {"type": "string"}, "type": {"type": "string", "enum": ["Multikey"]},
                "publicKeyMultibase": MULTIKEY, "created": DATE_TIME,
                "retired": {"type": "string", "format": "date-time", "nullable": True,
                            "description": "set once a rotation replaced this key; it no longer signs"},
            },
        },
        "Issuer": {
            "type": "object", "required": ["did", "label", "verificationMethod", "keys"],
            "properties": {
                "did": DID, "label": {"type": "string", "maxLength": 64}, "created": DATE_TIME,
                "verificationMethod": {"type": "string", "description": "the key that signs now"},
                "keys": {"type": "array", "items": ref("IssuerKey")},
                "cryptosuites": {"type": "array", "items": {"type": "string"}},
                "statusLists": {"type": "array", "items": {"type": "string", "format": "uri"}},
            },
        },
        "Discovery": {
            "type": "object", "required": ["issuers", "cryptosuites"],
            "properties": {
                "issuers": {"type": "array", "items": ref("Issuer")},
                "cryptosuites": {"type": "array", "items": {"type": "object", "required": ["name"],
                                                            "properties": {
                                                                "name": {"type": "string"},
                                                                "proofType": {"type": "string"},
                                                                "issue": {"type": "boolean"},
                                                                "verify": {"type": "boolean"}}}},
            },
        },
    }
