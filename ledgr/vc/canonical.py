"""RDFC-1.0 canonical N-Quads of a JSON-LD document: the hot path of ``eddsa-rdfc-2022``.

Pipeline: JSON-LD → RDF in Python (:mod:`ledgr.vc.canonical_rdf`, with contexts from the offline
loader, processed once and cached, and JSON-LD safe mode) → N-Quads text → pyoxigraph's native
RDFC-1.0 (W3C RDF Dataset Canonicalization, §4) → canonical N-Quads sorted in code point order (§4.4).

Why not pyoxigraph's own JSON-LD parser: it has no document-loader hook (contexts would have to be
inlined) and, as of 0.5, applies only one of several type-scoped contexts on a node with multiple
types, which loses statements of the spec's ``employ`` test vector. The Python walk is also where
safe mode and the work limits live, and it runs before any native code, which Python cannot interrupt.

pyld stays a *test-only* cross-check (:mod:`ledgr.vc.canonical_pyld`).
"""

from __future__ import annotations

from typing import Any

import pyoxigraph

from ledgr.errors import InvalidDocument
from ledgr.vc.canonical_context import ActiveContext
from ledgr.vc.canonical_guard import check_blank_node_work
from ledgr.vc.canonical_rdf import RdfWriter
from ledgr.vc.canonical_terms import DEFAULT_LIMITS, Limits
from ledgr.vc.loader import DEFAULT_LOADER, DocumentLoader

__all__ = ["DEFAULT_LIMITS", "Limits", "canonical_nquads", "to_nquads"]


def to_nquads(document: Any, *, loader: DocumentLoader | None = None,
              limits: Limits = DEFAULT_LIMITS) -> list[str]:
    """The N-Quads lines (not canonical) of a JSON-LD document, in JSON-LD safe mode."""
    writer = RdfWriter(limits)
    writer.document(document, ActiveContext.initial(loader or DEFAULT_LOADER))
    return writer.lines


def canonical_nquads(document: Any, *, loader: DocumentLoader | None = None,
                     limits: Limits = DEFAULT_LIMITS) -> str:
    """RDFC-1.0 canonical N-Quads of ``document`` (one statement per line, sorted)."""
    writer = RdfWriter(limits)
    writer.document(document, ActiveContext.initial(loader or DEFAULT_LOADER))
    check_blank_node_work(writer.blank_quads)
    try:
        data = "".join(writer.lines).encode("utf-8")  # lone surrogates fail here, as they should
        dataset = pyoxigraph.Dataset(pyoxigraph.parse(data, pyoxigraph.RdfFormat.N_QUADS))
    except (SyntaxError, ValueError, UnicodeError) as exc:
        raise InvalidDocument(f"document does not map to valid RDF: {exc}") from exc
    dataset.canonicalize(pyoxigraph.CanonicalizationAlgorithm.RDFC_1_0)
    return "".join(sorted([f"{quad} .\n" for quad in dataset]))
