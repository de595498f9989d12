"""Bearer-token authentication and per-route scopes (issue 6 "Auth"; RFC 6750 for the Bearer scheme).

Each route says what it needs, either by decorating its handler with :func:`requires` or through the
``route_access`` map given to :func:`auth_middleware` (keyed by ``(METHOD, canonical path)``):

- ``"public"``  anyone (health, discovery, the OpenAPI document, status lists);
- ``"read"``    anyone, unless the node is configured with ``private_reads``: then any valid token
                (resolve, verify);
- ``"issue"``   a token with some ``issue:<did>`` scope; the handler then calls
                :func:`require_issuer_scope` with the DID it will sign as, so an issuer token can never
                sign as another issuer;
- ``"status"``  a token with ``status`` or some ``status:<did>``; the handler calls
                :func:`require_status_scope`;
- ``"admin"``   a token with ``admin``.

No or an invalid token where one is needed → 401 problem+json with ``WWW-Authenticate: Bearer``
(``error="invalid_token"`` when one was presented, RFC 6750 §3.1); a valid token without the scope →
403 with ``error="insufficient_scope"``. A token presented on a public route must still be valid, so
clients learn early that theirs is wrong. Failed attempts are charged to the client IP's bucket of an
optional limiter, so guessing turns into 429s.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime
from typing import Any, Literal, TypeVar

from aiohttp import web

from ledgr.api.audit import AuditLog, actor_of, redact
from ledgr.api.problem import problem_response
from ledgr.api.ratelimit import TokenBucketLimiter, client_ip, too_many_requests
from ledgr.api.tokens import PRINCIPAL_KEY, Principal, TokenStore
from ledgr.errors import Forbidden, Unauthorized

__all__ = ["auth_middleware", "principal_of", "require_issuer_scope", "require_status_scope", "requires"]

Access = Literal["public", "read", "issue", "status", "admin"]
ACCESS_LEVELS: frozenset[str] = frozenset({"public", "read", "issue", "status", "admin"})
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
H = TypeVar("H", bound=Callable[..., Any])
_ATTR = "__ledgr_access__"
MAX_AUTHORIZATION_CHARS = 512
REALM = "ledgr"


def requires(access: Access) -> Callable[[H], H]:
    """Mark a handler with the access it needs (read by :func:`auth_middleware`)."""
    if access not in ACCESS_LEVELS:
        raise ValueError(f"unknown access level {access!r}")

    def mark(handler: H) -> H:
        setattr(handler, _ATTR, access)
        return handler

    return mark


def principal_of(request: web.Request) -> Principal | None:
    return request.get(PRINCIPAL_KEY)


def require_issuer_scope(request: web.Request, issuer_did: str) -> Principal:
    """The request's principal if its token may sign as ``issuer_did``; else 401/403."""
    principal = principal_of(request)
    if principal is None:
        raise Unauthorized("issuing requires a bearer token")
    if not principal.can_issue_as(issuer_did):
        raise Forbidden(f"this token may not issue as {issuer_did}", requiredScope=f"issue:{issuer_did}")
    return principal


def require_status_scope(request: web.Request, issuer_did: str) -> Principal:
    """The request's principal if its token may change status entries of ``issuer_did``; else 401/403."""
    principal = principal_of(request)
    if principal is None:
        raise Unauthorized("changing a credential's status requires a bearer token")
    if not principal.can_change_status_of(issuer_did):
        raise Forbidden(f"this token may not change the status of {issuer_did}'s credentials",
                        requiredScope=f"status:{issuer_did}")
    return principal


def auth_middleware(store: TokenStore, *, now: Callable[[], datetime], private_reads: bool = False,
                    default_access: Access = "read",
                    route_access: Mapping[tuple[str, str], Access] | None = None,
                    failure_limiter: TokenBucketLimiter | None = None,
                    audit: AuditLog | None = None,
                    ) -> Callable[[web.Request, Handler], Awaitable[web.StreamResponse]]:
    """Middleware enforcing bearer tokens per route (see the module docstring for the levels).

    With ``audit``, every 403 (a valid token reaching beyond its scopes) is recorded as ``auth.denied``.
    """
    overrides = dict(route_access or {})
    for level in overrides.values():
        if level not in ACCESS_LEVELS:
            raise ValueError(f"unknown access level {level!r}")

    def access_of(request: web.Request) -> str:
        if request.match_info.http_exception is not None:
            return "public"  # no route matched: let the 404/405 through
        route = request.match_info.route
        canonical = route.resource.canonical if route.resource is not None else ""
        level = overrides.get((request.method, canonical))
        if level is None:
            level = getattr(route.handler, _ATTR, None)
        return level or default_access

    def refuse(request: web.Request, error: Unauthorized | Forbidden, challenge: str) -> web.Response:
        if failure_limiter is not None and isinstance(error, Unauthorized):
            wait_s = failure_limiter.acquire("auth-fail:" + client_ip(request))
            if wait_s > 0:
                return too_many_requests(request, wait_s)
        return problem_response(error, request.path, headers={"WWW-Authenticate": challenge})

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        access = access_of(request)
        header = request.headers.get("Authorization")
        principal: Principal | None = None
        if header is not None:
            scheme, _, token = header.strip().partition(" ")
            if scheme.lower() != "bearer" or not token or len(header) > MAX_AUTHORIZATION_CHARS:
                return refuse(request, Unauthorized("use 'Authorization: Bearer <token>'"),
                              f'Bearer realm="{REALM}", error="invalid_request"')
            try:
                principal = store.authenticate(token.strip(), now())
            except Unauthorized as error:
                return refuse(request, error, f'Bearer realm="{REALM}", error="invalid_token"')
            request[PRINCIPAL_KEY] = principal
        if access == "public" or (access == "read" and not private_reads):
            return await handler(request)
        if principal is None:
            return refuse(request, Unauthorized("this endpoint requires a bearer token"),
                          f'Bearer realm="{REALM}"')
        if access != "read" and not principal.has(access):
            if audit is not None:
                audit.record("auth.denied", actor=actor_of(principal), method=request.method,
                             path=redact(request.path), reason=f"missing scope {access}")
            return refuse(request, Forbidden(f"this token lacks the {access!r} scope", requiredScope=access),
                          f'Bearer realm="{REALM}", error="insufficient_scope", scope="{access}"')
        return await handler(request)

    return middleware
