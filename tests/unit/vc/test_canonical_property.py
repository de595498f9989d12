"""Property test: ledgr's canonicalizer and pyld agree on generated credentials.

The one documented difference is escaping: pyld's URDNA2015 escapes only ``\\t \\n \\r \\" \\\\`` in
literals, RDFC-1.0 also escapes the other control characters (``RDFC_ONLY_ESCAPES``). Those characters
also feed the blank-node hashes, so when pyld's output contains one, the two outputs are compared as
RDF datasets (pyld's statements re-canonicalized) instead of byte for byte. Integers of magnitude
≥ 10^21 are not generated: JSON-LD 1.1 §8.6 (and jsonld.js) make them xsd:double, pyld keeps xsd:integer;
nor are integers beyond ±(2^53 - 1), which RFC 8785 refuses in ``@json`` literals (I-JSON range).
A second difference, blank-node self-loops, is pinned in :func:`test_self_loop_counts_its_statement_once`.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

import pyoxigraph
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ledgr.errors import LedgrError
from ledgr.vc.canonical import canonical_nquads
from ledgr.vc.canonical_pyld import RDFC_ONLY_ESCAPES, pyld_canonical_nquads
from ledgr.vc.loader import DocumentLoader

CUSTOM_URL = "https://contexts.example.nl/property-test/v1"
CUSTOM = {"@context": {
    "@protected": True,
    "ex": "https://example.nl/vocab#",
    "PilotCredential": "ex:PilotCredential",
    "Diploma": {"@id": "ex:Diploma", "@context": {"@protected": True, "grade": "ex:grade",
                                                    "awarded": {"@id": "ex:awarded",
                                                                "@type": "http://www.w3.org/2001/XMLSchema#date"}}},
    "name": "https://schema.org/name",
    "score": {"@id": "ex:score", "@type": "http://www.w3.org/2001/XMLSchema#decimal"},
    "homepage": {"@id": "ex:homepage", "@type": "@id"},
    "tags": {"@id": "ex:tags", "@container": "@set"},
    "ranking": {"@id": "ex:ranking", "@container": "@list"},
    "title": {"@id": "ex:title", "@container": "@language"},
    "extra": {"@id": "ex:extra", "@type": "@json"},
    "flag": "ex:flag",
    "count": "ex:count",
    "diploma": "ex:diploma",
}}
LOADER = DocumentLoader({CUSTOM_URL: CUSTOM})
CONTEXT = ["https://www.w3.org/ns/credentials/v2", CUSTOM_URL]

text = st.text(max_size=12)
integers = st.integers(min_value=-(2**53) + 1, max_value=2**53 - 1)
floats = st.floats(allow_nan=False, allow_infinity=False, width=64)
iris = st.from_regex(r"\Ahttps://example\.org/[a-z0-9]{1,8}\Z").map(str)
json_values = st.recursive(st.none() | st.booleans() | integers | text,
                           lambda inner: st.lists(inner, max_size=3)
                           | st.dictionaries(st.text(max_size=5), inner, max_size=3), max_leaves=6)

diplomas = st.fixed_dictionaries({"type": st.just("Diploma")}, optional={
    "grade": text | integers, "awarded": st.just("2024-06-30"), "name": text})

subject_claims = st.fixed_dictionaries({}, optional={
    "id": st.just("did:example:holder"),
    "name": text | st.lists(text, max_size=3),
    "score": floats | integers,
    "homepage": iris,
    "tags": st.lists(text | integers | st.booleans(), max_size=4),
    "ranking": st.lists(text | integers, max_size=4),
    "title": st.dictionaries(st.sampled_from(["en", "nl", "de-AT"]), text, max_size=3),
    "extra": json_values,
    "flag": st.booleans(),
    "count": integers | floats,
    "diploma": diplomas | st.lists(diplomas, max_size=3),
})


@st.composite
def credentials(draw: st.DrawFn) -> dict[str, Any]:
    issuer = draw(st.sampled_from(["did:example:issuer", {"id": "did:example:issuer", "name": "Gemeente"}]))
    document: dict[str, Any] = {"@context": CONTEXT, "type": ["VerifiableCredential", "PilotCredential"],
                                "issuer": issuer, "credentialSubject": draw(subject_claims)}
    if draw(st.booleans()):
        document["id"] = "urn:uuid:" + draw(st.uuids()).hex
    if draw(st.booleans()):
        document["validFrom"] = "2024-01-01T00:00:00Z"
    if draw(st.booleans()):
        document["name"] = draw(text)
    return document


def _recanonicalized(nquads: str) -> str:
    dataset = pyoxigraph.Dataset(pyoxigraph.parse(nquads, pyoxigraph.RdfFormat.N_QUADS))
    dataset.canonicalize(pyoxigraph.CanonicalizationAlgorithm.RDFC_1_0)
    return "".join(sorted(f"{quad} .\n" for quad in dataset))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(credentials())
def test_ledgr_and_pyld_agree(document: dict[str, Any]) -> None:
    ours = canonical_nquads(document, loader=LOADER)
    theirs = pyld_canonical_nquads(document, loader=LOADER)
    if RDFC_ONLY_ESCAPES.isdisjoint(theirs):
        assert ours == theirs
    else:
        assert ours == _recanonicalized(theirs)


def test_the_documented_escaping_difference() -> None:
    document = {"@context": {"@vocab": "https://example.org/#"}, "@id": "urn:a", "s": "bell\x07 form\x0c"}
    ours = canonical_nquads(document)
    theirs = pyld_canonical_nquads(document)
    assert '"bell\\u0007 form\\f"' in ours
    assert '"bell\x07 form\x0c"' in theirs
    assert ours == _recanonicalized(theirs)


keywords = st.sampled_from(["@context", "@id", "@type", "@value", "@language", "@list", "@set", "@graph",
                            "@index", "@json", "@vocab", "@reverse", "@direction", "@nest", "@included",
                            "@foo", "id", "type", "name", "credentialSubject", "proof", "_:b0", "ex:p",
                            "https://example.org/p", ""])
hostile = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8) | keywords,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(keywords | st.text(max_size=4), inner,
                                                                 max_size=4),
    max_leaves=15)
contexts = st.sampled_from([
    None, "https://www.w3.org/ns/credentials/v2", CUSTOM_URL, "https://unknown.example/",
    {"@vocab": "https://example.org/#"}, {"x": None}, {"@protected": True, "y": "ex:y"},
    {"@version": 1.1, "z": {"@id": "https://example.org/z", "@container": "@list"}}])


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(hostile, st.lists(contexts, max_size=3))
def test_any_input_either_canonicalizes_or_raises_a_ledgr_error(body: Any, context: list[Any]) -> None:
    document = {"@context": context, "data": body} if context else body
    try:
        out = canonical_nquads(document, loader=LOADER)
    except LedgrError:
        return
    assert out == "" or out.endswith(" .\n")


EMPLOY = {"@context": ["https://www.w3.org/ns/credentials/v2", "https://w3id.org/citizenship/v4rc1"],
          "type": ["VerifiableCredential", "EmploymentAuthorizationDocumentCredential"],
          "issuer": {"id": "did:example:issuer", "image": "https://example.org/i.png"},
          "credentialSubject": {"type": ["Person", "EmployablePerson"], "givenName": "JOHN",
                                "employmentAuthorizationDocument": {"type": "EmploymentAuthorizationDocument",
                                                                    "lprNumber": "999"}}}


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from([(), ("credentialSubject",), ("credentialSubject", "employmentAuthorizationDocument"),
                        ("issuer",)]), keywords | st.text(max_size=4), hostile)
def test_hostile_values_inside_a_real_credential(path: tuple[str, ...], key: str, value: Any) -> None:
    document = json.loads(json.dumps(EMPLOY))
    target = document
    for step in path:
        target = target[step]
    target[key] = value
    try:
        out = canonical_nquads(document, loader=LOADER)
    except LedgrError:
        return
    assert out.endswith(" .\n")


@st.composite
def blank_node_graphs(draw: st.DrawFn) -> dict[str, Any]:
    """Small, often symmetric blank-node graphs: the hard cases of RDFC-1.0 (§4.8 Hash N-Degree Quads)."""
    size = draw(st.integers(min_value=2, max_value=6))
    nodes = []
    for index in range(size):
        node: dict[str, Any] = {"@id": f"_:n{index}"}
        for predicate in ("p", "q"):
            others = [t for t in range(size) if t != index]  # no self-loops: see the test below
            targets = draw(st.lists(st.sampled_from(others), max_size=3, unique=True))
            if targets:
                node[predicate] = [{"@id": f"_:n{t}"} for t in targets]
        if draw(st.booleans()):
            node["v"] = draw(st.sampled_from(["a", "b"]))
        nodes.append(node)
    return {"@context": {"@vocab": "https://example.org/#"}, "@graph": nodes}


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(blank_node_graphs())
def test_blank_node_labelling_agrees_with_pyld(document: dict[str, Any]) -> None:
    assert canonical_nquads(document) == pyld_canonical_nquads(document)


def test_self_loop_counts_its_statement_once() -> None:
    """A statement whose subject and object are the same blank node is one statement (RDFC-1.0 §4.4.3
    step 2 builds a map to *quads*; the reference implementation rdf-canonize keeps a set). pyld 3
    appends it once per occurrence, which changes the first-degree hash: the second difference from
    pyld, excluded from the generated graphs above and pinned here from the hashes themselves."""
    document = {"@context": {"@vocab": "https://example.org/#"},
                "@graph": [{"@id": "_:loop", "q": {"@id": "_:loop"}},
                           {"@id": "_:other", "q": {"@id": "_:loop"}}]}
    q = "<https://example.org/#q>"
    loop_hash = hashlib.sha256(f"_:a {q} _:a .\n_:z {q} _:a .\n".encode()).hexdigest()
    other_hash = hashlib.sha256(f"_:a {q} _:z .\n".encode()).hexdigest()
    first, second = ("loop", "other") if loop_hash < other_hash else ("other", "loop")
    label = {first: "_:c14n0", second: "_:c14n1"}
    expected = sorted([f"{label['loop']} {q} {label['loop']} .\n",
                       f"{label['other']} {q} {label['loop']} .\n"])
    assert canonical_nquads(document) == "".join(expected)
    assert pyld_canonical_nquads(document) != canonical_nquads(document)
