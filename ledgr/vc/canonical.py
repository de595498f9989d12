"""RDFC-1.0 canonical N-Quads of a JSON-LD document (first version: pyoxigraph with inlined contexts)."""

from __future__ import annotations

import json
from typing import Any

import pyoxigraph

from ledgr.errors import InvalidDocument
from ledgr.vc.loader import DEFAULT_LOADER, DocumentLoader


def _inline(context: Any, loader: DocumentLoader) -> Any:
    if isinstance(context, str):
        return _inline(loader.load(context)["@context"], loader)
    if isinstance(context, list):
        return [_inline(c, loader) for c in context]
    if isinstance(context, dict):
        return {k: _inline(v, loader) if k == "@context" or isinstance(v, dict) else v
                for k, v in context.items()}
    return context


def _walk(value: Any, loader: DocumentLoader) -> Any:
    if isinstance(value, dict):
        return {k: _inline(v, loader) if k == "@context" else _walk(v, loader) for k, v in value.items()}
    if isinstance(value, list):
        return [_walk(v, loader) for v in value]
    return value


def canonical_nquads(document: dict[str, Any], *, loader: DocumentLoader | None = None) -> str:
    """RDFC-1.0 canonical N-Quads of ``document``."""
    data = json.dumps(_walk(document, loader or DEFAULT_LOADER))
    try:
        dataset = pyoxigraph.Dataset(pyoxigraph.parse(data, pyoxigraph.RdfFormat.JSON_LD))
    except SyntaxError as exc:
        raise InvalidDocument(f"not valid JSON-LD: {exc}") from exc
    dataset.canonicalize(pyoxigraph.CanonicalizationAlgorithm.RDFC_1_0)
    return "".join(sorted(f"{quad} .\n" for quad in dataset))
