"""JSON parsing that refuses duplicate keys, at orjson's speed.

RFC 8259 only says keys *should* be unique; parsers differ on which of two values wins
(orjson and ``json`` keep the last, others the first or refuse). A signed STIX object
with ``"pattern"`` twice would verify here and mean something else to a member's tool, so
every JSON document the hub or the CLI accepts from outside goes through this module,
and a duplicate is an error naming the key and where it is (``objects[3].pattern``).

orjson cannot report duplicates, and ``json.loads(object_pairs_hook=...)`` can but costs
~2-3x orjson's parse. So :func:`loads` parses with orjson and proves the absence of
duplicates by counting colons: one re-serialisation and two or three ``bytes.count``
passes. Measured on envelopes of 500-1000 signed indicators (0.3-0.9 MB, 2 busy cores):
orjson parses in 5-9 ms/MB, the check adds 4-5 ms/MB (about 1-2% of ingest, ~400 ms per
MB), ``json.loads`` with the hook takes 15-20 ms/MB. Why counting is exact:

- Outside strings, valid JSON has exactly one ``:`` per key. So the text holds
  ``keys + colons inside its strings`` colon bytes, where a colon inside a string is
  written either as ``:`` or as the escape ``\\u003a``/``\\u003A``.
- orjson's re-serialisation of what it kept holds ``kept keys + colons inside the kept
  strings`` colons (orjson never escapes ``:``).
- With no duplicate, the kept keys and strings are exactly the text's, so
  ``text colons + escapes == re-serialised colons``. Each duplicate drops at least its
  key's colon, plus whatever the overwritten value held, and parsing adds nothing: the
  text's side is then larger by at least one. Counting the escape as a plain substring
  can only over-count (``"\\\\u003a"`` is an escaped backslash), which makes the sides
  differ without a duplicate, never agree with one.

When the sides differ, the slow parser (:func:`loads_reference`) reads the text again to
name the duplicate; if it finds none, the document is accepted.
"""

from __future__ import annotations

import json
import re
from typing import Any

import orjson

from cityshield.errors import DuplicateKey

_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")


def loads(data: bytes | bytearray) -> Any:
    """Parse like ``orjson.loads`` (same errors), refusing duplicate keys."""
    value = orjson.loads(data)
    text_colons = data.count(b":")
    if text_colons == 0:
        return value
    escaped = 0
    if b"\\u003" in data:  # one pass in the usual case, where no colon is escaped
        escaped = data.count(b"\\u003a") + data.count(b"\\u003A")
    try:
        kept_colons = orjson.dumps(value).count(b":")
    except orjson.JSONEncodeError:  # nested deeper than orjson writes: decide slowly
        kept_colons = -1
    if text_colons + escaped != kept_colons:
        loads_reference(data)
    return value


def loads_reference(data: bytes | bytearray | str) -> Any:
    """Parse with the standard library, refusing duplicate keys: slow, but integers stay
    exact (orjson reads those beyond 64 bits as floats). Raises DuplicateKey, or
    ValueError if the text is not JSON."""
    duplicated: list[tuple[dict[str, Any], str]] = []

    def pairs_hook(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        obj = dict(pairs)
        if len(obj) != len(pairs):
            duplicated.append((obj, _first_repeated(pairs)))
        return obj

    try:
        value = json.loads(data, object_pairs_hook=pairs_hook)
    except RecursionError as exc:
        raise ValueError("nested too deeply") from exc
    if duplicated:
        # ``duplicated`` keeps every such object alive, so no id() in it is reused.
        keys = {id(obj): key for obj, key in duplicated}
        path, key = _first_duplicate(value, "", keys) or ("", duplicated[0][1])
        where = f"{path}{_member(key)}".removeprefix(".")
        raise DuplicateKey(
            f"{where} is given twice in one JSON object: parsers disagree on which value "
            "counts, so the document is refused.",
            key=key,
            path=where,
        )
    return value


def _first_repeated(pairs: list[tuple[str, Any]]) -> str:
    seen: set[str] = set()
    for key, _ in pairs:
        if key in seen:
            return key
        seen.add(key)
    raise AssertionError("no repeated key")


def _first_duplicate(value: Any, path: str, keys: dict[int, str]) -> tuple[str, str] | None:
    """(path of the object, key) of the first duplicate in document order; None when it
    sits inside a value that a later duplicate overwrote (then the caller names that)."""
    if isinstance(value, dict):
        if id(value) in keys:
            return path, keys[id(value)]
        for key, item in value.items():
            found = _first_duplicate(item, f"{path}{_member(key)}", keys)
            if found:
                return found
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found = _first_duplicate(item, f"{path}[{index}]", keys)
            if found:
                return found
    return None


def _member(key: str) -> str:
    return f".{key}" if _IDENTIFIER.fullmatch(key) else f"[{json.dumps(key)}]"
