"""Assembles the OpenAPI 3.0 document: info, servers, tags, shared components and every ``/v1`` path."""

from __future__ import annotations

from typing import Any

from ledgr import __version__
from ledgr.api.openapi import API_VERSION
from ledgr.api.openapi import examples as ex
from ledgr.api.openapi.common import ERROR_RESPONSES, PROBLEM_JSON, VERSION_HEADER, ref
from ledgr.api.openapi.paths_did import did_paths
from ledgr.api.openapi.paths_ledger import ledger_paths
from ledgr.api.openapi.paths_vc import vc_paths
from ledgr.api.openapi.schemas_core import STATE_KINDS, core_schemas
from ledgr.api.openapi.schemas_did import did_schemas
from ledgr.api.openapi.schemas_vc import vc_schemas

OPENAPI_VERSION = "3.0.3"

DESCRIPTION = """\
The HTTP API of a ledgr node: a BFT ledger of `did:ledgr` DID documents and Bitstring Status Lists,
a W3C VC API issuer and verifier, and a DID resolver. Every node of a network serves the whole API.

Conventions (NL API Design Rules): the major version is in the path (`/v1`), every response carries
`API-Version`, errors are RFC 9457 `application/problem+json` with `status`, `title`, `detail`, a stable
`code` and a `type` URI `https://ledgr.dev/problems/<code>`. DID resolution errors are DID Resolution
results unless `application/problem+json` is asked for.

Authentication: bearer tokens (`Authorization: Bearer ledgr_…`) created by an admin with
`ledgr token create`, scoped `issue:<did>`, `status`, `status:<did>`, `read` or `admin`. Resolve and
verify are public unless the node is configured with private reads. Rate limits apply per token (per
client IP without one): 429 with `Retry-After`. Request bodies are limited (413)."""

TAGS = [
    ("Credentials", "W3C VC API: issue and verify credentials and presentations"),
    ("Status lists", "Bitstring Status Lists: revoke, suspend, serve status list credentials"),
    ("Issuers", "Issuers held by this node and discovery of supported suites"),
    ("DIDs", "DID resolution and registrar operations"),
    ("Operations", "Signed ledger operations"),
    ("Ledger", "Blocks, state with proofs and node status"),
    ("Operations monitoring", "Liveness and readiness probes"),
    ("Administration", "API tokens"),
    ("API documentation", "This document and its rendering"),
]

ERROR_TEXT: dict[int, tuple[str, str]] = {
    400: ("Invalid input", "the request body or a parameter is malformed"),
    401: ("Unauthorized", "this endpoint requires a bearer token"),
    403: ("Forbidden", "this token lacks the 'admin' scope"),
    404: ("Not found", "no such resource"),
    406: ("Not acceptable", "no representation matches the Accept header"),
    409: ("Conflict", "the object changed since the given prev version"),
    410: ("Gone", "the resource was deactivated"),
    413: ("Input too large", "the request body is larger than 1048576 bytes"),
    415: ("Unsupported media type", "send application/json"),
    422: ("Verification failed", "proof 0: signature does not verify"),
    429: ("Too many requests", "rate limit exceeded; retry after 2 s"),
    500: ("Internal Server Error", "the server failed to handle this request; it has been logged"),
    501: ("Not implemented", "this node does not support that"),
    503: ("Service unavailable", "no quorum: the network cannot commit right now"),
}


def _error_response(status: int) -> dict[str, Any]:
    title, detail = ERROR_TEXT[status]
    code = title.lower().replace(" ", "-")
    example: dict[str, Any] = {"type": f"https://ledgr.dev/problems/{code}", "title": title,
                               "status": status, "detail": detail, "instance": "/v1/credentials/issue",
                               "code": code}
    headers: dict[str, Any] = dict(VERSION_HEADER)
    if status == 401:
        headers["WWW-Authenticate"] = {"$ref": "#/components/headers/WWW-Authenticate"}
    if status == 429:
        headers["Retry-After"] = {"$ref": "#/components/headers/Retry-After"}
        example["retryAfterSeconds"] = 2
    if status == 422:
        example["errors"] = [{"code": "verification-failed", "message": detail,
                              "type": "https://ledgr.dev/problems/verification-failed",
                              "title": "Verification failed"}]
    return {"description": title, "headers": headers,
            "content": {PROBLEM_JSON: {"schema": ref("Problem"), "example": example}}}


def _parameters() -> dict[str, Any]:
    def path(name: str, schema: dict[str, Any], description: str, example: Any) -> dict[str, Any]:
        return {"name": name, "in": "path", "required": True, "schema": schema, "description": description,
                "example": example}

    def query(name: str, schema: dict[str, Any], description: str, example: Any) -> dict[str, Any]:
        return {"name": name, "in": "query", "required": False, "schema": schema,
                "description": description, "example": example}

    return {
        "OperationHash": path("hash", {"type": "string", "pattern": "^[0-9a-f]{64}$"},
                              "SHA-256 of the operation, hex", ex.OPERATION_HASH),
        "Height": path("height", {"type": "integer", "minimum": 0}, "block height", 1042),
        "StateKind": path("kind", {"type": "string", "enum": STATE_KINDS}, "state object kind", "did"),
        "StateId": path("id", {"type": "string", "maxLength": 2048}, "object id (URL-encoded)",
                        ex.ISSUER_DID),
        "StatusListId": path("id", {"type": "string", "pattern": "^[A-Za-z0-9_-]{1,128}$"},
                             "status list id", ex.STATUS_LIST_ID),
        "Did": path("did", {"type": "string", "maxLength": 2048},
                    "a DID or DID URL, URL-encoded", ex.ISSUER_DID),
        "TokenId": path("tokenId", {"type": "string", "pattern": "^[0-9a-f]{16}$"}, "public token id",
                        ex.TOKEN_ID),
        "Wait": query("wait", {"type": "number", "minimum": 0, "maximum": 60, "default": 0},
                      "long-poll up to this many seconds for a final state", 5),
        "Proof": query("proof", {"type": "boolean", "default": False},
                       "include the certified read (SMT proof, header, QC)", True),
        "VersionId": query("versionId", {"type": "string", "maxLength": 128},
                           "resolve this version of the DID document", ex.VERSION_ID),
        "VersionTime": query("versionTime", {"type": "string", "format": "date-time"},
                             "resolve the version valid at this time", ex.TIME),
    }


def document(server_url: str) -> dict[str, Any]:
    paths: dict[str, Any] = {}
    for group in (vc_paths(), did_paths(), ledger_paths()):
        overlap = paths.keys() & group.keys()
        if overlap:
            raise ValueError(f"duplicate OpenAPI paths: {sorted(overlap)}")
        paths.update(group)
    return {
        "openapi": OPENAPI_VERSION,
        "info": {
            "title": "ledgr node API",
            "version": API_VERSION,
            "description": DESCRIPTION,
            "contact": {"name": "ledgr maintainers", "email": "ledgr@example.nl",
                        "url": "https://ledgr.example.nl/support"},
            "license": {"name": "Apache-2.0", "url": "https://www.apache.org/licenses/LICENSE-2.0"},
            "x-ledgr-software-version": __version__,
        },
        "servers": [{"url": server_url, "description": "this node (major version 1)"}],
        "tags": [{"name": name, "description": text} for name, text in TAGS],
        "paths": dict(sorted(paths.items())),
        "components": {
            "schemas": {**core_schemas(), **vc_schemas(), **did_schemas()},
            "parameters": _parameters(),
            "headers": {
                "API-Version": {"description": "the full API version (semver)", "required": True,
                                "schema": {"type": "string", "example": API_VERSION}},
                "Location": {"description": "URL of the created or accepted resource (a reference "
                                            "relative to this node, RFC 9110 §10.2.2)",
                             "schema": {"type": "string", "format": "uri-reference"}},
                "Retry-After": {"description": "seconds to wait before retrying",
                                "schema": {"type": "integer", "minimum": 1}},
                "WWW-Authenticate": {"description": "RFC 6750 Bearer challenge",
                                     "schema": {"type": "string", "example": 'Bearer realm="ledgr"'}},
            },
            "responses": {name: _error_response(status) for status, name in ERROR_RESPONSES.items()},
            "securitySchemes": {
                "bearerAuth": {"type": "http", "scheme": "bearer", "bearerFormat": "ledgr_<id>_<secret>",
                               "description": "API token from `ledgr token create`"},
            },
        },
    }
