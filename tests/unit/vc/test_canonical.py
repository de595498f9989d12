"""RDFC-1.0 canonicalization: JSON-LD features, work limits, and agreement with pyld on the vectors."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest

from ledgr.errors import InvalidDocument, TooLarge, UnknownContext
from ledgr.vc.canonical import Limits, canonical_nquads
from ledgr.vc.canonical_pyld import pyld_canonical_nquads
from ledgr.vc.loader import DocumentLoader
from tests.paths import EDDSA_VECTORS

V2 = "https://www.w3.org/ns/credentials/v2"
V1 = "https://www.w3.org/2018/credentials/v1"
EX = "https://www.w3.org/ns/credentials/examples/v2"
VOCAB = {"@vocab": "https://example.org/#"}

VECTOR_DOCUMENTS = ["unsigned.json", "employmentAuth.json", "eddsa-rdfc-2022/signedDataInt.json",
                    "eddsa-rdfc-2022/employ/signedDataInt.json", "Ed25519Signature2020/signedEdSig.json",
                    "proof-set-chain/signedProofChain2.json"]


@pytest.mark.parametrize("name", VECTOR_DOCUMENTS)
def test_agrees_with_pyld_on_vector_documents(name: str) -> None:
    document = json.loads((EDDSA_VECTORS / name).read_text())
    assert canonical_nquads(document) == pyld_canonical_nquads(document)


def test_output_is_sorted_and_newline_terminated() -> None:
    out = canonical_nquads(json.loads((EDDSA_VECTORS / "employmentAuth.json").read_text()))
    lines = out.splitlines(keepends=True)
    assert lines == sorted(lines) and all(line.endswith(" .\n") for line in lines)


FEATURES: list[dict[str, Any]] = [
    {"@context": VOCAB, "@id": "urn:a", "n": [1, 2.5, -0.0, 1e21, True, False, 10]},
    {"@context": [VOCAB, {"xs": "http://www.w3.org/2001/XMLSchema#",
                          "d": {"@id": "https://example.org/#d", "@type": "xs:double"}}],
     "@id": "urn:a", "d": [3, 0.1]},
    {"@context": [VOCAB, {"l": {"@id": "https://example.org/#l", "@container": "@list"}}],
     "@id": "urn:a", "l": ["x", {"@id": "urn:b"}, {"p": "nested"}], "empty": {"@list": []}},
    {"@context": [VOCAB, {"m": {"@id": "https://example.org/#m", "@container": "@language"}}],
     "@id": "urn:a", "m": {"EN": "Hello", "nl": ["Hallo", "Hoi"], "@none": "plain"}},
    {"@context": [VOCAB, {"@language": "de"}], "@id": "urn:a", "t": "Hallo",
     "u": {"@value": "x", "@language": "fr"}},
    {"@context": [V2, {"data": {"@id": "https://example.org/#data", "@type": "@json"}}],
     "type": "VerifiableCredential", "issuer": "did:example:1", "credentialSubject": {
         "data": {"b": [1, 2, {"z": None}], "a": "é"}}},
    {"@context": [V2, EX], "type": ["VerifiablePresentation"], "verifiableCredential": [
        {"@context": [V2, EX], "type": ["VerifiableCredential"], "issuer": "did:example:1",
         "credentialSubject": {"id": "did:example:2", "degree": {"name": "BSc"}}}]},
    {"@context": [V1, EX], "type": ["VerifiableCredential"], "issuer": {"id": "did:example:1", "name": "I"},
     "issuanceDate": "2020-01-01T00:00:00Z", "credentialSubject": {"id": "did:example:2", "x": {"y": 1}}},
    {"@context": VOCAB, "@graph": [{"@id": "_:n1", "knows": {"@id": "_:n2"}}, {"@id": "_:n2", "name": "B"}]},
    {"@context": [VOCAB, {"Scoped": {"@id": "https://example.org/#Scoped",
                                     "@context": {"@propagate": True, "k": "https://other.example/#k"}}}],
     "@type": "Scoped", "inner": {"k": "propagated"}},
    {"@context": [VOCAB, {"p": {"@id": "https://example.org/#p", "@context": {"k": "https://p.example/#k"}}}],
     "p": {"k": "property-scoped"}, "k": "outer"},
    {"@context": [VOCAB, {"s": {"@id": "https://example.org/#s", "@container": "@set"}}],
     "s": [{"@set": ["a", "b"]}, {"@value": 5, "@type": "https://example.org/#T"}]},
    {"@context": [VOCAB, {"r": {"@id": "https://example.org/#r", "@type": "@vocab"}}],
     "r": ["Term", "urn:x"]},
    {"@context": VOCAB, "s": "quote \" backslash \\ newline \n return \r tab \t unicode ✓ 𝄞"},
]


@pytest.mark.parametrize("document", FEATURES, ids=[str(i) for i in range(len(FEATURES))])
def test_feature_agrees_with_pyld(document: dict[str, Any]) -> None:
    assert canonical_nquads(document) == pyld_canonical_nquads(document)


def test_double_and_integer_forms() -> None:
    out = canonical_nquads({"@context": VOCAB, "@id": "urn:a", "n": [5.0, 2.5, 1e21]})
    assert '"5"^^<http://www.w3.org/2001/XMLSchema#integer>' in out
    assert '"2.5E0"^^<http://www.w3.org/2001/XMLSchema#double>' in out
    assert '"1.0E21"^^<http://www.w3.org/2001/XMLSchema#double>' in out


def test_unsupported_feature_is_an_error_not_an_approximation() -> None:
    with pytest.raises(InvalidDocument, match="@reverse"):
        canonical_nquads({"@context": {"r": {"@reverse": "https://example.org/#p"}}, "r": {"@id": "urn:x"}})
    with pytest.raises(InvalidDocument, match="@import"):
        canonical_nquads({"@context": {"@import": "https://example.org/ctx"}, "@id": "urn:x"})


@pytest.mark.parametrize("bad", [
    {"@context": VOCAB, "@id": "urn:a", "p": float("nan")},
    {"@context": VOCAB, "@id": "urn:a", "p": [[1]]},
    {"@context": VOCAB, "@id": "urn:a", "p": {"@value": "x", "@language": "en", "@type": "https://e/#t"}},
    {"@context": VOCAB, "@id": 5},
    "not an object",
    {"@context": {"@version": 1.0}},
    {"@context": {"a": {"@id": "b"}, "b": {"@id": "a"}}, "a": 1},
])
def test_invalid_documents(bad: Any) -> None:
    with pytest.raises(InvalidDocument):
        canonical_nquads(bad)


def test_invalid_iri_is_reported() -> None:
    with pytest.raises(InvalidDocument, match="valid RDF"):
        canonical_nquads({"@context": VOCAB, "@id": "urn:a b", "p": 1})


def test_depth_limit() -> None:
    document: dict[str, Any] = {"@context": VOCAB, "p": "leaf"}
    for _ in range(40):
        document = {"@context": VOCAB, "p": document}
    with pytest.raises(TooLarge, match="deeper"):
        canonical_nquads(document)


def test_value_and_quad_limits() -> None:
    document = {"@context": VOCAB, "@id": "urn:a", "p": list(range(200))}
    with pytest.raises(TooLarge):
        canonical_nquads(document, limits=Limits(values_max=100))
    with pytest.raises(TooLarge):
        canonical_nquads(document, limits=Limits(quads_max=50))
    with pytest.raises(TooLarge):
        canonical_nquads({"@context": VOCAB, "p": "x" * 1000}, limits=Limits(string_chars_max=999))
    assert canonical_nquads(document).count("\n") == 200


def test_blank_node_count_limit() -> None:
    document = {"@context": VOCAB, "p": [{"q": i} for i in range(50)]}
    with pytest.raises(TooLarge, match="blank nodes"):
        canonical_nquads(document, limits=Limits(blank_nodes_max=20))


def _timed(document: Any) -> float:
    start = time.perf_counter()
    with pytest.raises(TooLarge):
        canonical_nquads(document)
    return time.perf_counter() - start


def test_poisoned_symmetric_tree_is_refused_before_native_code() -> None:
    # Two identical objects holding ten identical children: RDFC-1.0 would try 10! permutations
    # per object (pyoxigraph 0.5: > 20 s). Refused up front.
    hub = {"q": [{"r": "x"} for _ in range(10)]}
    assert _timed({"@context": VOCAB, "@id": "urn:root", "p": [hub, json.loads(json.dumps(hub))]}) < 1.0


def test_poisoned_blank_node_clique_is_refused() -> None:
    nodes = [{"@id": f"_:n{i}", "p": [{"@id": f"_:n{j}"} for j in range(9) if j != i]} for i in range(9)]
    assert _timed({"@context": VOCAB, "@graph": nodes}) < 1.0


def test_modest_symmetry_is_still_canonicalized() -> None:
    # Identical addresses and a few identical children are normal in credentials.
    item = {"type": "Course", "credits": 5}
    document = {"@context": VOCAB, "@id": "urn:root", "course": [item] * 4,
                "address": [{"city": "Utrecht"}, {"city": "Utrecht"}]}
    assert canonical_nquads(document) == pyld_canonical_nquads(document)


def test_processed_contexts_are_cached_per_loader() -> None:
    loader = DocumentLoader()
    document = json.loads((EDDSA_VECTORS / "employmentAuth.json").read_text())
    first = canonical_nquads(document, loader=loader)
    cached = dict(loader.derived)
    assert cached
    assert canonical_nquads(document, loader=loader) == first
    assert loader.derived.keys() == cached.keys()


def test_lone_surrogate_is_an_invalid_document() -> None:
    with pytest.raises(InvalidDocument):
        canonical_nquads({"@context": VOCAB, "@id": "urn:a", "p": "\ud800"})


def test_deep_json_literal_is_bounded() -> None:
    value: Any = "leaf"
    for _ in range(5000):
        value = [value]
    document = {"@context": [VOCAB, {"j": {"@id": "https://example.org/#j", "@type": "@json"}}], "j": value}
    with pytest.raises(TooLarge, match="deeper"):
        canonical_nquads(document)


def test_context_cache_is_bounded_per_loader(monkeypatch: pytest.MonkeyPatch) -> None:
    from ledgr.vc import canonical_context

    monkeypatch.setattr(canonical_context, "MAX_CACHED_PER_LOADER", 5)
    loader = DocumentLoader()
    outputs = [canonical_nquads({"@context": {"@vocab": f"https://example.org/{i}#"}, "@id": "urn:a", "p": i},
                                loader=loader) for i in range(20)]
    assert all(f"https://example.org/{i}#p" in out for i, out in enumerate(outputs))
    assert loader.derived["jsonld-cache-budget"] == [0]
    root = loader.derived["jsonld-initial-context"]
    assert len(root._cache) == 5


def test_many_identical_leaves_under_distinguishable_parents_are_accepted() -> None:
    document = {"@context": VOCAB, "@id": "urn:root", "course": [{"credits": 5} for _ in range(150)]}
    out = canonical_nquads(document)
    assert out.count("#credits>") == 150
    assert out == pyld_canonical_nquads(document)


def test_long_indistinguishable_blank_node_cycle_is_refused() -> None:
    size = 100
    nodes = [{"@id": f"_:c{i}", "next": {"@id": f"_:c{(i + 1) % size}"}} for i in range(size)]
    assert _timed({"@context": VOCAB, "@graph": nodes}) < 1.0


def test_presentation_with_signed_credentials_and_proof_agrees_with_pyld() -> None:
    credentials = [json.loads((EDDSA_VECTORS / name).read_text()) for name in
                   ("proof-set-chain/signedProofChain2.json", "eddsa-rdfc-2022/employ/signedDataInt.json")]
    presentation = {
        "@context": [V2], "type": ["VerifiablePresentation"], "holder": "did:example:holder",
        "verifiableCredential": credentials,
        "proof": {"type": "DataIntegrityProof", "cryptosuite": "eddsa-rdfc-2022",
                  "proofPurpose": "authentication", "challenge": "abc", "domain": ["a.example", "b.example"],
                  "verificationMethod": "did:example:h#k", "created": "2024-01-01T00:00:00Z",
                  "expires": "2025-01-01T00:00:00Z", "proofValue": "zabc"},
    }
    out = canonical_nquads(presentation)
    assert out == pyld_canonical_nquads(presentation)
    assert out.count(" .\n") == 85


@pytest.mark.parametrize("bad", [
    {"@context": VOCAB, 1: "x"},
    {"@context": VOCAB, "p": {2: "x"}},
    {"@context": [VOCAB, {"m": {"@id": "https://example.org/#m", "@container": "@language"}}], "m": {3: "x"}},
    {"@context": VOCAB, "p": object()},
    {"@context": [{"a": object()}], "a": 1},
    {"@context": [{"a": float("nan")}], "a": 1},
])
def test_non_json_input_from_python_callers_is_an_invalid_document(bad: Any) -> None:
    with pytest.raises(InvalidDocument):
        canonical_nquads(bad)


def test_inline_context_text_is_not_mistaken_for_a_url() -> None:
    loader = DocumentLoader()
    inline = {"@vocab": "https://example.org/#"}
    canonical_nquads({"@context": inline, "@id": "urn:a", "p": 1}, loader=loader)
    text = json.dumps(inline, sort_keys=True, separators=(",", ":"))
    with pytest.raises(UnknownContext):
        canonical_nquads({"@context": text, "@id": "urn:a", "p": 1}, loader=loader)


def _graph(edges: list[tuple[str, str]]) -> dict[str, Any]:
    nodes: dict[str, dict[str, Any]] = {}
    for source, target in edges:
        nodes.setdefault(source, {"@id": source, "p": []})["p"].append({"@id": target})
    return {"@context": VOCAB, "@graph": list(nodes.values())}


@pytest.mark.parametrize("name", ["bipartite K6,6", "torus 6x6"])
def test_symmetric_graphs_that_run_for_seconds_are_refused(name: str) -> None:
    if name.startswith("bipartite"):
        edges = [(f"_:a{i}", f"_:b{j}") for i in range(6) for j in range(6)]
    else:
        edges = [(f"_:g{i}{j}", f"_:g{(i + d) % 6}{(j + 1 - d) % 6}") for i in range(6) for j in range(6)
                 for d in (0, 1)]
    assert _timed(_graph(edges)) < 1.0


def test_small_symmetric_graph_is_accepted() -> None:
    document = _graph([(f"_:a{i}", f"_:b{j}") for i in range(2) for j in range(2)])
    assert canonical_nquads(document) == pyld_canonical_nquads(document)
