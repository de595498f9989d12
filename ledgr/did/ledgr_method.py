"""The ``did:ledgr`` method: identifier syntax and self-certifying derivation (docs/did-method.md).

``did:ledgr:<scid>`` where ``scid`` is base58btc (no multibase prefix) of the first 16 bytes of
SHA-256 over the RFC 8785 bytes of the *creating* document, written with :data:`PLACEHOLDER_DID`
wherever it names its own DID (the did:webvh "SCID" technique). Nobody can claim an identifier
without publishing exactly the document it was derived from, signed by a key inside it.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

from ledgr.crypto import canonicalize, sha256
from ledgr.crypto.multibase import b58decode
from ledgr.crypto.multibase import b58encode as _b58encode
from ledgr.errors import InvalidDid, InvalidEncoding

METHOD = "ledgr"
PREFIX = "did:ledgr:"
PLACEHOLDER_DID = "did:ledgr:{SCID}"
SCID_BYTES = 16
_SCID_RE = re.compile(r"^[1-9A-HJ-NP-Za-km-z]{16,23}$")


def scid_of(template: dict[str, Any]) -> str:
    """The method-specific id derived from a placeholder document."""
    return scid_of_canonical(canonicalize(template))


def scid_of_canonical(template_jcs: bytes) -> str:
    """The method-specific id from the RFC 8785 bytes of a placeholder document."""
    return _b58encode(sha256(template_jcs)[:SCID_BYTES])


def derive_did(template: dict[str, Any]) -> str:
    return PREFIX + scid_of(template)


def placeholder_in_keys(value: Any) -> bool:
    """True if any object member NAME contains the placeholder (only string values may)."""
    if isinstance(value, dict):
        return any(PLACEHOLDER_DID in key or placeholder_in_keys(item) for key, item in value.items())
    if isinstance(value, list):
        return any(placeholder_in_keys(item) for item in value)
    return False


def substitute_canonical(template_jcs: bytes, did: str) -> bytes:
    """RFC 8785 bytes of the final document, by text substitution on the template's RFC 8785 bytes.

    Equal to ``canonicalize(substitute(template, did))`` when no member name holds the placeholder
    (check with :func:`placeholder_in_keys`): RFC 8785 writes the placeholder's characters unescaped,
    and only string values change, so member order is kept.
    """
    return template_jcs.replace(PLACEHOLDER_DID.encode("ascii"), did.encode("ascii"))


def substitute(value: Any, did: str) -> Any:
    """Replace the placeholder DID in every string of a JSON value (keys untouched)."""
    if isinstance(value, str):
        return value.replace(PLACEHOLDER_DID, did)
    if isinstance(value, list):
        return [substitute(item, did) for item in value]
    if isinstance(value, dict):
        return {key: substitute(item, did) for key, item in value.items()}
    return value


def is_ledgr_did(text: object) -> bool:
    return isinstance(text, str) and text.startswith(PREFIX) and _valid_scid(text[len(PREFIX):])


def check_ledgr_did(text: str) -> str:
    """Return ``text`` if it is a syntactically valid ``did:ledgr`` or raise :class:`InvalidDid`."""
    if not is_ledgr_did(text):
        raise InvalidDid("a did:ledgr is 'did:ledgr:' + base58btc of 16 bytes")
    return text


@lru_cache(maxsize=65536)
def _valid_scid(scid: str) -> bool:
    if not _SCID_RE.match(scid):
        return False
    try:
        raw = b58decode(scid)
    except InvalidEncoding:
        return False
    return len(raw) == SCID_BYTES and _b58encode(raw) == scid
