"""A tiny blocking HTTP client for the CLI (stdlib only), turning failures into one-line errors."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any

from ledgr.errors import (
    Conflict,
    Forbidden,
    InvalidInput,
    LedgrError,
    NotFound,
    RateLimited,
    TooLarge,
    Unauthorized,
    Unavailable,
    Unprocessable,
)

MAX_RESPONSE_BYTES = 16 << 20
# a node's problem+json status → the error class the CLI re-raises (its detail is shown as is)
BY_STATUS: dict[int, type[LedgrError]] = {
    400: InvalidInput, 401: Unauthorized, 403: Forbidden, 404: NotFound, 409: Conflict, 413: TooLarge,
    422: Unprocessable, 429: RateLimited, 503: Unavailable,
}


def _url(base: str, path: str) -> str:
    if not base.startswith(("http://", "https://")):
        raise Unavailable(f"node URL must start with http:// or https:// (got {base!r})")
    return base.rstrip("/") + path


def request_json(base: str, path: str, body: Any = None, timeout_s: float = 30.0,
                 raw: bytes | None = None) -> Any:
    data = raw if raw is not None else (None if body is None else json.dumps(body).encode())
    headers = {"Accept": "application/json"}
    if raw is not None:
        headers["Content-Type"] = "application/octet-stream"
    elif body is not None:
        headers["Content-Type"] = "application/json"
    req = urllib.request.Request(_url(base, path), data=data, headers=headers,
                                 method="POST" if data is not None else "GET")
    try:
        with urllib.request.urlopen(req, timeout=timeout_s) as response:
            return json.loads(response.read(MAX_RESPONSE_BYTES))
    except urllib.error.HTTPError as exc:
        try:
            problem = json.loads(exc.read(MAX_RESPONSE_BYTES))
            detail = problem.get("detail") or problem.get("title") or str(exc)
        except (ValueError, AttributeError):
            detail = f"HTTP {exc.code}"
        raise BY_STATUS.get(exc.code, Unavailable)(f"{base}: {detail}", status=exc.code) from exc
    except (urllib.error.URLError, TimeoutError, ConnectionError) as exc:
        reason = getattr(exc, "reason", exc)
        raise Unavailable(f"cannot reach node at {base}: {reason}") from exc
    except json.JSONDecodeError as exc:
        raise Unavailable(f"{base} did not answer with JSON") from exc


def get_json(base: str, path: str, timeout_s: float = 30.0) -> Any:
    return request_json(base, path, timeout_s=timeout_s)
