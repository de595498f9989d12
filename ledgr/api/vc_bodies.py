"""Typed access to JSON request bodies of the issuer/verifier routes, with clear 400s.

Bodies are bounded (``api.max_body_bytes`` → 413) and must be JSON objects; each member is checked
for its type before use, so a wrong type is a 400 naming the member, never a 500.
"""

from __future__ import annotations

from typing import Any, TypeVar

from aiohttp import web

from ledgr.api.bodies import read_json
from ledgr.api.context import node_of
from ledgr.errors import InvalidInput

T = TypeVar("T")


async def json_object(request: web.Request) -> dict[str, Any]:
    body = await read_json(request, node_of(request).config.api.max_body_bytes)
    if not isinstance(body, dict):
        raise InvalidInput("the request body must be a JSON object")
    return body


def member(body: dict[str, Any], name: str, kind: type[T], *, required: bool = False,
           where: str = "body") -> T | None:
    value = body.get(name)
    if value is None:
        if required:
            raise InvalidInput(f"{where} needs member {name!r}", property=name)
        return None
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise InvalidInput(f"{where}.{name} must be a {_names.get(kind, kind.__name__)}", property=name)
    return value


def required(body: dict[str, Any], name: str, kind: type[T], *, where: str = "body") -> T:
    value = member(body, name, kind, required=True, where=where)
    assert value is not None
    return value


def issuer_of(credential: dict[str, Any]) -> str:
    issuer = credential.get("issuer")
    if isinstance(issuer, dict):
        issuer = issuer.get("id")
    if not isinstance(issuer, str) or not issuer.startswith("did:"):
        raise InvalidInput("credential.issuer must be the DID of an issuer held by this node",
                           property="issuer")
    return issuer


_names = {dict: "JSON object", list: "JSON array", str: "string", int: "integer", bool: "boolean"}
