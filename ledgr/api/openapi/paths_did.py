"""OpenAPI paths: DID resolution (with content negotiation), the DID registrar, tokens, and the API docs.

DID resolution errors are DID Resolution results, not problem+json, for clients that ask for a DID
resolution media type (the default): the current spec's error object for ``application/did-resolution``
and the older string codes for the ``ld+json`` profile. A client that sends
``Accept: application/problem+json`` gets RFC 9457 problems instead (the ADR error convention).
"""

from __future__ import annotations

from typing import Any

from ledgr.api.openapi import examples as ex
from ledgr.api.openapi.common import PROBLEM_JSON, VERSION_HEADER, body, ok, ok_multi, operation, param, ref

TAG = "DIDs"
ADMIN_TAG = "Administration"
DOCS_TAG = "API documentation"

DID_RESOLUTION = "application/did-resolution"
LEGACY_RESOLUTION = 'application/ld+json;profile="https://w3id.org/did-resolution"'
DID_LD_JSON = "application/did+ld+json"
DID_JSON = "application/did+json"
RESOLUTION_CONTEXT = "https://w3id.org/did-resolution/v1"

# HTTP status -> (current error type suffix, legacy code, title, detail)
DID_ERRORS: dict[int, tuple[str, str, str, str]] = {
    400: ("INVALID_DID", "invalidDid", "Invalid DID", "not a valid DID or DID URL: did:ledgr:"),
    404: ("NOT_FOUND", "notFound", "DID not found", f"no DID {ex.HOLDER_DID} on this ledger"),
    406: ("REPRESENTATION_NOT_SUPPORTED", "representationNotSupported", "Representation not supported",
          "supported: application/did-resolution, application/did+ld+json, application/did+json"),
    501: ("METHOD_NOT_SUPPORTED", "methodNotSupported", "DID method not supported",
          "this node resolves did:ledgr and did:key"),
}


def _did_error_response(status: int) -> dict[str, Any]:
    suffix, legacy, title, detail = DID_ERRORS[status]
    current = {"@context": RESOLUTION_CONTEXT, "didDocument": None,
               "didResolutionMetadata": {"error": {"type": f"https://www.w3.org/ns/did#{suffix}",
                                                   "title": title, "detail": detail}},
               "didDocumentMetadata": {}}
    old = {"@context": RESOLUTION_CONTEXT, "didDocument": None,
           "didResolutionMetadata": {"error": legacy, "errorMessage": detail}, "didDocumentMetadata": {}}
    problem = {"type": f"https://ledgr.dev/problems/{title.lower().replace(' ', '-')}", "title": title,
               "status": status, "detail": detail}
    return {
        "description": f"{title}: a DID Resolution result with error `{suffix}` (or `{legacy}` in the "
                       "legacy profile); problem+json when asked for.",
        "headers": VERSION_HEADER,
        "content": {
            DID_RESOLUTION: {"schema": ref("DidResolutionResult"), "example": current},
            LEGACY_RESOLUTION: {"schema": ref("LegacyDidResolutionResult"), "example": old},
            PROBLEM_JSON: {"schema": ref("Problem"), "example": problem},
        },
    }


def did_paths() -> dict[str, Any]:
    metadata = {**ex.DID_DOCUMENT_METADATA}
    result = {"@context": RESOLUTION_CONTEXT, "didDocument": ex.DID_DOCUMENT,
              "didResolutionMetadata": {"contentType": DID_LD_JSON}, "didDocumentMetadata": metadata}
    deactivated_meta = {**metadata, "deactivated": True}
    dereferenced = {"@context": RESOLUTION_CONTEXT, "content": ex.DID_DOCUMENT["verificationMethod"][0],
                    "dereferencingMetadata": {"contentType": DID_LD_JSON}, "contentMetadata": metadata}
    gone = {
        "description": "Deactivated: the final document with `deactivated: true` in its metadata.",
        "headers": VERSION_HEADER,
        "content": {
            DID_RESOLUTION: {"schema": ref("DidResolutionResult"),
                             "example": {**result, "didDocumentMetadata": deactivated_meta}},
            LEGACY_RESOLUTION: {"schema": ref("LegacyDidResolutionResult"),
                                "example": {**result, "didDocumentMetadata": deactivated_meta}},
            PROBLEM_JSON: {"schema": ref("Problem"),
                           "example": {"type": "https://ledgr.dev/problems/did-deactivated",
                                       "title": "DID deactivated", "status": 410,
                                       "detail": f"{ex.ISSUER_DID} was deactivated"}},
        },
    }
    registration = {"did": ex.ISSUER_DID, "state": "finished", "operationHash": ex.OPERATION_HASH,
                    "didDocument": ex.DID_DOCUMENT, "didDocumentMetadata": metadata}
    token = {"id": ex.TOKEN_ID, "label": "issuer app Gemeente Voorbeeld",
             "scopes": [f"issue:{ex.ISSUER_DID}", f"status:{ex.ISSUER_DID}"], "created": ex.TIME,
             "expires": None, "revoked": None, "state": "active"}
    return {
        "/identifiers/{did}": {
            "get": operation(
                op_id="resolveDid", access="read", tag=TAG, summary="Resolve a DID or dereference a DID URL",
                description="W3C DID Resolution over HTTP(S) (also served as the Universal Resolver driver "
                            "path `/1.0/identifiers/{did}`). The DID (or DID URL, e.g. with `#fragment` "
                            "as `%23`) is URL-encoded in the path. The `Accept` header chooses the "
                            "representation: `application/did-resolution` (default), "
                            "`application/ld+json;profile=\"https://w3id.org/did-resolution\"`, "
                            "`application/did+ld+json` or `application/did+json` (the bare document). "
                            "Errors are DID Resolution results: 400 invalid DID, 404 not found, 410 "
                            "deactivated, 406 unsupported representation, 501 unsupported method.",
                parameters=[param("Did"), param("VersionId"), param("VersionTime"), param("Proof")],
                responses={
                    "200": ok_multi("The resolution result or document; for a DID URL, the "
                                    "dereferencing result or the dereferenced content", {
                        DID_RESOLUTION: ({"anyOf": [ref("DidResolutionResult"),
                                                    ref("DidUrlDereferencingResult")]}, result),
                        LEGACY_RESOLUTION: ({"anyOf": [ref("LegacyDidResolutionResult"),
                                                       ref("DidUrlDereferencingResult")]}, dereferenced),
                        DID_LD_JSON: ({"anyOf": [ref("DidDocument"), ref("VerificationMethod")]},
                                      ex.DID_DOCUMENT),
                        DID_JSON: ({"anyOf": [ref("DidDocument"), ref("VerificationMethod")]},
                                   {k: v for k, v in ex.DID_DOCUMENT.items() if k != "@context"}),
                    }),
                    "400": _did_error_response(400),
                    "404": _did_error_response(404),
                    "406": _did_error_response(406),
                    "410": gone,
                    "501": _did_error_response(501),
                }),
            "put": operation(
                op_id="updateDid", access="issue", tag=TAG, summary="Update a DID document (registrar)",
                description="Replaces the document of a did:ledgr whose controller key the node holds "
                            "(the token needs `issue:<did>` for this DID): "
                            "builds, signs and submits a `did.update` operation and waits (bounded) for "
                            "its commit. `prev` guards against lost updates (409 when stale).",
                parameters=[param("Did")],
                request_body=body(ref("DidUpdateRequest"), {"didDocument": ex.DID_DOCUMENT,
                                                            "prev": ex.VERSION_ID},
                                  description="the new document"),
                responses={"200": ok("Updated", ref("DidRegistrationResult"), registration)},
                errors=(404, 409, 410, 422)),
            "delete": operation(
                op_id="deactivateDid", access="issue", tag=TAG, summary="Deactivate a DID (registrar)",
                description="Submits a `did.deactivate` operation signed with a controller key the node "
                            "holds; the DID then resolves as deactivated (410).",
                parameters=[param("Did")],
                responses={"200": ok("Deactivated", ref("DidRegistrationResult"),
                                     {**registration, "didDocumentMetadata": deactivated_meta})},
                errors=(404, 409, 410, 422)),
        },
        "/identifiers": {"post": operation(
            op_id="createDid", access="issue", tag=TAG, summary="Create a did:ledgr (registrar)",
            description="Creates a did:ledgr controlled by a key in the node's keystore (the token needs "
                        "`issue:<did>` for the new DID, which is derived from the document): builds the "
                        "document, derives the self-certifying id, signs and submits `did.create` and "
                        "waits (bounded) for its commit.",
            request_body=body(ref("DidCreateRequest"), {"verificationMethod": ex.ISSUER_VM},
                              description="the keystore key to use and optionally a document"),
            responses={"201": ok("Created", ref("DidRegistrationResult"), registration,
                                 headers={"Location": {"$ref": "#/components/headers/Location"}})},
            errors=(404, 409, 422))},
        "/tokens": {
            "get": operation(
                op_id="listTokens", access="admin", tag=ADMIN_TAG, summary="List API tokens",
                description="Every token's id, label, scopes, dates and state; never secrets or hashes.",
                responses={"200": ok("The tokens", {"type": "array", "items": ref("Token")}, [token])}),
            "post": operation(
                op_id="createToken", access="admin", tag=ADMIN_TAG, summary="Create an API token",
                description="Returns the bearer token once; only its SHA-256 is stored.",
                request_body=body(ref("TokenCreateRequest"),
                                  {"label": token["label"], "scopes": token["scopes"],
                                   "expiresInSeconds": 7776000},
                                  description="label, scopes and optional lifetime"),
                responses={"201": ok("Created", ref("TokenCreated"), {**token, "token": ex.TOKEN},
                                     headers={"Location": {"$ref": "#/components/headers/Location"}})},
                errors=(422,)),
        },
        "/tokens/{tokenId}": {"delete": operation(
            op_id="revokeToken", access="admin", tag=ADMIN_TAG, summary="Revoke an API token",
            description="Revokes at once (running nodes re-read the token store); the record stays for "
                        "the audit trail.",
            parameters=[param("TokenId")],
            responses={"200": ok("Revoked", ref("Token"), {**token, "revoked": ex.TIME, "state": "revoked"})},
            errors=(404, 409))},
        "/openapi.json": {"get": operation(
            op_id="getOpenApi", access="public", tag=DOCS_TAG, summary="This OpenAPI document",
            description="The OpenAPI 3 description of the whole `/v1` API.",
            responses={"200": ok("The document", {"type": "object"}, {"openapi": "3.0.3"})})},
        "/docs": {"get": operation(
            op_id="getApiReference", access="public", tag=DOCS_TAG, summary="The API reference page",
            description="A self-contained HTML rendering of this document (no external scripts).",
            responses={"200": ok("HTML page", {"type": "string"}, "<!doctype html>…", media="text/html")})},
    }
