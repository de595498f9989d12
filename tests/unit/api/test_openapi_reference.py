"""The rendered API reference page: current with the document, self-contained, escaped."""

from __future__ import annotations

import re
from html.parser import HTMLParser

from ledgr.api.openapi import build_document
from ledgr.api.openapi.render import REFERENCE_HTML, render_html

DOC = build_document()


def test_shipped_page_is_current() -> None:
    assert REFERENCE_HTML.read_text(encoding="utf-8") == render_html(DOC), (
        "reference.html is stale: run python -m ledgr.api.openapi.render")


def test_page_is_self_contained() -> None:
    page = REFERENCE_HTML.read_text(encoding="utf-8")
    assert "<script" not in page.lower()
    assert not re.search(r"<link[^>]+href=\"https?:", page)
    assert not re.search(r"(src|href)=\"(https?:)?//", page)
    assert "@import" not in page


class _Collector(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.ids: set[str] = set()
        self.hrefs: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if values.get("id"):
            self.ids.add(str(values["id"]))
        if tag == "a" and values.get("href"):
            self.hrefs.append(str(values["href"]))


def test_every_operation_and_schema_is_on_the_page_and_links_resolve() -> None:
    collector = _Collector()
    collector.feed(REFERENCE_HTML.read_text(encoding="utf-8"))
    for item in DOC["paths"].values():
        for op in item.values():
            assert "op-" + op["operationId"] in collector.ids
    for name in DOC["components"]["schemas"]:
        assert "schema-" + name in collector.ids
    internal = [h[1:] for h in collector.hrefs if h.startswith("#")]
    assert internal and all(target in collector.ids for target in internal)


def test_document_strings_are_escaped() -> None:
    doc = build_document()
    doc["paths"]["/health"]["get"]["summary"] = "<script>alert(1)</script>"
    page = render_html(doc)
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
