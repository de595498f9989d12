"""The issuer/verifier part of a node's app: services, middlewares and routes (docs/api.md).

:func:`install` is the one call ``create_app`` makes: it adds bearer-token auth (route access read
from the OpenAPI document's ``x-ledgr-access``, so the document and the enforcement cannot drift) and
per-token / per-IP rate limits behind the problem+json middleware, and registers the VC API, DID,
status list, admin and documentation routes. Tokens live in ``DATA_DIR/api/tokens.json``, issuer keys
in ``DATA_DIR/keystore`` (unlocked with ``api.keystore_passphrase_file`` or the environment variable
named by ``api.keystore_passphrase_env``), the audit log in ``DATA_DIR/audit.log``.
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from aiohttp import web

from ledgr.api.access_log import AccessLog
from ledgr.api.audit import AuditLog
from ledgr.api.auth import auth_middleware, principal_of
from ledgr.api.openapi import build_document, route_access
from ledgr.api.ratelimit import TokenBucketLimiter, rate_limit_middleware
from ledgr.api.tokens import TokenStore
from ledgr.api.vc_metrics import VcMetrics
from ledgr.node.issuing import ACTOR, IssuerService, keystore_secret
from ledgr.node.runtime import Node
from ledgr.node.status_desk import StatusDesk
from ledgr.node.vc_pool import VcPool

TOKENS_SUBDIR = "api"
AUDIT_FILE = "audit.log"


@dataclass
class Services:
    node: Node
    issuer: IssuerService
    status: StatusDesk
    tokens: TokenStore
    audit: AuditLog
    pool: VcPool
    document: dict[str, Any]
    metrics: VcMetrics

    def actor(self, request: web.Request) -> str:
        """``token:<id>`` of the request (also set for the audit sink of the node services)."""
        principal = principal_of(request)
        actor = "anonymous" if principal is None else f"token:{principal.token_id}"
        ACTOR.set(actor)
        return actor


SERVICES = web.AppKey("ledgr.services", Services)


def services_of(request: web.Request) -> Services:
    return request.app[SERVICES]


def _now() -> datetime:
    return datetime.now(UTC)


def install(app: web.Application, node: Node) -> Services:
    """Wire auth, rate limits, the keystore, the worker pool and every issuer/verifier route."""
    from ledgr.api import routes_admin, routes_did, routes_docs, routes_vc

    config = node.config
    api = config.api
    base = api.public_base_url.rstrip("/") or f"http://{api.host}:{api.port}"
    document = build_document(base + "/v1")
    tokens = TokenStore(config.data_dir / TOKENS_SUBDIR)
    audit = AuditLog(config.data_dir / AUDIT_FILE, now=_now)
    pool = VcPool(config.data_dir, api.signing_workers, api.signing_queue)
    base_dir = config.path.parent if config.path is not None else None
    issuer = IssuerService(node, pool, keystore_secret(api.keystore_passphrase_file,
                                                       api.keystore_passphrase_env, base_dir))

    def sink(event: str, actor: str, fields: dict[str, Any]) -> None:
        audit.record(event, actor=actor, **fields)

    issuer.audit_sink = sink
    services = Services(node, issuer, StatusDesk(issuer), tokens, audit, pool, document,
                        VcMetrics(node.metrics.registry, pool))
    app[SERVICES] = services
    access: dict[tuple[str, str], Any] = dict(route_access(document))
    access[("GET", "/1.0/identifiers/{did}")] = "read"
    clock = time.monotonic
    # after problem+json (set by create_app): the access log sees every answer but aiohttp's own
    # errors, then auth, so rate limits are charged per token
    logged = api.access_log and config.log.level in ("debug", "info")
    access_log = AccessLog(sys.stderr, config.name) if logged else None
    middlewares: list[Any] = [access_log.middleware()] if access_log is not None else []
    middlewares += [
        auth_middleware(tokens, now=_now, private_reads=api.private_reads, default_access="public",
                        route_access=access, failure_limiter=TokenBucketLimiter(5.0, 20, clock=clock),
                        audit=audit),
        rate_limit_middleware(TokenBucketLimiter(api.rate_per_s, api.rate_burst, clock=clock),
                              TokenBucketLimiter(api.rate_per_s, api.rate_burst, clock=clock)),
    ]
    app.middlewares.extend(middlewares)
    routes_vc.register(app)
    routes_did.register(app)
    routes_admin.register(app)
    routes_docs.register(app)

    async def start(_app: web.Application) -> None:
        issuer.open_keystore()
        if access_log is not None:
            access_log.start()

    async def stop(_app: web.Application) -> None:
        if access_log is not None:
            await access_log.stop()
        pool.close()
        audit.close()

    app.on_startup.append(start)
    app.on_cleanup.append(stop)
    return services
