"""A tiny blocking HTTP client for the CLI (stdlib only), turning failures into one-line errors."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any

from ledgr.errors import LedgrError, Unavailable

MAX_RESPONSE_BYTES = 16 << 20


class RemoteError(LedgrError):
    """The node answered with a problem+json error (its detail is shown as is)."""

    code = "remote-error"
    title = "Node error"


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
        error = RemoteError(f"{base}: {detail}")
        error.http_status = exc.code
        raise error from exc
    except (urllib.error.URLError, TimeoutError, ConnectionError) as exc:
        reason = getattr(exc, "reason", exc)
        raise Unavailable(f"cannot reach node at {base}: {reason}") from exc
    except json.JSONDecodeError as exc:
        raise Unavailable(f"{base} did not answer with JSON") from exc


def get_json(base: str, path: str, timeout_s: float = 30.0) -> Any:
    return request_json(base, path, timeout_s=timeout_s)
