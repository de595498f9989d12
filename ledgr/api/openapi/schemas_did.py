"""OpenAPI schemas: DID documents and DID Resolution results, registrar requests, tokens and issuers admin.

DID Resolution (W3C DID Resolution v0.3 §7 "DID Resolution Result"; §10.1 errors): the current spec's
``didResolutionMetadata.error`` is an object ``{"type": "https://www.w3.org/ns/did#NOT_FOUND", ...}``
(served as ``application/did-resolution``); the older profile
``application/ld+json;profile="https://w3id.org/did-resolution"`` (Universal Resolver drivers) carries a
plain string code such as ``notFound``.
"""

from __future__ import annotations

from typing import Any

from ledgr.api.openapi.common import ref
from ledgr.api.openapi.schemas_core import DATE_TIME, DID, HEX64, MULTIKEY

DID_ERROR_TYPES = [
    "https://www.w3.org/ns/did#INVALID_DID",
    "https://www.w3.org/ns/did#NOT_FOUND",
    "https://www.w3.org/ns/did#REPRESENTATION_NOT_SUPPORTED",
    "https://www.w3.org/ns/did#METHOD_NOT_SUPPORTED",
    "https://www.w3.org/ns/did#INVALID_DID_URL",
    "https://www.w3.org/ns/did#INVALID_OPTIONS",
    "https://www.w3.org/ns/did#INTERNAL_ERROR",
]
LEGACY_DID_ERRORS = ["invalidDid", "notFound", "representationNotSupported", "methodNotSupported",
                     "invalidDidUrl", "invalidOptions", "internalError"]
# the document, or null when resolution failed (OpenAPI 3.0 has no "null" type: a nullable empty object)
NULLABLE_DOCUMENT = {"anyOf": [ref("DidDocument"), {"type": "object", "nullable": True, "maxProperties": 0}]}
SCOPE = {"type": "string", "pattern": "^(admin|read|status|status:did:.+|issue:did:.+)$"}


def did_schemas() -> dict[str, Any]:
    return {
        "VerificationMethod": {
            "type": "object", "required": ["id", "type", "controller"],
            "properties": {"id": {"type": "string"}, "type": {"type": "string"}, "controller": DID,
                           "publicKeyMultibase": {"type": "string"}, "publicKeyJwk": {"type": "object"}},
        },
        "DidDocument": {
            "type": "object", "required": ["id"],
            "description": "A DID document (DID Core §5).",
            "properties": {
                "@context": {"oneOf": [{"type": "string"}, {"type": "array", "items": {}}]},
                "id": DID,
                "controller": {"oneOf": [DID, {"type": "array", "items": DID}]},
                "alsoKnownAs": {"type": "array", "items": {"type": "string"}},
                "verificationMethod": {"type": "array", "items": ref("VerificationMethod")},
                "authentication": {"type": "array", "items": {}},
                "assertionMethod": {"type": "array", "items": {}},
                "capabilityInvocation": {"type": "array", "items": {}},
                "capabilityDelegation": {"type": "array", "items": {}},
                "keyAgreement": {"type": "array", "items": {}},
                "service": {"type": "array", "items": {"type": "object"}},
            },
        },
        "DidDocumentMetadata": {
            "type": "object",
            "properties": {"created": DATE_TIME, "updated": DATE_TIME,
                           "versionId": {"type": "string"}, "nextVersionId": {"type": "string"},
                           "nextUpdate": DATE_TIME, "deactivated": {"type": "boolean"},
                           "proof": {"type": "object",
                                     "description": "the certified read (with `proof=true`)",
                                     "properties": {"smt_proof": {"type": "object"},
                                                    "header": ref("BlockHeader"),
                                                    "qc": ref("QuorumCertificate")}}},
        },
        "DidResolutionError": {
            "type": "object", "required": ["type"],
            "description": "DID Resolution error object (current spec).",
            "properties": {"type": {"type": "string", "enum": DID_ERROR_TYPES},
                           "title": {"type": "string"}, "detail": {"type": "string"}},
        },
        "DidResolutionResult": {
            "type": "object", "required": ["didResolutionMetadata"],
            "description": "`application/did-resolution`: the current DID Resolution result.",
            "properties": {
                "@context": {"type": "string", "enum": ["https://w3id.org/did-resolution/v1"]},
                "didDocument": NULLABLE_DOCUMENT,
                "didResolutionMetadata": {"type": "object", "properties": {
                    "contentType": {"type": "string"},
                    "error": ref("DidResolutionError")}},
                "didDocumentMetadata": ref("DidDocumentMetadata"),
            },
        },
        "LegacyDidResolutionResult": {
            "type": "object", "required": ["didResolutionMetadata"],
            "description": "`application/ld+json;profile=\"https://w3id.org/did-resolution\"`: the "
                           "Universal Resolver result, with string error codes.",
            "properties": {
                "@context": {"type": "string", "enum": ["https://w3id.org/did-resolution/v1"]},
                "didDocument": NULLABLE_DOCUMENT,
                "didResolutionMetadata": {"type": "object", "properties": {
                    "contentType": {"type": "string"},
                    "error": {"type": "string", "enum": LEGACY_DID_ERRORS},
                    "errorMessage": {"type": "string"}}},
                "didDocumentMetadata": ref("DidDocumentMetadata"),
            },
        },
        "DidUrlDereferencingResult": {
            "type": "object", "required": ["dereferencingMetadata"],
            "description": "DID URL dereferencing (a `#fragment` or a DID-linked resource path): the "
                           "content (a verification method, a service, a resource), with metadata.",
            "properties": {
                "@context": {"type": "string", "enum": ["https://w3id.org/did-resolution/v1"]},
                "content": {"description": "the dereferenced resource (any JSON), null on error"},
                "dereferencingMetadata": {"type": "object", "properties": {
                    "contentType": {"type": "string"},
                    "error": {"oneOf": [ref("DidResolutionError"),
                                        {"type": "string", "enum": LEGACY_DID_ERRORS}]}}},
                "contentMetadata": {"type": "object"},
            },
        },
        "DidCreateRequest": {
            "type": "object",
            "description": "Create a did:ledgr whose key the node holds. Without `didDocument` the node "
                           "builds a minimal document around the issuer key.",
            "required": ["verificationMethod"],
            "properties": {
                "verificationMethod": {"type": "string",
                                       "description": "keystore key that signs the create operation"},
                "didDocument": ref("DidDocument"),
            },
        },
        "DidUpdateRequest": {
            "type": "object", "required": ["didDocument"],
            "properties": {"didDocument": ref("DidDocument"),
                           "prev": {"allOf": [HEX64], "description": "version being replaced"},
                           "compromisedKeys": {
                               "type": "array", "minItems": 1, "maxItems": 16, "items": MULTIKEY,
                               "description": "keys to declare compromised: no proof by them verifies "
                                              "any more, whatever its date (docs/did-method.md §4)"}},
        },
        "DidRegistrationResult": {
            "type": "object", "required": ["did", "operationHash", "state"],
            "properties": {
                "did": DID,
                "state": {"type": "string", "enum": ["finished", "pending"],
                          "description": "finished when committed within the wait time"},
                "operationHash": HEX64,
                "didDocument": ref("DidDocument"),
                "didDocumentMetadata": ref("DidDocumentMetadata"),
            },
        },
        "TokenCreateRequest": {
            "type": "object", "required": ["label", "scopes"],
            "properties": {
                "label": {"type": "string", "minLength": 1, "maxLength": 64},
                "scopes": {"type": "array", "minItems": 1, "maxItems": 64, "items": SCOPE},
                "expiresInSeconds": {"type": "integer", "minimum": 1},
            },
        },
        "Token": {
            "type": "object", "required": ["id", "label", "scopes", "created", "state"],
            "properties": {
                "id": {"type": "string", "pattern": "^[0-9a-f]{16}$"},
                "label": {"type": "string"},
                "scopes": {"type": "array", "items": SCOPE},
                "created": DATE_TIME,
                "expires": {"type": "string", "format": "date-time", "nullable": True},
                "revoked": {"type": "string", "format": "date-time", "nullable": True},
                "state": {"type": "string", "enum": ["active", "expired", "revoked"]},
            },
        },
        "TokenCreated": {
            "allOf": [ref("Token"), {"type": "object", "required": ["token"], "properties": {
                "token": {"type": "string", "pattern": "^ledgr_[0-9a-f]{16}_[A-Za-z0-9_-]{43}$",
                          "description": "the bearer token; shown once, stored only as a hash"}}}],
        },
        "IssuerCreateRequest": {
            "type": "object", "required": ["label"],
            "description": "Generate an issuer key on the node (default), or import one.",
            "properties": {
                "label": {"type": "string", "minLength": 1, "maxLength": 64},
                "did": {"allOf": [DID], "description": "a did:ledgr to bind the key to; default: did:key"},
                "didMethod": {"type": "string", "enum": ["key", "ledgr"], "default": "key",
                              "description": "`ledgr`: derive a new did:ledgr from the generated key's "
                                             "default document (publish it with POST /identifiers)"},
                "secretKeyMultibase": {"type": "string", "pattern": "^z3u2[1-9A-HJ-NP-Za-km-z]+$",
                                       "description": "import this key (never returned afterwards)"},
            },
        },
        "KeyRotationResult": {
            "type": "object", "required": ["issuer", "publicKeyMultibase"],
            "properties": {"issuer": ref("Issuer"), "publicKeyMultibase": MULTIKEY},
        },
    }
