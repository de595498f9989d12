"""Hot-path record encoders write exactly RFC 8785 bytes (checked against the generic canonicalizer)."""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from ledgr.crypto import canonicalize
from ledgr.did.ledgr_method import PLACEHOLDER_DID, placeholder_in_keys, substitute, substitute_canonical
from ledgr.did.records import CompromisedKey, DidHead, DidVersion
from ledgr.ledger.records import (
    encode,
    encode_head,
    encode_version,
    head_from_json,
    head_to_json,
    version_to_json,
)

TEXT = st.text(max_size=20)
INTS = st.integers(0, 2**53 - 1)


@settings(max_examples=200, deadline=None)
@given(TEXT, INTS, TEXT, INTS, INTS, st.booleans(), st.lists(st.tuples(TEXT, INTS), max_size=4))
def test_head_encoder_is_rfc8785(did: str, seq: int, vh: str, created: int, updated: int, deactivated: bool,
                                 compromised: list[tuple[str, int]]) -> None:
    head = DidHead(did, seq, vh, created, updated, deactivated,
                   tuple(CompromisedKey(k, t) for k, t in compromised))
    raw = encode_head(head)
    assert raw == encode(head_to_json(head))
    assert head_from_json(did, json.loads(raw)) == head


JSON = st.recursive(st.none() | st.booleans() | st.integers(-2**53 + 1, 2**53 - 1) | TEXT,
                    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(TEXT, inner, max_size=3),
                    max_leaves=10)


@settings(max_examples=200, deadline=None)
@given(INTS, TEXT, INTS, st.booleans(), st.dictionaries(TEXT, JSON, max_size=4))
def test_version_encoder_is_rfc8785(seq: int, vh: str, time_ms: int, deactivated: bool,
                                    document: dict[str, object]) -> None:
    version = DidVersion(seq, vh, time_ms, document, deactivated)
    assert encode_version(seq, vh, time_ms, deactivated, canonicalize(document)) \
        == encode(version_to_json(version))


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(TEXT, JSON, max_size=4), st.lists(TEXT, max_size=3))
def test_textual_substitution_equals_structural(template: dict[str, object], values: list[str]) -> None:
    template = {**template, "refs": [f"{v}{PLACEHOLDER_DID}#k" for v in values], "id": PLACEHOLDER_DID}
    if placeholder_in_keys(template):
        return
    did = "did:ledgr:PPAkc5QjgV515svzvMcyqF"
    assert substitute_canonical(canonicalize(template), did) == canonicalize(substitute(template, did))


def test_placeholder_in_member_names_is_detected() -> None:
    assert placeholder_in_keys({"a": [{PLACEHOLDER_DID + "x": 1}]})
    assert not placeholder_in_keys({"a": [PLACEHOLDER_DID]})
