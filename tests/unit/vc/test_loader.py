"""The offline document loader serves bundled and registered contexts only, never the network."""

from __future__ import annotations

import json
import socket
from typing import Any

import pytest

from ledgr.errors import InvalidDocument, TooLarge, UnknownContext
from ledgr.vc.canonical import canonical_nquads
from ledgr.vc.loader import (
    DEFAULT_LOADER,
    MAX_CONTEXT_BYTES,
    DocumentLoader,
    parse_context_document,
    register_context,
)

CUSTOM_URL = "https://contexts.example.nl/pilot/v1"
CUSTOM = {"@context": {"@protected": True, "PilotCredential": "https://example.nl/vocab#PilotCredential",
                       "municipality": "https://example.nl/vocab#municipality"}}


def test_unknown_url_raises_naming_the_url() -> None:
    with pytest.raises(UnknownContext) as info:
        DocumentLoader().load("https://evil.example/ctx")
    assert "https://evil.example/ctx" in info.value.detail
    assert info.value.extra["url"] == "https://evil.example/ctx"
    assert info.value.code == "unknown-context"


def test_unknown_context_in_document_never_touches_the_network(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_network(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("the loader tried to open a network connection")

    monkeypatch.setattr(socket, "create_connection", no_network)
    monkeypatch.setattr(socket.socket, "connect", no_network)
    document = {"@context": ["https://www.w3.org/ns/credentials/v2", "https://evil.example/ctx"],
                "type": ["VerifiableCredential"]}
    with pytest.raises(UnknownContext, match=r"evil\.example"):
        canonical_nquads(document, loader=DocumentLoader())


def test_registered_context_is_served_by_its_loader_only() -> None:
    loader = DocumentLoader({CUSTOM_URL: CUSTOM})
    assert loader.load(CUSTOM_URL) == CUSTOM
    assert CUSTOM_URL in loader
    assert CUSTOM_URL in loader.urls()
    with pytest.raises(UnknownContext):
        DocumentLoader().load(CUSTOM_URL)


def test_registered_copy_is_isolated_from_caller_mutation() -> None:
    document = json.loads(json.dumps(CUSTOM))
    loader = DocumentLoader({CUSTOM_URL: document})
    document["@context"]["municipality"] = "https://attacker.example/#x"
    assert loader.load(CUSTOM_URL) == CUSTOM


def test_registered_context_is_used_for_canonicalization() -> None:
    loader = DocumentLoader()
    loader.register(CUSTOM_URL, CUSTOM)
    nquads = canonical_nquads({"@context": CUSTOM_URL, "@id": "urn:x", "@type": "PilotCredential",
                               "municipality": "Utrecht"}, loader=loader)
    assert '<urn:x> <https://example.nl/vocab#municipality> "Utrecht" .' in nquads


def test_reregistering_changes_meaning_and_invalidates_cache() -> None:
    loader = DocumentLoader({CUSTOM_URL: CUSTOM})
    doc = {"@context": CUSTOM_URL, "@id": "urn:x", "municipality": "Utrecht"}
    before = canonical_nquads(doc, loader=loader)
    loader.register(CUSTOM_URL, {"@context": {"municipality": "https://example.nl/other#m"}})
    after = canonical_nquads(doc, loader=loader)
    assert "vocab#municipality" in before and "other#m" in after


def test_module_level_register_context_uses_default_loader() -> None:
    url = "https://contexts.example.nl/test-register/v1"
    register_context(url, CUSTOM)
    assert DEFAULT_LOADER.load(url) == CUSTOM


def test_bundled_context_cannot_be_replaced() -> None:
    with pytest.raises(InvalidDocument, match="bundled"):
        DocumentLoader({"https://www.w3.org/ns/credentials/v2": {"@context": {"x": "urn:x"}}})


@pytest.mark.parametrize("document", [{}, {"context": {}}, [], {"@context": 5}])
def test_register_rejects_non_context_documents(document: Any) -> None:
    with pytest.raises(InvalidDocument):
        DocumentLoader().register(CUSTOM_URL, document)


@pytest.mark.parametrize("url", ["", "relative/path", "no scheme", "https://a b"])
def test_register_rejects_non_absolute_urls(url: str) -> None:
    with pytest.raises(InvalidDocument):
        DocumentLoader().register(url, CUSTOM)


def test_parse_context_document_checks_json_and_size() -> None:
    assert parse_context_document(json.dumps(CUSTOM).encode(), CUSTOM_URL) == CUSTOM
    with pytest.raises(InvalidDocument, match="not valid JSON"):
        parse_context_document(b"{nope", CUSTOM_URL)
    with pytest.raises(TooLarge):
        parse_context_document(b" " * (MAX_CONTEXT_BYTES + 1), CUSTOM_URL)
