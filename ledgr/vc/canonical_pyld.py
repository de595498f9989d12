"""Independent cross-check of :mod:`ledgr.vc.canonical` through pyld (tests and benchmarks only).

pyld is a *development* dependency: production never imports this module, and it imports pyld only
when called. It canonicalizes with pyld's own JSON-LD processor and URDNA2015, which equals RDFC-1.0
except for how literals escape control characters: pyld escapes only ``\\t \\n \\r \\" \\\\``, while
RDFC-1.0's canonical N-Quads (RDF 1.2 N-Quads §"Canonical form") also escapes ``\\b`` and ``\\f`` and
writes the other characters U+0000-U+001F and U+007F as ``\\u`` plus four hex digits. Because
blank-node labels hash the serialized quads, those characters can also change labels;
:data:`RDFC_ONLY_ESCAPES` lists exactly the characters concerned so tests can treat them separately.

Second difference: pyld records a statement whose subject and object are the same blank node twice in
its blank-node-to-quads map, so such self-loops hash differently; the reference implementation
(rdf-canonize, used for the W3C vectors) and pyoxigraph record each statement once.
"""

from __future__ import annotations

from typing import Any

from ledgr.errors import UnknownContext
from ledgr.vc.loader import DEFAULT_LOADER, DocumentLoader

#: characters whose escaping differs between pyld's URDNA2015 output and RDFC-1.0
RDFC_ONLY_ESCAPES = frozenset(
    chr(c) for c in [*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20), 0x7F])


def pyld_canonical_nquads(document: Any, *, loader: DocumentLoader | None = None) -> str:
    """URDNA2015 canonical N-Quads of ``document`` computed by pyld, contexts from ``loader`` only."""
    from cachetools import LRUCache
    from pyld import jsonld
    from pyld.context_resolver import ContextResolver

    source = loader or DEFAULT_LOADER

    def load(url: str, options: Any = None) -> dict[str, Any]:
        try:
            document = source.load(url)
        except UnknownContext as exc:
            raise jsonld.JsonLdError(exc.detail, "jsonld.LoadDocumentError",
                                     code="loading document failed") from exc
        return {"contentType": "application/ld+json", "contextUrl": None, "documentUrl": url,
                "document": document}

    # one pyld context cache per loader, like the processed-context cache of ledgr.vc.canonical
    cached = source.derived.get("pyld-context-resolver")
    resolver = cached[1] if isinstance(cached, tuple) else ContextResolver(LRUCache(maxsize=100), load)
    source.derived["pyld-context-resolver"] = (load, resolver)
    result = jsonld.normalize(document, {"algorithm": "URDNA2015", "format": "application/n-quads",
                                         "documentLoader": load, "contextResolver": resolver})
    return str(result)
