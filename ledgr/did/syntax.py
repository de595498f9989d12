"""DID and DID URL syntax (DID Core §3.1 and §3.2).

``did = "did:" method-name ":" method-specific-id``; a DID URL adds path, ``?query`` and ``#fragment``.
Parsing is strict and bounded so that a hostile identifier fails fast with a clear message.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import parse_qsl, unquote

from ledgr.errors import InvalidDid

MAX_DID_URL_CHARS = 2048

_METHOD = r"[a-z0-9]+"
_IDCHAR = r"(?:[A-Za-z0-9._-]|%[0-9A-Fa-f]{2})"
_MSI = rf"(?:{_IDCHAR}*:)*{_IDCHAR}+"
_DID_RE = re.compile(rf"^did:({_METHOD}):({_MSI})$")
_DID_URL_RE = re.compile(rf"^(did:{_METHOD}:{_MSI})(/[^?#]*)?(?:\?([^#]*))?(?:#(.*))?$")


@dataclass(frozen=True, slots=True)
class DidUrl:
    """A parsed DID URL: ``did`` plus optional ``path``, ``query`` (ordered pairs) and ``fragment``."""

    did: str
    method: str
    method_specific_id: str
    path: str
    query: tuple[tuple[str, str], ...]
    fragment: str | None

    def query_value(self, name: str) -> str | None:
        for key, value in self.query:
            if key == name:
                return value
        return None


def parse_did(text: str) -> tuple[str, str]:
    """Return ``(method, method_specific_id)`` of a plain DID or raise :class:`InvalidDid`."""
    if not isinstance(text, str) or len(text) > MAX_DID_URL_CHARS:
        raise InvalidDid("a DID must be a string of at most 2048 characters")
    match = _DID_RE.match(text)
    if match is None:
        raise InvalidDid(f"not a valid DID (DID Core §3.1): {_preview(text)}")
    return match.group(1), match.group(2)


def parse_did_url(text: str) -> DidUrl:
    """Parse a DID URL (DID Core §3.2); a plain DID parses with empty path, query and fragment."""
    if not isinstance(text, str) or len(text) > MAX_DID_URL_CHARS:
        raise InvalidDid("a DID URL must be a string of at most 2048 characters")
    match = _DID_URL_RE.match(text)
    if match is None:
        raise InvalidDid(f"not a valid DID URL (DID Core §3.2): {_preview(text)}")
    did, path, query, fragment = match.groups()
    method, msi = parse_did(did)
    pairs = tuple(parse_qsl(query, keep_blank_values=True)) if query else ()
    return DidUrl(
        did=did,
        method=method,
        method_specific_id=msi,
        path=unquote(path) if path else "",
        query=pairs,
        fragment=fragment,
    )


def is_did(text: object) -> bool:
    return isinstance(text, str) and len(text) <= MAX_DID_URL_CHARS and _DID_RE.match(text) is not None


def _preview(text: str) -> str:
    return text if len(text) <= 64 else text[:61] + "..."
