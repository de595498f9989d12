"""The JCS fast path (``json.dumps``) produces exactly RFC 8785's bytes wherever it is taken."""

from __future__ import annotations

from typing import Any

import pytest
import rfc8785
from hypothesis import given, settings
from hypothesis import strategies as st

from ledgr.crypto import canonicalize
from ledgr.crypto.jcs import _fast_path_applies
from ledgr.errors import InvalidDocument

# Keys and strings deliberately include control characters, U+007F, U+2028, non-BMP characters and
# characters between U+E000 and U+FFFF, where UTF-16 and code-point order differ.
characters = st.characters(codec="utf-8") | st.sampled_from(["\x00", "\x1f", "\x7f", "\u2028", "\ue000",
                                                              "\uffff", "\U0001f600", '"', "\\"])
strings = st.text(characters, max_size=6)
scalars = (st.none() | st.booleans() | st.integers(min_value=-(2**60), max_value=2**60) | strings
           | st.floats(allow_nan=False, allow_infinity=False))
json_values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=4)
                           | st.dictionaries(strings, inner, max_size=4), max_leaves=12)


@settings(max_examples=400, deadline=None)
@given(json_values)
def test_same_bytes_as_rfc8785(value: Any) -> None:
    try:
        expected = rfc8785.dumps(value)
    except rfc8785.CanonicalizationError:
        with pytest.raises(InvalidDocument):
            canonicalize(value)
        return
    assert canonicalize(value) == expected


@pytest.mark.parametrize(("value", "fast"), [
    ({"a": [1, "x", None, True]}, True),
    ({"é": "ü\n\x01"}, True),
    ({"a": 1.5}, False),
    ({"a": 2**53}, False),
    ({"\U0001f600": 1}, False),
    ({"a": "\ud800"}, False),
])
def test_fast_path_is_taken_only_where_it_is_exact(value: Any, fast: bool) -> None:
    assert _fast_path_applies(value) is fast


def test_lone_surrogate_is_still_an_error() -> None:
    with pytest.raises(InvalidDocument):
        canonicalize({"a": "\ud800"})
