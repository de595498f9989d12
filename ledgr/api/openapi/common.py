"""Builders shared by the OpenAPI path modules: operations, responses, parameters and error references.

Every operation gets the same conventions (NL API Design Rules): an ``API-Version`` header on every
response, RFC 9457 problem+json for every 4xx/5xx, and a 400 for bad input. Keeping them in one builder
means a new path cannot forget them.
"""

from __future__ import annotations

from typing import Any

JSON = "application/json"
PROBLEM_JSON = "application/problem+json"

# component response name for each error status
ERROR_RESPONSES: dict[int, str] = {
    400: "BadRequest",
    401: "Unauthorized",
    403: "Forbidden",
    404: "NotFound",
    406: "NotAcceptable",
    409: "Conflict",
    410: "Gone",
    413: "PayloadTooLarge",
    415: "UnsupportedMediaType",
    422: "Unprocessable",
    429: "TooManyRequests",
    500: "InternalServerError",
    501: "NotImplemented",
    503: "ServiceUnavailable",
}
# Every operation can answer these (limits, rate limits, bugs, overload).
ALWAYS = (400, 401, 429, 500, 503)
BODY_ERRORS = (413, 415)

VERSION_HEADER = {"API-Version": {"$ref": "#/components/headers/API-Version"}}


def ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def param(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/parameters/{name}"}


def ok(description: str, schema: dict[str, Any], example: Any, *, media: str = JSON,
       headers: dict[str, Any] | None = None) -> dict[str, Any]:
    """A success response with one media type, its schema, an example and the version header."""
    return {
        "description": description,
        "headers": {**VERSION_HEADER, **(headers or {})},
        "content": {media: {"schema": schema, "example": example}},
    }


def ok_multi(description: str, contents: dict[str, tuple[dict[str, Any], Any]],
             headers: dict[str, Any] | None = None) -> dict[str, Any]:
    """A success response offered in several media types (content negotiation)."""
    return {
        "description": description,
        "headers": {**VERSION_HEADER, **(headers or {})},
        "content": {media: {"schema": schema, "example": example}
                    for media, (schema, example) in contents.items()},
    }


def body(schema: dict[str, Any], example: Any, *, description: str, media: str = JSON) -> dict[str, Any]:
    return {"required": True, "description": description,
            "content": {media: {"schema": schema, "example": example}}}


ACCESS_TEXT = {
    "public": "Public.",
    "read": "Public, unless the node runs with private reads: then any valid bearer token.",
    "issue": "Requires a bearer token with scope `issue:<DID>` for the DID it acts as.",
    "status": "Requires a bearer token with scope `status` or `status:<issuer DID>`.",
    "admin": "Requires a bearer token with scope `admin`.",
}


def operation(*, op_id: str, tag: str, summary: str, description: str, access: str,
              responses: dict[str, Any], errors: tuple[int, ...] = (),
              parameters: list[dict[str, Any]] | None = None,
              request_body: dict[str, Any] | None = None) -> dict[str, Any]:
    """One operation with the house conventions applied.

    ``access`` is the level the auth middleware enforces (``x-ledgr-access``, read back by
    :func:`ledgr.api.openapi.route_access`): ``public``, ``read``, ``issue``, ``status`` or ``admin``.
    Any route answers 401 to an invalid token, so 401 is documented everywhere; 403 where scopes apply.
    """
    if access not in ACCESS_TEXT:
        raise ValueError(f"unknown access level {access!r}")
    codes = set(ALWAYS) | set(errors)
    if request_body is not None:
        codes |= set(BODY_ERRORS)
    if access in {"issue", "status", "admin"}:
        codes.add(403)
    all_responses = dict(responses)
    for code in sorted(codes):
        all_responses.setdefault(str(code), {"$ref": f"#/components/responses/{ERROR_RESPONSES[code]}"})
    bearer: dict[str, list[str]] = {"bearerAuth": []}
    security: list[dict[str, list[str]]] = {"public": [], "read": [{}, bearer]}.get(access, [bearer])
    op: dict[str, Any] = {
        "operationId": op_id,
        "tags": [tag],
        "summary": summary,
        "description": f"{description}\n\n{ACCESS_TEXT[access]}",
        "responses": all_responses,
        "security": security,
        "x-ledgr-access": access,
    }
    if parameters:
        op["parameters"] = parameters
    if request_body is not None:
        op["requestBody"] = request_body
    return op
