"""The OpenAPI 3.0 description of ledgr's whole ``/v1`` HTTP API (NL API Design Rules /core/publish-openapi).

The document is built from Python data (:func:`build_document`), so routes, schemas and examples live
next to each other and a test can lint it with the ADR Spectral ruleset and compare it with the app's
routes. ``reference.html`` beside this file is the offline rendering served as the API reference page.
"""

from __future__ import annotations

from typing import Any

__all__ = ["API_VERSION", "build_document", "documented_routes", "route_access", "served_routes"]

# The full API version (semver), returned in the ``API-Version`` header of every response
# (/core/version-header); the major version is the ``/v1`` in every path.
API_VERSION = "1.0.0"


def build_document(server_url: str = "https://ledgr.example.nl/v1") -> dict[str, Any]:
    """The complete OpenAPI document; ``server_url`` is the node's public ``/v1`` base URL."""
    from ledgr.api.openapi.document import document

    return document(server_url)


def documented_routes(document: dict[str, Any], prefix: str = "/v1") -> set[tuple[str, str]]:
    """``{(METHOD, "/v1/path/{param}")}`` of a document, to compare with an app's router in a test."""
    methods = {"get", "put", "post", "delete", "patch"}
    return {(method.upper(), prefix + path) for path, item in document["paths"].items()
            for method in item if method in methods}


def served_routes(app: Any, prefix: str = "/v1") -> set[tuple[str, str]]:
    """``{(METHOD, canonical path)}`` an aiohttp app serves under ``prefix`` (HEAD and ``*`` left out).

    ``assert served_routes(app) == documented_routes(build_document())`` keeps the document in sync
    with the routes (``{id:.+}`` patterns compare by their canonical ``{id}``).
    """
    out: set[tuple[str, str]] = set()
    for route in app.router.routes():
        resource = route.resource
        if resource is None or route.method in {"HEAD", "*"}:
            continue
        canonical = str(resource.canonical)
        if canonical == prefix or canonical.startswith(prefix + "/"):
            out.add((route.method, canonical))
    return out


def route_access(document: dict[str, Any], prefix: str = "/v1") -> dict[tuple[str, str], str]:
    """``{(METHOD, "/v1/path/{param}"): access level}`` from each operation's ``x-ledgr-access``.

    Pass it as ``route_access`` to :func:`ledgr.api.auth.auth_middleware`, so what the document says
    about authentication is exactly what the middleware enforces.
    """
    methods = {"get", "put", "post", "delete", "patch"}
    return {(method.upper(), prefix + path): str(op["x-ledgr-access"])
            for path, item in document["paths"].items() for method, op in item.items() if method in methods}
