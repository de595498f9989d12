"""JSON Canonicalization Scheme (RFC 8785), the only JSON→bytes path for signing and hashing.

Uses the maintained ``rfc8785`` package (Trail of Bits). Errors (NaN, non-string keys, integers
beyond IEEE 754 double precision) become :class:`~ledgr.errors.InvalidDocument`.

Fast path: ``rfc8785`` is pure Python and dominates ``eddsa-jcs-2022`` signing. For the common
JSON that has no floating-point numbers, only integers within ±(2^53 - 1), no lone surrogates and
no object keys outside the Basic Multilingual Plane, RFC 8785 output equals the standard library's
``json.dumps(sort_keys=True, separators=(",", ":"), ensure_ascii=False)``: integers print the same
(§3.2.2.3), both escape exactly ``"``, ``\\`` and U+0000-U+001F with ``\\b \\t \\n \\f \\r`` or
lowercase ``\\u00xx`` (§3.2.2.2), and code-point key order equals UTF-16 order for BMP keys (§3.2.3).
Anything else goes through ``rfc8785``. ``tests/unit/crypto/test_jcs_fast_path.py`` checks the
equivalence on generated JSON.
"""

from __future__ import annotations

import json
from typing import Any

import rfc8785

from ledgr.errors import InvalidDocument

_SAFE_INTEGER = 2**53 - 1
_FAST_PATH_VALUES_MAX = 100_000


def _fast_path_applies(value: Any) -> bool:
    """True when ``json.dumps`` gives the RFC 8785 bytes for ``value`` (see the module docstring)."""
    stack = [value]
    seen = 0
    while stack:
        item = stack.pop()
        seen += 1
        if seen > _FAST_PATH_VALUES_MAX:
            return False
        if isinstance(item, str):
            if not item.isascii() and not _utf8_encodable(item):
                return False
        elif isinstance(item, dict):
            for key in item:
                if not isinstance(key, str) or not (key.isascii() or _bmp_only(key)):
                    return False
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
        elif isinstance(item, bool) or item is None:
            continue
        elif type(item) is int:
            if not -_SAFE_INTEGER <= item <= _SAFE_INTEGER:
                return False
        else:
            return False
    return True


def _utf8_encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _bmp_only(text: str) -> bool:
    return _utf8_encodable(text) and all(ord(c) <= 0xFFFF for c in text)


def canonicalize(value: Any) -> bytes:
    """RFC 8785 §3.2 canonical UTF-8 bytes of a JSON value."""
    if _fast_path_applies(value):
        return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    try:
        return rfc8785.dumps(value)
    except (rfc8785.CanonicalizationError, TypeError, ValueError) as exc:
        raise InvalidDocument(f"value cannot be canonicalized (RFC 8785): {exc}") from exc
