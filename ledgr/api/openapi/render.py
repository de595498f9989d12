"""Renders the OpenAPI document as one self-contained HTML page (the API reference served at ``/v1/docs``).

No scripts, fonts or stylesheets from elsewhere: the page works offline and under a strict
``Content-Security-Policy: default-src 'none'; style-src 'unsafe-inline'``. Every string from the document
is HTML-escaped; backticks in descriptions become ``<code>``.

Regenerate the shipped page after changing the document (a test checks it is current)::

    python -m ledgr.api.openapi.render
"""

from __future__ import annotations

import html
import json
import re
from pathlib import Path
from typing import Any

from ledgr.api.openapi import build_document

REFERENCE_HTML = Path(__file__).with_name("reference.html")
METHODS = ("get", "post", "put", "patch", "delete")

_CSS = """
body{font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;color:#1b1f24;
background:#fff}
header{background:#154273;color:#fff;padding:1.5rem 2rem}header h1{margin:0 0 .25rem}
main{display:flex}nav{width:19rem;flex:none;padding:1rem;border-right:1px solid #ddd;position:sticky;top:0;
height:100vh;overflow:auto;font-size:13px}nav h3{margin:1rem 0 .25rem}nav a{display:block;color:#154273;
text-decoration:none;padding:1px 0}article{padding:1rem 2rem;min-width:0;flex:1}
section.op{border:1px solid #d0d7de;border-radius:6px;margin:1.25rem 0;padding:0 1rem 1rem}
.m{display:inline-block;min-width:4.2rem;text-align:center;font-weight:700;color:#fff;border-radius:4px;
padding:1px 6px;margin-right:.5rem;font-size:13px}.get{background:#1f6feb}.post{background:#2da44e}
.put{background:#bf8700}.delete{background:#cf222e}.patch{background:#8250df}
code,pre{font-family:ui-monospace,SFMono-Regular,Menlo,monospace;font-size:13px}
pre{background:#f6f8fa;border:1px solid #d0d7de;border-radius:6px;padding:.6rem;overflow:auto;
max-height:24rem}
table{border-collapse:collapse;margin:.5rem 0}th,td{border:1px solid #d0d7de;padding:3px 8px;text-align:left;
vertical-align:top}th{background:#f6f8fa}.scope{background:#fff8c5;border:1px solid #d4a72c;border-radius:4px;
padding:1px 6px}details{margin:.3rem 0}summary{cursor:pointer}.s4{color:#cf222e}.s2{color:#1a7f37}
"""


def _text(value: str) -> str:
    """Escape, then turn `code` spans and blank-line paragraphs into HTML."""
    escaped = html.escape(value)
    escaped = re.sub(r"`([^`]+)`", r"<code>\1</code>", escaped)
    return "".join(f"<p>{para.strip()}</p>" for para in escaped.split("\n\n") if para.strip())


def _anchor(op: dict[str, Any]) -> str:
    return "op-" + html.escape(op["operationId"])


def _ref_name(node: Any) -> str | None:
    if isinstance(node, dict) and "$ref" in node:
        return str(node["$ref"]).rsplit("/", 1)[1]
    return None


def _resolve(doc: dict[str, Any], node: Any) -> Any:
    while isinstance(node, dict) and "$ref" in node:
        target: Any = doc
        for part in node["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        node = target
    return node


def _schema_label(schema: Any) -> str:
    name = _ref_name(schema)
    if name is not None:
        return f'<a href="#schema-{html.escape(name)}">{html.escape(name)}</a>'
    if not isinstance(schema, dict):
        return ""
    if schema.get("type") == "array":
        return "array of " + _schema_label(schema.get("items", {}))
    for combiner in ("allOf", "oneOf", "anyOf"):
        if combiner in schema:
            parts = [_schema_label(s) for s in schema[combiner]]
            return f"{combiner}(" + ", ".join(p for p in parts if p) + ")"
    label = html.escape(str(schema.get("type", "any")))
    if "enum" in schema:
        label += " " + html.escape(" | ".join(json.dumps(v) for v in schema["enum"]))
    if "pattern" in schema:
        label += f" <code>{html.escape(schema['pattern'])}</code>"
    if "format" in schema:
        label += f" ({html.escape(schema['format'])})"
    return label


def _example(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, indent=2, ensure_ascii=False)
    return f"<pre>{html.escape(text)}</pre>"


def _parameters(doc: dict[str, Any], op: dict[str, Any]) -> str:
    params = [_resolve(doc, p) for p in op.get("parameters", [])]
    if not params:
        return ""
    rows = "".join(
        f"<tr><td><code>{html.escape(p['name'])}</code></td><td>{html.escape(p['in'])}</td>"
        f"<td>{'yes' if p.get('required') else 'no'}</td><td>{_schema_label(p.get('schema', {}))}</td>"
        f"<td>{html.escape(p.get('description', ''))}</td></tr>" for p in params)
    return ("<h4>Parameters</h4><table><tr><th>name</th><th>in</th><th>required</th><th>schema</th>"
            f"<th>description</th></tr>{rows}</table>")


def _content(content: dict[str, Any]) -> str:
    parts = []
    for media, item in content.items():
        parts.append(f"<details><summary><code>{html.escape(media)}</code> — "
                     f"{_schema_label(item.get('schema', {}))}</summary>")
        if "example" in item:
            parts.append(_example(item["example"]))
        parts.append("</details>")
    return "".join(parts)


def _operation(doc: dict[str, Any], path: str, method: str, op: dict[str, Any]) -> str:
    out = [f'<section class="op" id="{_anchor(op)}"><h3><span class="m {method}">{method.upper()}</span>'
           f"<code>/v1{html.escape(path)}</code></h3><p><strong>{html.escape(op['summary'])}</strong></p>",
           _text(op["description"])]
    out.append(_parameters(doc, op))
    if "requestBody" in op:
        body = op["requestBody"]
        out.append(f"<h4>Request body</h4><p>{html.escape(body.get('description', ''))}</p>")
        out.append(_content(body["content"]))
    out.append("<h4>Responses</h4>")
    for status, response in op["responses"].items():
        resolved = _resolve(doc, response)
        css = "s2" if status.startswith("2") else "s4"
        headers = ", ".join(f"<code>{html.escape(h)}</code>" for h in resolved.get("headers", {}))
        out.append(f'<div><strong class="{css}">{html.escape(status)}</strong> '
                   f"{html.escape(resolved.get('description', ''))}"
                   f"{' — headers: ' + headers if headers else ''}</div>")
        out.append(_content(resolved.get("content", {})))
    out.append("</section>")
    return "".join(out)


def _schema(name: str, schema: dict[str, Any]) -> str:
    out = [f'<section class="op" id="schema-{html.escape(name)}"><h3>{html.escape(name)}</h3>']
    if "description" in schema:
        out.append(_text(schema["description"]))
    parts = [schema] + [s for s in schema.get("allOf", []) if "$ref" not in s]
    bases = [_schema_label(s) for s in schema.get("allOf", []) if "$ref" in s]
    if bases:
        out.append("<p>Extends " + ", ".join(bases) + "</p>")
    rows = []
    for part in parts:
        required = set(part.get("required", []))
        for prop, sub in part.get("properties", {}).items():
            description = sub.get("description", "") if isinstance(sub, dict) else ""
            rows.append(f"<tr><td><code>{html.escape(prop)}</code></td>"
                        f"<td>{'yes' if prop in required else 'no'}</td><td>{_schema_label(sub)}</td>"
                        f"<td>{html.escape(description)}</td></tr>")
    if rows:
        out.append("<table><tr><th>property</th><th>required</th><th>schema</th><th>description</th></tr>"
                   + "".join(rows) + "</table>")
    out.append("</section>")
    return "".join(out)


def render_html(doc: dict[str, Any]) -> str:
    """The whole reference page for ``doc``."""
    info = doc["info"]
    by_tag: dict[str, list[tuple[str, str, dict[str, Any]]]] = {t["name"]: [] for t in doc.get("tags", [])}
    for path, item in doc["paths"].items():
        for method in METHODS:
            if method in item:
                by_tag.setdefault(item[method]["tags"][0], []).append((path, method, item[method]))
    nav, body = [], []
    for tag, ops in by_tag.items():
        if not ops:
            continue
        nav.append(f"<h3>{html.escape(tag)}</h3>")
        nav.extend(f'<a href="#{_anchor(op)}"><span class="m {m}">{m.upper()}</span>{html.escape(p)}</a>'
                   for p, m, op in ops)
        body.append(f"<h2>{html.escape(tag)}</h2>")
        body.extend(_operation(doc, p, m, op) for p, m, op in ops)
    schemas = doc["components"]["schemas"]
    nav.append("<h3>Schemas</h3>")
    nav.extend(f'<a href="#schema-{html.escape(n)}">{html.escape(n)}</a>' for n in schemas)
    body.append("<h2>Schemas</h2>")
    body.extend(_schema(n, s) for n, s in schemas.items())
    return (
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
        f"<title>{html.escape(info['title'])} {html.escape(info['version'])}</title>"
        f"<style>{_CSS}</style></head><body>"
        f"<header><h1>{html.escape(info['title'])}</h1><div>version {html.escape(info['version'])} · "
        f"OpenAPI {html.escape(doc['openapi'])} · <a style=\"color:#fff\" href=\"openapi.json\">"
        "openapi.json</a></div></header>"
        f"<main><nav>{''.join(nav)}</nav><article>{_text(info['description'])}{''.join(body)}</article>"
        "</main></body></html>\n"
    )


def main() -> None:
    REFERENCE_HTML.write_text(render_html(build_document()), encoding="utf-8")
    print(f"wrote {REFERENCE_HTML}")


if __name__ == "__main__":
    main()
