"""strictjson.loads refuses exactly the documents with a repeated key, whatever the
spelling (escapes, whitespace, colons inside strings), and otherwise equals orjson.loads.

The reference is ``json.loads`` with ``object_pairs_hook``; documents are written by a
serialiser of our own that may repeat keys and escape any character, ``:`` included.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cityshield import strictjson
from cityshield.errors import DuplicateKey


@dataclass(frozen=True)
class Obj:
    """A JSON object as written: its pairs in order, repeats allowed."""

    pairs: tuple[tuple[str, Any], ...]


keys = st.text(alphabet='ab:"\\é\u003a/ ', max_size=3)
scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**53), max_value=2**53)
    | st.text(alphabet='xy:"\\\n\u00e9\U0001f600 ', max_size=6)
)
trees = st.recursive(
    scalars,
    lambda children: (
        st.lists(children, max_size=4).map(tuple)
        | st.lists(st.tuples(keys, children), max_size=4).map(lambda p: Obj(tuple(p)))
    ),
    max_leaves=25,
)


def _string(text: str, rng: random.Random) -> str:
    out = []
    for char in text:
        roll = rng.random()
        if char in '"\\' or char < " " or roll < 0.25:
            units = [ord(char)]
            if ord(char) >= 0x10000:  # astral: a surrogate pair
                high, low = divmod(ord(char) - 0x10000, 0x400)
                units = [0xD800 + high, 0xDC00 + low]
            for unit in units:
                code = f"{unit:04x}"
                out.append("\\u" + (code.upper() if rng.random() < 0.5 else code))
        else:
            out.append(char)
    return '"' + "".join(out) + '"'


def _write(value: Any, rng: random.Random) -> str:
    space = rng.choice(["", " ", "\n  ", "\t"])
    if isinstance(value, Obj):
        members = [f"{_string(k, rng)}{space}:{space}{_write(v, rng)}" for k, v in value.pairs]
        return "{" + space + f",{space}".join(members) + space + "}"
    if isinstance(value, tuple):
        return "[" + f",{space}".join(_write(v, rng) for v in value) + "]"
    if isinstance(value, str):
        return _string(value, rng)
    return json.dumps(value)


def _reference_has_duplicate(text: str) -> bool:
    found = False

    def hook(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        nonlocal found
        found = found or len({k for k, _ in pairs}) != len(pairs)
        return dict(pairs)

    json.loads(text, object_pairs_hook=hook)
    return found


@settings(max_examples=600, deadline=None)
@given(trees, st.randoms(use_true_random=False))
def test_refuses_exactly_the_documents_with_duplicates(tree: Any, rng: random.Random) -> None:
    text = _write(tree, rng).encode()
    if _reference_has_duplicate(text.decode()):
        with pytest.raises(DuplicateKey):
            strictjson.loads(text)
        with pytest.raises(DuplicateKey):
            strictjson.loads_reference(text)
    else:
        assert strictjson.loads(text) == orjson.loads(text)
        assert strictjson.loads_reference(text) == json.loads(text)


def test_names_the_key_and_its_place() -> None:
    text = b'{"objects":[{"a":1},{"id":"x","ext":{"k-1":{"p":1,"p":2}}}]}'
    with pytest.raises(DuplicateKey) as caught:
        strictjson.loads(text)
    assert caught.value.details == {"key": "p", "path": "objects[1].ext.k-1.p"}
    assert "objects[1].ext.k-1.p" in caught.value.description
    with pytest.raises(DuplicateKey) as caught:
        strictjson.loads(b'{"a b":{"":1,"":2}}')
    assert caught.value.details["path"] == '["a b"][""]'


def test_escaped_spelling_of_the_same_key_is_a_duplicate() -> None:
    with pytest.raises(DuplicateKey):
        strictjson.loads(b'{"pattern":"[a]","p\\u0061ttern":"[b]"}')


def test_an_escaped_colon_does_not_hide_a_duplicate() -> None:
    """One ``\\u003a`` in a value must not cancel the colon the dropped key took away."""
    with pytest.raises(DuplicateKey):
        strictjson.loads(b'{"a":"\\u003a","a":"x"}')
    assert strictjson.loads(b'{"a":"\\\\u003a"}') == {"a": "\\u003a"}  # over-count: fine


def test_a_duplicate_inside_an_overwritten_value_is_reported() -> None:
    with pytest.raises(DuplicateKey) as caught:
        strictjson.loads(b'{"a":{"b":1,"b":2},"a":3}')
    assert caught.value.details["path"] in ("a", "a.b")


def test_deeper_than_orjson_writes() -> None:
    deep = b'{"k":' * 300 + b"1" + b"}" * 300
    assert strictjson.loads(deep) == orjson.loads(deep)
    with pytest.raises(DuplicateKey):
        strictjson.loads(b'{"k":' * 300 + b'{"d":1,"d":2}' + b"}" * 300)


def test_invalid_json_raises_what_orjson_raises() -> None:
    with pytest.raises(orjson.JSONDecodeError):
        strictjson.loads(b'{"a":')
