"""The offline JSON-LD document loader (JSON-LD 1.1 API §9.4 ``LoadDocumentCallback``, without I/O).

ledgr never dereferences a context URL over the network: a credential could otherwise make a verifier
fetch attacker-chosen URLs, and a changed remote context would silently change what a signature
covers. The loader serves exactly

* the context documents bundled under ``ledgr/vc/contexts/`` (byte-identical to the published ones,
  see the README there), keyed by their canonical URLs, and
* the contexts an operator registers (node config, or ``ledgr vc … --context URL=FILE``).

Any other URL raises :class:`~ledgr.errors.UnknownContext` naming the URL.

Loaded documents are parsed JSON shared between callers: treat them as read-only. Code that derives
data from contexts (the canonicalizer's processed-context cache) keeps it in :attr:`DocumentLoader.derived`,
which is cleared whenever a registration changes what the loader serves.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from importlib import resources
from typing import Any

from ledgr.errors import InvalidDocument, TooLarge, UnknownContext

__all__ = [
    "BUNDLED",
    "DEFAULT_LOADER",
    "MAX_CONTEXT_BYTES",
    "DocumentLoader",
    "parse_context_document",
    "register_context",
]

# canonical URL -> file under ledgr/vc/contexts/
BUNDLED: Mapping[str, str] = {
    "https://www.w3.org/2018/credentials/v1": "credentials-v1.jsonld",
    "https://www.w3.org/ns/credentials/v2": "credentials-v2.jsonld",
    "https://www.w3.org/ns/credentials/examples/v2": "credentials-examples-v2.jsonld",
    "https://www.w3.org/ns/credentials/undefined-terms/v2": "credentials-undefined-terms-v2.jsonld",
    "https://w3id.org/security/data-integrity/v2": "data-integrity-v2.jsonld",
    "https://w3id.org/security/multikey/v1": "multikey-v1.jsonld",
    "https://w3id.org/security/suites/ed25519-2020/v1": "ed25519-2020-v1.jsonld",
    "https://www.w3.org/ns/did/v1": "did-v1.jsonld",
    "https://www.w3.org/ns/credentials/status/v1": "bitstring-status-list-v1.jsonld",
    "https://w3id.org/citizenship/v4rc1": "citizenship-v4rc1.jsonld",
}

MAX_CONTEXT_BYTES = 512 * 1024
MAX_REGISTERED_CONTEXTS = 1024
MAX_URL_CHARS = 2048

_bundled_cache: dict[str, dict[str, Any]] = {}


def _load_bundled(url: str) -> dict[str, Any]:
    doc = _bundled_cache.get(url)
    if doc is None:
        data = resources.files("ledgr.vc").joinpath("contexts", BUNDLED[url]).read_bytes()
        doc = parse_context_document(data, url)
        _bundled_cache[url] = doc
    return doc


def parse_context_document(data: bytes | str, url: str) -> dict[str, Any]:
    """Parse and check a context document (e.g. a file named by ``--context URL=FILE``).

    A context document is a JSON object with an ``@context`` member (JSON-LD 1.1 §3.1).
    """
    size = len(data.encode("utf-8") if isinstance(data, str) else data)
    if size > MAX_CONTEXT_BYTES:
        raise TooLarge(f"context document for {url} is {size} bytes (limit {MAX_CONTEXT_BYTES})",
                       limit=MAX_CONTEXT_BYTES)
    try:
        doc = json.loads(data)
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidDocument(f"context document for {url} is not valid JSON: {exc}") from exc
    _check_context_document(doc, url)
    return doc  # type: ignore[no-any-return]


def _check_url(url: object) -> str:
    if not isinstance(url, str) or not url or len(url) > MAX_URL_CHARS:
        raise InvalidDocument(f"a context URL must be a non-empty string of at most {MAX_URL_CHARS} chars")
    scheme, sep, rest = url.partition(":")
    if not sep or not scheme.isascii() or not scheme.isalpha() or not rest or any(c.isspace() for c in url):
        raise InvalidDocument(f"context URL {url!r} is not an absolute URL")
    return url


def _check_context_document(doc: object, url: str) -> None:
    if not isinstance(doc, dict) or "@context" not in doc:
        raise InvalidDocument(f"context document for {url} must be a JSON object with an '@context' member")
    if not isinstance(doc["@context"], dict | list | str):
        raise InvalidDocument(f"'@context' of the context document for {url} must be an object or array")


class DocumentLoader:
    """Serves bundled plus registered contexts; never fetches.

    ``extra`` maps URL -> context document (parsed JSON object) to serve in addition to the bundled
    ones; bundled URLs cannot be replaced by a different document.
    """

    __slots__ = ("_registered", "derived")

    def __init__(self, extra: Mapping[str, dict[str, Any]] | None = None) -> None:
        self._registered: dict[str, dict[str, Any]] = {}
        self.derived: dict[Any, Any] = {}
        for url, document in (extra or {}).items():
            self.register(url, document)

    def register(self, url: str, document: dict[str, Any]) -> None:
        """Serve ``document`` for ``url`` from now on (operator-registered context)."""
        _check_url(url)
        _check_context_document(document, url)
        size = len(json.dumps(document))
        if size > MAX_CONTEXT_BYTES:
            raise TooLarge(f"context document for {url} is {size} bytes (limit {MAX_CONTEXT_BYTES})",
                           limit=MAX_CONTEXT_BYTES)
        if url in BUNDLED:
            if document != _load_bundled(url):
                raise InvalidDocument(f"{url} is a bundled standard context and cannot be replaced")
            return
        if url not in self._registered and len(self._registered) >= MAX_REGISTERED_CONTEXTS:
            raise TooLarge(f"at most {MAX_REGISTERED_CONTEXTS} contexts can be registered",
                           limit=MAX_REGISTERED_CONTEXTS)
        self._registered[url] = json.loads(json.dumps(document))  # private, immutable-by-convention copy
        self.derived.clear()

    def load(self, url: str) -> dict[str, Any]:
        """The context document for ``url``, or :class:`UnknownContext` (never a network fetch)."""
        if url in BUNDLED:
            return _load_bundled(url)
        doc = self._registered.get(url)
        if doc is None:
            raise UnknownContext(
                f"JSON-LD context {url!r} is neither bundled nor registered; ledgr never fetches "
                "contexts (register it in the node config or with --context URL=FILE)", url=url)
        return doc

    def __contains__(self, url: object) -> bool:
        return url in BUNDLED or url in self._registered

    def urls(self) -> list[str]:
        """Every URL this loader serves, bundled first."""
        return [*BUNDLED, *self._registered]

    def copy(self) -> DocumentLoader:
        """A new loader serving the same contexts (registrations on it do not affect this one)."""
        return DocumentLoader(self._registered)


DEFAULT_LOADER = DocumentLoader()


def register_context(url: str, document: dict[str, Any]) -> None:
    """Register a context on :data:`DEFAULT_LOADER`, the loader used when none is passed."""
    DEFAULT_LOADER.register(url, document)
