"""RFC 9457 problem+json: kept as an alias of :mod:`ledgr.api.problem`, the one implementation.

``problem_middleware`` renders every :class:`~ledgr.errors.LedgrError`, aiohttp's own HTTP errors
(404, 405 with ``Allow``, 413) and unexpected failures (a 500 that leaks nothing) the same way;
``add_api_version`` puts ``API-Version`` on every response (NL API Design Rules /core/version-header).
"""

from __future__ import annotations

from aiohttp import web

from ledgr.api.openapi import API_VERSION
from ledgr.api.problem import PROBLEM_JSON, problem_middleware

__all__ = ["API_VERSION", "PROBLEM_TYPE", "add_api_version", "problem_middleware"]

PROBLEM_TYPE = PROBLEM_JSON


async def add_api_version(request: web.Request, response: web.StreamResponse) -> None:
    """Dutch API Design Rules (API-57): every response names the API version."""
    response.headers["API-Version"] = API_VERSION
