"""JSON Canonicalization Scheme (RFC 8785), the only JSON→bytes path for signing and hashing.

Uses the maintained ``rfc8785`` package (Trail of Bits). Errors (NaN, non-string keys, integers
beyond IEEE 754 double precision) become :class:`~ledgr.errors.InvalidDocument`.
"""

from __future__ import annotations

from typing import Any

import rfc8785

from ledgr.errors import InvalidDocument


def canonicalize(value: Any) -> bytes:
    """RFC 8785 §3.2 canonical UTF-8 bytes of a JSON value."""
    try:
        return rfc8785.dumps(value)
    except (rfc8785.CanonicalizationError, TypeError, ValueError) as exc:
        raise InvalidDocument(f"value cannot be canonicalized (RFC 8785): {exc}") from exc
