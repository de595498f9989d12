"""N-Quads terms and work limits for ledgr's JSON-LD → RDF walk (:mod:`ledgr.vc.canonical_rdf`).

Literals follow JSON-LD 1.1 §8.6 "Object to RDF Conversion" (native numbers and booleans, canonical
``xsd:double``); the escaping here only has to be *valid* N-Quads (RDF 1.1 N-Quads §2.5: ``"``,
``\\``, LF and CR must be escaped), because pyoxigraph re-serializes every term in RDFC-1.0's
canonical form.
"""

from __future__ import annotations

from dataclasses import dataclass

from ledgr.errors import UnmappedTerm

RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
XSD = "http://www.w3.org/2001/XMLSchema#"
RDF_TYPE = f"<{RDF}type>"
RDF_FIRST = f"<{RDF}first>"
RDF_REST = f"<{RDF}rest>"
RDF_NIL = f"<{RDF}nil>"
XSD_STRING = f"{XSD}string"
XSD_BOOLEAN = f"<{XSD}boolean>"
XSD_INTEGER = f"{XSD}integer"
XSD_DOUBLE = f"{XSD}double"
RDF_JSON = f"{RDF}JSON"


@dataclass(frozen=True)
class Limits:
    """Caps on the work one canonicalization may do (the input is untrusted).

    The input arrives as parsed JSON, so its size is bounded by what it holds: JSON values, characters
    in strings and keys, nesting depth; and by what it yields: statements and blank nodes.
    """

    depth_max: int = 32
    values_max: int = 20_000
    string_chars_max: int = 2_000_000
    quads_max: int = 10_000
    blank_nodes_max: int = 1_000


DEFAULT_LIMITS = Limits()


def refuse_direction() -> None:
    """Safe mode: JSON-LD to RDF drops ``@direction`` unless ``rdfDirection`` is set (JSON-LD 1.1 §8.6),
    so a base direction would not be signed; jsonld.js safe mode refuses it too ("rdfDirection not set").
    """
    raise UnmappedTerm("a base direction (@direction) is dropped when JSON-LD becomes RDF, so it would "
                       "not be signed (safe mode); remove it or carry it in a defined property",
                       term="@direction")


def escape(text: str) -> str:
    if "\\" in text:
        text = text.replace("\\", "\\\\")
    if '"' in text:
        text = text.replace('"', '\\"')
    if "\n" in text:
        text = text.replace("\n", "\\n")
    if "\r" in text:
        text = text.replace("\r", "\\r")
    return text


def literal(text: str, datatype: str = XSD_STRING, language: str | None = None) -> str:
    if language:
        return f'"{escape(text)}"@{language}'
    if datatype == XSD_STRING:
        return f'"{escape(text)}"'
    return f'"{escape(text)}"^^<{datatype}>'


def double(value: float) -> str:
    """Canonical xsd:double lexical form (JSON-LD 1.1 §8.6 step 10), e.g. ``1.1E0``."""
    mantissa, exponent = f"{value:.15E}".split("E")
    mantissa = mantissa.rstrip("0")
    if mantissa.endswith("."):
        mantissa += "0"
    return f"{mantissa}E{int(exponent)}"
