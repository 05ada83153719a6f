"""The orjson fast path of canonical_json must equal RFC 8785 (the rfc8785 package)
byte for byte on every value it takes, and hand everything else to the reference."""

from __future__ import annotations

import rfc8785
from hypothesis import given, settings
from hypothesis import strategies as st

from cityshield.signing.jcs import _plain, canonical_json

keys = st.text(max_size=12) | st.text(alphabet=st.characters(max_codepoint=127), max_size=12)
scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**53) + 1, max_value=2**53 - 1)
    | st.text(max_size=30)
    | st.sampled_from(["\u2028", "\u007f", "\ufeff", "\U0001f600", "\t\n\r\b\f", "é\u0301"])
)
values = st.recursive(
    scalars,
    lambda children: st.lists(children, max_size=5) | st.dictionaries(keys, children, max_size=5),
    max_leaves=40,
)


@settings(max_examples=600, deadline=None)
@given(values)
def test_fast_path_equals_rfc8785(value: object) -> None:
    try:
        expected = rfc8785.dumps(value)
    except rfc8785.CanonicalizationError:
        return  # e.g. lone surrogates: the reference refuses, and so do we below
    assert canonical_json(value) == expected


@settings(max_examples=300, deadline=None)
@given(
    st.dictionaries(
        st.text(alphabet=st.characters(min_codepoint=0xE000), min_size=1), scalars, min_size=2
    )
)
def test_non_ascii_keys_take_the_reference_path(value: dict) -> None:
    assert not _plain(value)
    assert canonical_json(value) == rfc8785.dumps(value)


def test_floats_and_big_integers_take_the_reference_path() -> None:
    for value in [{"a": 1.0}, {"a": 1e21}, {"a": -0.0}, {"a": 2**53}]:
        assert not _plain(value)
    assert canonical_json({"b": 1.0, "a": 1e21}) == rfc8785.dumps({"b": 1.0, "a": 1e21})


def test_utf16_key_order_case() -> None:
    value = {"\ue000": 1, "\U0001f600": 2}
    assert canonical_json(value) == rfc8785.dumps(value)
