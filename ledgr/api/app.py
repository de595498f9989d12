"""The node's HTTP application (aiohttp): one app per node, routes grouped in small per-area modules.

Cross-cutting rules live here once: RFC 9457 problem+json for every error
(:mod:`ledgr.api.problems`), the ``API-Version`` header on every response, and a request body limit
(``api.max_body_bytes``; larger bodies get 413). Route modules (``routes_*.py``) each export
``register(app)``; later areas (credentials, identifiers) add their own module and one line here.
"""

from __future__ import annotations

from aiohttp import web

from ledgr.api import routes_ledger, routes_ops
from ledgr.api.context import NODE
from ledgr.api.problems import add_api_version, problem_middleware
from ledgr.node.runtime import Node


def create_app(node: Node) -> web.Application:
    app = web.Application(middlewares=[problem_middleware],
                          client_max_size=node.config.api.max_body_bytes)
    app[NODE] = node
    app.on_response_prepare.append(add_api_version)
    routes_ops.register(app)
    routes_ledger.register(app)
    return app
