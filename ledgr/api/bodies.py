"""Request parsing helpers: bounded bodies and query parameters with clear 400s."""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

from ledgr.errors import InvalidInput, TooLarge


async def read_json(request: web.Request, max_bytes: int) -> Any:
    """The JSON body of ``request``; larger than ``max_bytes`` → 413, not JSON → 400."""
    if request.content_length is not None and request.content_length > max_bytes:
        raise TooLarge(f"request body exceeds {max_bytes} bytes", limit=max_bytes)
    body = await request.content.read(max_bytes + 1)
    if len(body) > max_bytes:
        raise TooLarge(f"request body exceeds {max_bytes} bytes", limit=max_bytes)
    try:
        return json.loads(body)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InvalidInput("request body is not valid JSON") from exc


def query_float(request: web.Request, name: str, default: float, low: float, high: float) -> float:
    raw = request.query.get(name)
    if raw is None:
        return default
    try:
        value = float(raw)
    except ValueError as exc:
        raise InvalidInput(f"query parameter {name} must be a number") from exc
    if not low <= value <= high:
        raise InvalidInput(f"query parameter {name} must be between {low:g} and {high:g}")
    return value


def query_bool(request: web.Request, name: str) -> bool:
    raw = request.query.get(name, "false").lower()
    if raw in ("true", "1", "yes"):
        return True
    if raw in ("false", "0", "no"):
        return False
    raise InvalidInput(f"query parameter {name} must be true or false")


def path_int(request: web.Request, name: str) -> int:
    raw = request.match_info[name]
    if not raw.isdigit() or len(raw) > 19:
        raise InvalidInput(f"{name} must be a non-negative integer")
    return int(raw)
